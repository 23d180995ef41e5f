"""Background jobs: a queue in the `jobs` table, run by a worker that writes progress back.

A web request enqueues a job, commits, and sends the user to the job's page, which polls the row.
A worker (`flask crm worker`, or the thread `flask crm serve` starts) claims queued jobs
atomically and runs their handlers. A handler's database work is one transaction, committed
together with the job's `done` status or rolled back entirely when the handler fails. Progress
reaches the row through a separate connection, so pages see it while that transaction is open.
Periodic work runs under a lease row, so one scheduler acts at a time however many workers run.
"""

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core import clock
from crm.core.audit import audit_source
from crm.core.leases import Lease, acquire_lease, periodic, periodic_jobs, run_periodic
from crm.core.models import TimestampMixin
from crm.core.progress import Progress, heartbeat, shown_progress
from crm.extensions import db

logger = logging.getLogger(__name__)

JOB_STATUSES = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
DEAD_MESSAGE = "任务中断：处理进程已停止，请重新提交"
_MESSAGE_LIMIT = 2000


class JobError(Exception):
    """An expected failure of a job; its Chinese message is shown to the user verbatim."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Job(TimestampMixin, db.Model):
    """One piece of background work: what to do, how far it got, and how it ended."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        Index("ix_jobs_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The registered handler that runs the job (see `handler`).
    kind: Mapped[str] = mapped_column(String(40))
    #: The handler's arguments; `source` sets the audit source, `next_url` the page to go on to.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    #: Percent done, 0–100.
    progress: Mapped[int] = mapped_column(default=0)
    #: What the handler is doing now, e.g. 正在校验第 1200/50000 行.
    progress_text: Mapped[str | None] = mapped_column(String(200))
    #: The result or the error, in Chinese, for the user.
    message: Mapped[str | None] = mapped_column(Text)
    #: The handler's summary of what it did.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The file the job produced: <id>/<file> in the jobs' files folder (instance/jobs).
    result_path: Mapped[str | None] = mapped_column(String(255))
    #: The file's name for the download, in Chinese.
    result_name: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The worker running or that ran the job: host, process and a random suffix.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: Last sign of life from the worker; a running job without one for long is failed.
    heartbeat_at: Mapped[datetime | None]

    created_by = relationship("User")

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return JOB_STATUSES.get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        """Return what the job does, in Chinese."""
        return kind_label(self.kind)

    @property
    def is_finished(self) -> bool:
        """Tell whether the job is done or failed."""
        return self.status in ("done", "failed")


@dataclass(frozen=True)
class HandlerSpec:
    """A registered job handler and the Chinese label of its kind."""

    kind: str
    label: str
    fn: Callable[[Job, Progress], dict[str, Any] | None]


_handlers: dict[str, HandlerSpec] = {}
#: Result files the running handlers announced, recorded when the job is done.
_result_files: dict[int, tuple[str, str]] = {}


def handler(kind: str, label: str | None = None) -> Callable:
    """Register `fn(job, progress) -> dict | None` as the handler of the jobs of `kind`.

    The handler flushes and never commits; the runner commits once when it returns. A returned
    dict is stored as the job's result, and its `message`, if any, is shown to the user.
    """

    def decorator(fn: Callable) -> Callable:
        known = _handlers.get(kind)
        if known and (known.fn.__module__, known.fn.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise RuntimeError(f"job kind {kind!r} is already handled by {known.fn.__qualname__}")
        _handlers[kind] = HandlerSpec(kind, label or kind, fn)
        return fn

    return decorator


def kind_label(kind: str) -> str:
    """Return the Chinese label of a job kind."""
    spec = _handlers.get(kind)
    return spec.label if spec else kind


def enqueue(kind: str, payload: dict[str, Any] | None = None, user=None) -> Job:
    """Add a queued job of `kind` for `user` and flush it; the caller commits."""
    if kind not in _handlers:
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
    session = db.session
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
        return session.get(Job, job_id)
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
                return session.get(Job, job_id)
        session.rollback()


class _Abandoned(Exception):
    """The job was failed by the sweep while its handler was still running."""


def run_job(job_id: int, worker_id: str) -> Job | None:
    """Run a job claimed by `worker_id` in one transaction and record how it ended; return it."""
    session = db.session
    job = session.get(Job, job_id)
    if job is None or job.status != "running" or job.claimed_by != worker_id:
        logger.warning("job %s is not running for worker %s; not run", job_id, worker_id)
        session.rollback()
        return job
    kind = job.kind
    spec = _handlers.get(kind)
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
        _remove_files(job_id)
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
        _result_files.pop(job_id, None)
    return session.get(Job, job_id)


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
    if job.id in _result_files:
        values["result_path"], values["result_name"] = _result_files[job.id]
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
    _remove_files(job_id)


def files_folder() -> Path:
    """Return the folder that keeps the files jobs produce (instance/jobs unless configured)."""
    configured = current_app.config.get("JOB_FILES_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "jobs"


def job_folder(job_id: int) -> Path:
    """Return the folder that keeps one job's files."""
    return files_folder() / str(job_id)


def result_file(job: Job, name: str) -> Path:
    """Return where the handler writes the job's file; the user downloads it as `name`.

    The row learns of the file when the job is done, so the handler's transaction never locks
    the job row (progress writes go to that row from another connection).
    """
    folder = job_folder(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    filename = "result" + Path(name).suffix.lower()
    _result_files[job.id] = (f"{job.id}/{filename}", name)
    return folder / filename


def result_path(job: Job) -> Path | None:
    """Return the job's file on disk, if it produced one and the file is still there."""
    if not job.result_path:
        return None
    root = files_folder().resolve()
    path = (root / job.result_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _remove_files(job_id: int) -> None:
    shutil.rmtree(job_folder(job_id), ignore_errors=True)


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


def __getattr__(name: str):
    # The worker lives in its own module, loaded on use so web processes never import APScheduler.
    if name == "Worker":
        from crm.core.worker import Worker

        return Worker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEAD_MESSAGE",
    "JOB_STATUSES",
    "Job",
    "JobError",
    "Lease",
    "Progress",
    "acquire_lease",
    "claim_next",
    "enqueue",
    "files_folder",
    "handler",
    "heartbeat",
    "job_folder",
    "kind_label",
    "periodic",
    "periodic_jobs",
    "result_file",
    "result_path",
    "run_job",
    "run_periodic",
    "shown_progress",
    "sweep_dead_jobs",
]
