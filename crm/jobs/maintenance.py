"""Upkeep of the database itself, run by the worker."""

from crm.core.database import checkpoint
from crm.extensions import db
from crm.jobs.registry import periodic

HOUR = 60 * 60


@periodic("database.checkpoint", seconds=HOUR)
def checkpoint_hourly() -> tuple[int, int, int] | None:
    """Empty SQLite's write-ahead log into the database, so the file never stays large."""
    return checkpoint(db.engine)
