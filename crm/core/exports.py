"""Which lists can be exported, what they hold, and where: a link from a list page to its export.

A list export (`ListExport`) names the rows the list page shows (`rows`, `count`: the page's own
select with its filters and sort, for a user and the page's query arguments) and the columns
they become; `register` makes it deliverable under its name, by the package that serves exports.

The reports package, above the packages whose pages show the lists, serves every export at one
endpoint (`serve_exports_at`); the pages ask `export_url` (a Jinja global) for the link, which
carries the page's own query arguments (its filters and sort) so the file holds what the page
shows. A list without a registered export, or that the user may not export, gets no link.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import current_app, has_request_context, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from crm.core import clock

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
        """Return the cell value of `row`: money in 万元 exactly, a bool as 是/否, a stored (UTC)
        time as the bureau's wall-clock time."""
        value = self.get(row)
        if value is None:
            return None
        if self.kind == "money_wan":
            return Decimal(value) / _WAN
        if self.kind == "percent":
            return float(value)
        if self.kind == "bool":
            return "是" if value else "否"
        if self.kind == "datetime":
            return clock.to_local(value).replace(tzinfo=None)
        return value


def _any_args(user: Any, args: MultiDict) -> bool:
    return True


@dataclass(frozen=True)
class ListExport:
    """A list that can be exported as it is shown.

    `rows(user, args)` yields the rows the list page shows `user` for its query `args`, in its
    order and without paging; `count(user, args)` says how many; `allowed(user)` tells whether
    the user may export it at all (checked in the request and again when a job runs);
    `accepts(user, args)` whether the arguments name a list the user may see (a board's column
    must name its programme and stage, a plan's measures a plan of a firm in reach), else the
    export is not found.
    """

    name: str
    filename: str
    sheet: str
    columns: tuple[Column, ...]
    rows: Callable[[Any, MultiDict], Iterable[Any]]
    count: Callable[[Any, MultiDict], int]
    allowed: Callable[[Any], bool]
    accepts: Callable[[Any, MultiDict], bool] = _any_args

    def download_name(self) -> str:
        """Return the file's Chinese name with today's date: "企业名单_20260615.xlsx"."""
        return f"{self.filename}_{clock.today():%Y%m%d}.xlsx"


_exports: dict[str, ListExport] = {}
#: The endpoint that delivers every export, given the export's name as `name`.
_served_at: list[str] = []


def register(export: ListExport) -> ListExport:
    """Make `export` deliverable, and buildable by export jobs, under its name."""
    _exports[export.name] = export
    return export


def export_named(name: str) -> ListExport | None:
    """Return the registered export called `name`, if any."""
    return _exports.get(name)


def serve_exports_at(endpoint: str) -> None:
    """Say that the view `endpoint` delivers the registered exports, by their `name`."""
    _served_at[:] = [endpoint]


def export_url(list_name: str, extra: dict | None = None) -> str | None:
    """Return the export link of `list_name` for the current page's filters and sort, or None
    when the list has no export, the user may not export it, or there is no request. `extra`
    adds what the page's address names in its path (a programme and stage), as query
    arguments."""
    export = _exports.get(list_name)
    if export is None or not _served_at or not has_request_context():
        return None
    if _served_at[0] not in current_app.view_functions or not export.allowed(current_user):
        return None
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    args += [(key, value) for key, value in (extra or {}).items() if key not in request.args]
    url = url_for(_served_at[0], name=list_name)
    return f"{url}?{urlencode(args)}" if args else url
