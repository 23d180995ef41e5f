"""How long uploaded workbooks are kept, and how many a user may upload in an hour.

An uploaded file holds a whole list of firms. It is deleted once UPLOAD_RETENTION_DAYS have
passed, by a daily job of the worker, unless its batch was applied and not undone (the batch
page offers the undo and the annotated file). The batch keeps its rows and says when its file
was deleted.
"""

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from crm.core import clock
from crm.excel.models import ImportBatch
from crm.extensions import db
from crm.jobs.registry import periodic

DAY = 24 * 60 * 60


class UploadLimitReached(ValueError):
    """A user uploaded as many workbooks as an hour allows; the message is in Chinese."""


def batch_folder(batch_id: int) -> Path:
    """Return the folder under the instance folder that keeps a batch's uploaded file."""
    return Path(current_app.instance_path) / "imports" / str(batch_id)


def check_upload_allowed(user) -> None:
    """Refuse a further upload by `user` once the hourly number (UPLOADS_PER_HOUR) is reached."""
    if user is None:
        return
    limit = current_app.config["UPLOADS_PER_HOUR"]
    since = clock.utcnow() - timedelta(hours=1)
    uploaded = db.session.scalar(
        select(func.count(ImportBatch.id)).where(
            ImportBatch.created_by_id == user.id, ImportBatch.created_at > since
        )
    )
    if uploaded >= limit:
        raise UploadLimitReached(
            f"每小时最多上传 {limit} 个文件，您在过去一小时内已上传 {uploaded} 个，请稍后再试。"
        )


def remove_expired_uploads(now: datetime) -> int:
    """Delete the files of batches older than the retention period; return how many; flush.

    Batches that were applied and not undone keep their files.
    """
    cutoff = now - timedelta(days=current_app.config["UPLOAD_RETENTION_DAYS"])
    batches = db.session.scalars(
        select(ImportBatch).where(
            ImportBatch.created_at < cutoff,
            ImportBatch.file_removed_at.is_(None),
            ImportBatch.status != "applied",
        )
    ).all()
    for batch in batches:
        shutil.rmtree(batch_folder(batch.id), ignore_errors=True)
        batch.file_removed_at = now
    db.session.flush()
    return len(batches)


@periodic("excel.uploads", seconds=DAY)
def remove_expired_uploads_daily() -> int:
    """Delete the uploaded files whose retention has ended; return how many batches lost one."""
    return remove_expired_uploads(clock.utcnow())
