"""The daily removal of attachment files no row names."""

import os
from datetime import datetime, timedelta
from io import BytesIO

from werkzeug.datastructures import FileStorage

from crm.extensions import db
from crm.jobs.registry import periodic_jobs
from crm.portal import attachments
from crm.portal.jobs import remove_orphan_files
from tests import factories

NOW = datetime(2026, 12, 4, 8, 0)


def _aged(path, days: float):
    stamp = (NOW - timedelta(days=days) - datetime(1970, 1, 1)).total_seconds()
    os.utime(path, (stamp, stamp))
    return path


def test_only_old_files_no_row_names_are_removed(app, tmp_path):
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path)
    firm = factories.make_firm()
    upload = FileStorage(BytesIO(b"%PDF-1.4 kept"), filename="证明.pdf")
    kept = attachments.store(upload, firm_id=firm.id, owner_kind="request", owner_id=1, user=None)
    db.session.commit()
    folder = tmp_path / str(firm.id)
    _aged(attachments.path_of(kept), 30)
    orphan = folder / ("ab" * 16)
    orphan.write_bytes(b"left by a failed commit")
    _aged(orphan, 2)
    fresh = folder / ("cd" * 16)
    fresh.write_bytes(b"an upload whose request is still committing")
    _aged(fresh, 0.1)
    temporary = folder / ".upload-x1y2"
    temporary.write_bytes(b"half written")
    _aged(temporary, 3)
    other = folder / "README.txt"
    other.write_bytes(b"not ours")
    _aged(other, 30)

    assert remove_orphan_files(NOW) == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [kept.stored_name, fresh.name, other.name]
    )
    assert remove_orphan_files(NOW) == 0


def test_the_worker_runs_it_daily(app):
    [spec] = [job for job in periodic_jobs() if job.name == "portal.attachments"]
    assert spec.seconds == 24 * 60 * 60
