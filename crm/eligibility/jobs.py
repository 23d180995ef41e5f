"""Background work of the eligibility package: the daily scan of stored assessments, and
recomputing the firms a bulk change touched.

Results that depend only on the date (a firm passing its first year, a certificate issued or
expiring, a new year, a settings version dated in the future) change overnight, so the worker
runs the daily scan under a lease; it recomputes only the firms whose result the date may have
moved (`firms_due`). An ordinary day's few firms are recomputed on the spot; a day that moves many
(the first of January, a settings version taking effect) queues `eligibility.reassess`, which
shows its progress on the jobs page. Imports write thousands of firms with set-based statements,
which the session listener that keeps assessments current does not see; they queue
`eligibility.refresh` for the firms touched.
"""

from datetime import date
from typing import Any

from sqlalchemy import select

from crm.core import clock
from crm.eligibility.services import CHUNK, firms_due, reassess_due, refresh_assessments
from crm.extensions import db
from crm.jobs import queue, registry
from crm.jobs.models import Job

DAY = 24 * 60 * 60
#: The most firms the daily scan recomputes itself; more go to a background job with progress.
INLINE_LIMIT = 10_000
REASSESS = "eligibility.reassess"


@registry.periodic("eligibility.assess", seconds=DAY)
def assess_every_firm() -> int:
    """Recompute the firms whose assessment today's date may have moved; return the rows added.

    When there are many, queue the background reassessment (once) and return 0.
    """
    today = clock.today()
    due, _ = firms_due(today)
    if len(due) <= INLINE_LIMIT:
        return refresh_assessments(due, today)
    waiting = select(Job.id).where(Job.kind == REASSESS, Job.status.in_(("queued", "running")))
    if db.session.scalar(waiting.limit(1)) is None:
        queue.enqueue(REASSESS)
    return 0


def _reporter(progress):
    def report(done: int, total: int) -> None:
        progress.update(done, total, f"已评估 {done}/{total} 家企业")

    return report


@registry.handler(REASSESS, label="每日重新评估")
def reassess_job(job, progress) -> dict[str, Any]:
    """Recompute the firms whose assessment today's date may have moved, reporting progress."""
    scan = reassess_due(clock.today(), _reporter(progress))
    return {
        "message": f"已检查 {scan.checked} 家企业，重新评估 {scan.recomputed} 家，"
        f"{scan.written} 家的结果有更新。"
    }


def _refresh(firm_ids: list[int], today: date, progress) -> int:
    report = _reporter(progress)
    written = 0
    for start in range(0, len(firm_ids), CHUNK):
        written += refresh_assessments(firm_ids[start : start + CHUNK], today)
        report(min(start + CHUNK, len(firm_ids)), len(firm_ids))
    return written


@registry.handler("eligibility.refresh", label="更新预评估")
def refresh_job(job, progress) -> dict[str, Any]:
    """Recompute the assessments of the firms named in the payload, reporting progress."""
    firm_ids = sorted(set((job.payload or {}).get("firm_ids") or []))
    written = _refresh(firm_ids, clock.today(), progress)
    return {"message": f"已重新评估 {len(firm_ids)} 家企业，{written} 家的结果有更新。"}
