"""The portal's periodic work: removing files that no attachment names.

A file is written before its row is flushed, and the request that stored it commits later; a
commit that fails (or a process stopped mid-write) leaves a file no row names. Once a day the
worker removes such files, and the temporary files of interrupted uploads, when they are older
than a day, so that an upload still under way is never touched.
"""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.jobs.registry import periodic
from crm.portal.attachments import attachments_folder
from crm.portal.models import Attachment

DAY = 24 * 60 * 60
#: How old a file no row names must be before it is removed.
GRACE = timedelta(days=1)
#: The names `store` gives: a stored file, and the temporary file it is written to first.
STORED_NAME = re.compile(r"[0-9a-f]{32}")
TEMPORARY_PREFIX = ".upload-"


def remove_orphan_files(now: datetime) -> int:
    """Remove the attachment files no row names, and left-over temporary files, older than
    `GRACE` at `now` (naive UTC); return how many. Other files are left alone."""
    root = attachments_folder()
    if not root.is_dir():
        return 0
    cutoff = (now - GRACE).replace(tzinfo=UTC).timestamp()
    removed = 0
    for folder in root.iterdir():
        if not (folder.is_dir() and folder.name.isdigit()):
            continue
        named = set(
            db.session.scalars(
                select(Attachment.stored_name).where(Attachment.firm_id == int(folder.name))
            )
        )
        for path in folder.iterdir():
            stray = path.name.startswith(TEMPORARY_PREFIX) or (
                STORED_NAME.fullmatch(path.name) is not None and path.name not in named
            )
            if stray and path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


@periodic("portal.attachments", seconds=DAY)
def remove_orphan_files_daily() -> int:
    """Remove the attachment files no row names; return how many."""
    return remove_orphan_files(clock.utcnow())
