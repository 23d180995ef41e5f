"""The tables of background work: queued jobs and the leases of periodic work."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db
from crm.jobs.registry import kind_label

JOB_STATUSES = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}


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


class Lease(TimestampMixin, db.Model):
    """The right to run the periodic work `name`, held by one scheduler until it expires."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The worker holding the lease.
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
