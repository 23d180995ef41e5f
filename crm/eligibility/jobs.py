"""Background work of the eligibility package: the daily recomputation of every stored
assessment, and recomputing the firms a bulk change touched.

Results that depend only on the date (a firm passing its first year, a settings version dated
in the future) change overnight, so the worker recomputes every firm once a day under a lease.
Imports write thousands of firms with set-based statements, which the session listener that
keeps assessments current does not see; they queue `eligibility.refresh` for the firms touched.
"""

from typing import Any

from crm.core import clock
from crm.eligibility.services import CHUNK, refresh_assessments
from crm.jobs import registry

DAY = 24 * 60 * 60


@registry.periodic("eligibility.assess", seconds=DAY)
def assess_every_firm() -> int:
    """Recompute every firm's assessment for today; return how many rows were added."""
    return refresh_assessments(None, clock.today())


@registry.handler("eligibility.refresh", label="更新预评估")
def refresh_job(job, progress) -> dict[str, Any]:
    """Recompute the assessments of the firms named in the payload, reporting progress."""
    firm_ids = sorted(set((job.payload or {}).get("firm_ids") or []))
    today = clock.today()
    written = 0
    for start in range(0, len(firm_ids), CHUNK):
        written += refresh_assessments(firm_ids[start : start + CHUNK], today)
        done = min(start + CHUNK, len(firm_ids))
        progress.update(done, len(firm_ids), f"已评估 {done}/{len(firm_ids)} 家企业")
    return {"message": f"已重新评估 {len(firm_ids)} 家企业，{written} 家的结果有更新。"}
