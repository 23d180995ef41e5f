"""Upkeep run by the worker: the database's log, and the files jobs leave behind."""

from datetime import timedelta

from flask import current_app

from crm.core import clock
from crm.core.database import checkpoint
from crm.extensions import db
from crm.jobs.files import remove_files_before
from crm.jobs.registry import periodic

HOUR = 60 * 60
DAY = 24 * HOUR


@periodic("database.checkpoint", seconds=HOUR)
def checkpoint_hourly() -> tuple[int, int, int] | None:
    """Empty SQLite's write-ahead log into the database, so the file never stays large."""
    return checkpoint(db.engine)


@periodic("jobs.files", seconds=DAY)
def remove_old_files_daily() -> int:
    """Delete the files of jobs older than UPLOAD_RETENTION_DAYS; return how many jobs had one."""
    days = current_app.config["UPLOAD_RETENTION_DAYS"]
    return remove_files_before(clock.utcnow() - timedelta(days=days))
