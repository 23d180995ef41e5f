"""How a list leaves as a workbook: the sheet it becomes, and its delivery.

A list export (`crm.core.exports.ListExport`) is written as one sheet (`write`). `deliver`
builds a small export in the request and sends it; a larger one (more than
`EXPORT_INLINE_ROWS` rows) is queued as a job that builds it again for the job's creator, with
progress, and the user is sent to the job's page, which offers the file when it is done.
"""

from collections.abc import Mapping
from io import BytesIO
from typing import Any

from flask import current_app, redirect, send_file
from werkzeug.datastructures import MultiDict

from crm.accounts.models import User
from crm.core.exports import FORMATS, ListExport, export_named
from crm.extensions import db
from crm.jobs import files, queue
from crm.spreadsheets.stream import Look, SheetWriter, Styled

#: The job kind that builds a large export.
EXPORT_JOB = "report.export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER = Look(bold=True, fill="E9ECEF")
#: Rows between two progress reports of an export job.
_PROGRESS_EVERY = 500


def write(export: ListExport, user: User, args: MultiDict, target, progress=None) -> int:
    """Write the export's sheet for `user` and `args` to `target` (a path or a binary file);
    return how many rows it holds. `progress` (a job's) hears of every few hundred rows."""
    columns = export.columns
    total = export.count(user, args) if progress is not None else 0
    written = 0
    with SheetWriter(
        target,
        export.sheet,
        frozen_rows=1,
        widths=[c.width for c in columns],
        formats=[FORMATS[c.kind] for c in columns],
        autofilter=True,
    ) as out:
        out.append([Styled(c.header, _HEADER) for c in columns])
        for row in export.rows(user, args):
            out.append([c.value(row) for c in columns])
            written += 1
            if progress is not None and written % _PROGRESS_EVERY == 0:
                progress.update(written, max(total, written), f"已写入 {written} 行")
    if progress is not None:
        progress.update(written, max(written, 1), f"已写入 {written} 行")
    return written


def deliver(export: ListExport, user: User, args: Mapping):
    """Answer an export request: send the workbook now, or queue a job and go to its page.

    The caller has checked `export.allowed(user)`. The job stores the query arguments and
    builds the same rows for the same user when it runs.
    """
    args = MultiDict(args)
    count = export.count(user, args)
    if count <= current_app.config["EXPORT_INLINE_ROWS"]:
        data = BytesIO()
        write(export, user, args, data)
        data.seek(0)
        return send_file(
            data, as_attachment=True, download_name=export.download_name(), mimetype=XLSX
        )
    job = queue.enqueue(
        EXPORT_JOB,
        {"list": export.name, "args": [list(item) for item in args.items(multi=True)]},
        user,
    )
    db.session.commit()
    return redirect(f"/jobs/{job.id}")


def run_export(job, progress) -> dict[str, Any]:
    """Build a queued export for the job's creator, who must still be allowed to export it."""
    payload = job.payload or {}
    export = export_named(payload.get("list", ""))
    if export is None:
        raise queue.JobError("未知的导出类型")
    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    if user is None or not user.is_active or not export.allowed(user):
        raise queue.JobError("您无权导出此名单")
    args = MultiDict([tuple(item) for item in payload.get("args", [])])
    name = export.download_name()
    progress.update(0, 1, "正在导出")
    count = write(export, user, args, files.result_file(job, name), progress)
    return {"message": f"已导出 {count} 行，请下载文件“{name}”。"}
