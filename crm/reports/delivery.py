"""How a list leaves as a workbook: its definition, the sheet it becomes, and its delivery.

A list export (`ListExport`) names the rows the list page shows (`rows`, `count`: the page's own
select with its filters and sort, for a user and the page's query arguments) and the columns
they become. `deliver` builds a small export in the request and sends it; a larger one (more
than `EXPORT_INLINE_ROWS` rows) is queued as a job that builds it again for the job's creator,
with progress, and the user is sent to the job's page, which offers the file when it is done.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import Any

from flask import current_app, redirect, send_file
from werkzeug.datastructures import MultiDict

from crm.accounts.models import User
from crm.core import clock
from crm.extensions import db
from crm.jobs import files, queue
from crm.spreadsheets.stream import Look, SheetWriter, Styled

#: The job kind that builds a large export.
EXPORT_JOB = "report.export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: How a column's values are shown, by kind: the cell's number format.
FORMATS = {
    "text": None,
    "code": "@",
    "money_wan": "#,##0.00",
    "count": "0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "bool": None,
}
_WAN = Decimal(10000)
_HEADER = Look(bold=True, fill="E9ECEF")
#: Rows between two progress reports of an export job.
_PROGRESS_EVERY = 500


@dataclass(frozen=True)
class Column:
    """One column of an export: its key, Chinese header, kind (a key of `FORMATS`), width in
    characters, and how its value is read off a row (`get(row)`)."""

    key: str
    header: str
    kind: str
    width: float
    get: Callable[[Any], Any]

    def value(self, row: Any) -> Any:
        """Return the cell value of `row`: money in 万元 exactly, a bool as 是/否."""
        value = self.get(row)
        if value is None:
            return None
        if self.kind == "money_wan":
            return Decimal(value) / _WAN
        if self.kind == "percent":
            return float(value)
        if self.kind == "bool":
            return "是" if value else "否"
        return value


@dataclass(frozen=True)
class ListExport:
    """A list that can be exported as it is shown.

    `rows(user, args)` yields the rows the list page shows `user` for its query `args`, in its
    order and without paging; `count(user, args)` says how many; `allowed(user)` tells whether
    the user may export it at all (checked in the request and again when a job runs).
    """

    name: str
    filename: str
    sheet: str
    columns: tuple[Column, ...]
    rows: Callable[[User, MultiDict], Iterable[Any]]
    count: Callable[[User, MultiDict], int]
    allowed: Callable[[User], bool]

    def download_name(self) -> str:
        """Return the file's Chinese name with today's date: "企业名单_20260615.xlsx"."""
        return f"{self.filename}_{clock.today():%Y%m%d}.xlsx"


_exports: dict[str, ListExport] = {}


def register(export: ListExport) -> ListExport:
    """Make `export` deliverable, and buildable by export jobs, under its name."""
    _exports[export.name] = export
    return export


def export_named(name: str) -> ListExport | None:
    """Return the registered export called `name`, if any."""
    return _exports.get(name)


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

