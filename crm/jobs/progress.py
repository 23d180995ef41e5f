"""Progress and heartbeats of running jobs, written to the job row beside the handler's work.

A handler's own transaction stays open until the job ends, so what it writes is invisible to the
job's page until then. Progress therefore goes to the row through a separate connection, each
write its own short transaction; writes are throttled, and the same write refreshes the job's
heartbeat, which tells the sweep (`crm.jobs.queue.sweep_dead_jobs`) that the worker is alive.
"""

import logging
import time

from flask import current_app
from sqlalchemy import Table, update
from sqlalchemy.exc import DBAPIError

from crm.core import clock
from crm.core.database import BUSY_TIMEOUT_MS
from crm.extensions import db
from crm.jobs.models import Job

logger = logging.getLogger(__name__)

#: How long a progress write on SQLite waits for the database before it is skipped.
PROGRESS_BUSY_TIMEOUT_MS = 50
#: The latest progress of the jobs this process is running (see `shown_progress`).
_live: dict[int, tuple[str, int, str | None]] = {}


def _jobs_table() -> Table:
    return Job.__table__


def _side_write(statement) -> bool:
    """Run `statement` in its own short transaction on a separate connection; tell if it worked."""
    engine = db.engine
    dialect = engine.dialect.name
    try:
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            if dialect == "sqlite":
                # SQLite allows one writer at a time: while the handler's transaction holds
                # uncommitted writes, no other connection may write until it commits. Progress
                # comes from the handler's own thread, so waiting would only stall the handler:
                # give up almost at once and skip this write. A later one, or the job's end,
                # brings the row up to date; pages served by this process read `_live` meanwhile.
                # Set before the transaction opens: its BEGIN IMMEDIATE already waits.
                driver.execute(f"PRAGMA busy_timeout = {PROGRESS_BUSY_TIMEOUT_MS}")
            try:
                if dialect == "postgresql":
                    # Only a handler that changed its own job row holds its lock; do not wait.
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                connection.execute(statement)
                connection.commit()
            finally:
                if dialect == "sqlite":
                    connection.rollback()
                    driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except DBAPIError as error:
        logger.debug("skipped a job progress write: %s", error)
        return False
    return True


class Progress:
    """Report a running job's progress to its row, where the job's page reads it."""

    def __init__(self, job_id: int, worker_id: str, interval: float | None = None):
        self.job_id = job_id
        self.worker_id = worker_id
        #: Least seconds between two writes to the row.
        self.interval = (
            current_app.config.get("JOB_PROGRESS_SECONDS", 0.3) if interval is None else interval
        )
        self.percent = 0
        self.text: str | None = None
        self._written_at: float | None = None

    def update(
        self, done: int, total: int | None = None, text: str | None = None, *, force: bool = False
    ) -> None:
        """Record that `done` of `total` units are finished, with a short Chinese status text."""
        if total:
            # 100 is kept for the finished job.
            self.percent = max(0, min(99, done * 100 // total))
        if text is not None:
            self.text = text[:200]
        # Pages served by this same process (`flask crm serve`) read this even when the row
        # cannot be written (see `_side_write`).
        _live[self.job_id] = (self.worker_id, self.percent, self.text)
        if self._due(force):
            self._write(progress=self.percent, progress_text=self.text)

    def heartbeat(self) -> None:
        """Tell the sweep that the job's worker is still alive (updates do this too)."""
        if self._due(False):
            self._write()

    def _due(self, force: bool) -> bool:
        now = time.monotonic()
        if force or self._written_at is None or now - self._written_at >= self.interval:
            self._written_at = now
            return True
        return False

    def close(self) -> None:
        """Forget the in-process progress of the job; the runner calls this when the job ends."""
        _live.pop(self.job_id, None)

    def _write(self, **values) -> bool:
        table = _jobs_table()
        statement = (
            update(table)
            .where(
                table.c.id == self.job_id,
                table.c.status == "running",
                table.c.claimed_by == self.worker_id,
            )
            .values(heartbeat_at=clock.utcnow(), **values)
        )
        return _side_write(statement)


def shown_progress(job) -> tuple[int, str | None]:
    """Return the percent and status text to show for `job`.

    A job run by this same process may be further along than its row says: on SQLite the row
    cannot be written while the handler's transaction holds writes.
    """
    worker_id, percent, text = _live.get(job.id, (None, 0, None))
    if job.status == "running" and worker_id == job.claimed_by:
        return percent, text
    return job.progress, job.progress_text


def heartbeat(worker_id: str) -> bool:
    """Refresh the heartbeat of the jobs `worker_id` is running."""
    table = _jobs_table()
    return _side_write(
        update(table)
        .where(table.c.status == "running", table.c.claimed_by == worker_id)
        .values(heartbeat_at=clock.utcnow())
    )
