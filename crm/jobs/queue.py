"""The queue: jobs enqueued by requests, claimed and run by workers, swept when abandoned.

A web request enqueues a job, commits, and sends the user to the job's page, which polls the row.
A worker (`flask crm worker`, or the thread `flask crm serve` starts) claims queued jobs
atomically and runs their handlers (`crm.jobs.registry`). A handler's database work is one
transaction, committed together with the job's `done` status or rolled back entirely when the
handler fails. Progress reaches the row through a separate connection (`crm.jobs.progress`), so
pages see it while that transaction is open.
"""

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError

from crm.core import clock
from crm.core.audit import audit_source
from crm.core.database import write_transactions
from crm.extensions import db
from crm.jobs import files
from crm.jobs.models import Job
from crm.jobs.progress import Progress
from crm.jobs.registry import handler_of, periodic

logger = logging.getLogger(__name__)

DEAD_MESSAGE = "任务中断：处理进程已停止，请重新提交"
_MESSAGE_LIMIT = 2000


class JobError(Exception):
    """An expected failure of a job; its Chinese message is shown to the user verbatim."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def enqueue(kind: str, payload: dict[str, Any] | None = None, user=None) -> Job:
    """Add a queued job of `kind` for `user` and flush it; the caller commits."""
    if handler_of(kind) is None:
        raise ValueError(f"no handler is registered for job kind {kind!r}")
    creator = user.id if user is not None and getattr(user, "is_authenticated", False) else None
    job = Job(kind=kind, payload=dict(payload or {}), status="queued", created_by_id=creator)
    db.session.add(job)
    db.session.flush()
    return job


def claim_next(worker_id: str) -> Job | None:
    """Mark the oldest queued job as running for `worker_id`, commit, and return it; or None.

    The claim is atomic: two workers never take the same job. Call it with a clean session.
    """
    job_id = _claim(worker_id)
    return None if job_id is None else db.session.get(Job, job_id)


@write_transactions()
def _claim(worker_id: str) -> int | None:
    """Claim the oldest queued job for `worker_id` and commit; return its id, or None."""
    session = db.session
    # A transaction of its own, ready to write: not one a caller's read (of the job a previous
    # claim returned) opened without the write lock.
    session.rollback()
    now = clock.utcnow()
    claim = {
        "status": "running",
        "claimed_by": worker_id,
        "started_at": now,
        "heartbeat_at": now,
        "progress": 0,
    }
    queued = select(Job.id).where(Job.status == "queued").order_by(Job.id)
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.scalar(queued.limit(1).with_for_update(skip_locked=True))
        if job_id is None:
            session.rollback()
            return None
        session.execute(
            update(Job).where(Job.id == job_id).values(**claim),
            execution_options={"synchronize_session": False},
        )
        session.commit()
        return job_id
    # SQLite has no row locks: the update claims the job only if it is still queued, and a lost
    # race (rowcount 0) moves on to the next candidate.
    while True:
        candidates = session.scalars(queued.limit(20)).all()
        if not candidates:
            session.rollback()
            return None
        for job_id in candidates:
            result = session.execute(
                update(Job).where(Job.id == job_id, Job.status == "queued").values(**claim),
                execution_options={"synchronize_session": False},
            )
            if result.rowcount == 1:
                session.commit()
                return job_id
        session.rollback()


class _Abandoned(Exception):
    """The job was failed by the sweep while its handler was still running."""


def run_job(job_id: int, worker_id: str) -> Job | None:
    """Run a job claimed by `worker_id` in one transaction and record how it ended; return it.

    Call it with a clean session: on SQLite the job's transaction must open ready to write.
    """
    _run(job_id, worker_id)
    return db.session.get(Job, job_id)


@write_transactions()
def _run(job_id: int, worker_id: str) -> None:
    session = db.session
    job = session.get(Job, job_id)
    if job is None or job.status != "running" or job.claimed_by != worker_id:
        logger.warning("job %s is not running for worker %s; not run", job_id, worker_id)
        session.rollback()
        return
    kind = job.kind
    spec = handler_of(kind)
    progress = Progress(job_id, worker_id)
    # Handlers may open their own `audit_source` (imports use `import:<batch id>`); this one
    # makes the job's creator the actor of everything else.
    source = (job.payload or {}).get("source") or "system"
    try:
        if spec is None:
            raise JobError(f"系统无法处理此类任务（{kind}），请联系管理员。")
        with audit_source(source, actor_id=job.created_by_id):
            result = spec.fn(job, progress)
            _finish(job, worker_id, result)
            session.commit()
    except _Abandoned:
        session.rollback()
        logger.warning(
            "job %s was failed by the sweep while running; its work is discarded", job_id
        )
        files.remove_files(job_id)
    except JobError as error:
        session.rollback()
        logger.warning("job %s (%s) failed: %s", job_id, kind, error.message)
        _record_failure(job_id, worker_id, error.message)
    except Exception as error:
        session.rollback()
        logger.exception("job %s (%s) failed", job_id, kind)
        detail = str(error).strip() or type(error).__name__
        _record_failure(job_id, worker_id, f"任务执行出错：{detail}")
    finally:
        progress.close()
        files.forget_announced(job_id)


def _finish(job: Job, worker_id: str, result: dict[str, Any] | None) -> None:
    now = clock.utcnow()
    values: dict[str, Any] = {
        "status": "done",
        "progress": 100,
        "progress_text": None,
        "finished_at": now,
        "heartbeat_at": now,
    }
    if isinstance(result, dict):
        values["result"] = result
        if isinstance(result.get("message"), str):
            values["message"] = result["message"]
    if "message" not in values and not job.message:
        values["message"] = "任务已完成。"
    announced = files.announced_file(job.id)
    if announced is not None:
        values["result_path"], values["result_name"] = announced
    # Conditional, so a job the sweep has given up on (the user was told to resubmit) is not
    # completed as well: its work is rolled back instead.
    finished = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == "running", Job.claimed_by == worker_id)
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if finished.rowcount != 1:
        raise _Abandoned


def _record_failure(job_id: int, worker_id: str, message: str) -> None:
    now = clock.utcnow()
    try:
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running", Job.claimed_by == worker_id)
            .values(
                status="failed",
                message=message[:_MESSAGE_LIMIT],
                finished_at=now,
                heartbeat_at=now,
                result_path=None,
                result_name=None,
            ),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
    except DBAPIError:
        # The sweep fails the job once its heartbeat is old enough.
        db.session.rollback()
        logger.exception("could not record the failure of job %s", job_id)
    files.remove_files(job_id)


@periodic("jobs.sweep", seconds=60)
def sweep_dead_jobs() -> int:
    """Fail the running jobs whose worker stopped sending heartbeats; return how many, flushed."""
    minutes = current_app.config.get("JOB_DEAD_AFTER_MINUTES", 10)
    now = clock.utcnow()
    cutoff = now - timedelta(minutes=minutes)
    result = db.session.execute(
        update(Job)
        .where(
            Job.status == "running",
            or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff),
        )
        .values(status="failed", message=DEAD_MESSAGE, finished_at=now),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount:
        logger.warning("failed %s job(s) whose worker stopped", result.rowcount)
    return result.rowcount
