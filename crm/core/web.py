"""Web helpers shared by every blueprint: htmx requests, paged lists, the tabs of a firm's page."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import flask
from flask import Blueprint, request, url_for
from sqlalchemy import Select
from werkzeug.utils import cached_property

from crm.core.forms import drop_control_characters
from crm.extensions import db

#: The methods of a route: read, act, or show a form and take it back.
GET, POST, FORM = ("GET",), ("POST",), ("GET", "POST")


def add_routes(blueprint: Blueprint, routes: Iterable[tuple[str, str, Callable, tuple[str, ...]]]):
    """Attach (rule, endpoint, view, methods) routes to `blueprint`, in the manner of Indico."""
    for rule, endpoint, view, methods in routes:
        blueprint.add_url_rule(rule, endpoint, view, methods=methods)


class Request(flask.Request):
    """The app's request: its query string holds no control characters.

    Search words, filters, tabs and sort keys are read from the query string, some straight into
    SQL; a NUL there answered 500 on PostgreSQL. The forms drop them from posted fields
    (`crm.core.forms.Form`).
    """

    @cached_property
    def args(self):
        """Return the query parameters with their control characters removed."""
        pairs = parse_qsl(
            self.query_string.decode(), keep_blank_values=True, errors="werkzeug.url_quote"
        )
        return self.parameter_storage_class(
            (drop_control_characters(key), drop_control_characters(value)) for key, value in pairs
        )


def is_htmx() -> bool:
    """Tell whether the request comes from htmx (and wants a fragment)."""
    return request.headers.get("HX-Request") == "true"


def tab_url(firm_id: int, tab: str, **values: Any) -> str:
    """Return the address of one tab of a firm's page."""
    return url_for("firms.detail", firm_id=firm_id, tab=tab, **values)


#: The highest page number a list goes to; past it the offset would leave the databases' integers
#: (page=999999999999999999999 answered 500) and no list is that long.
LAST_PAGE = 1_000_000


@dataclass
class Page:
    """One page of rows, known to have a next page without counting the whole table."""

    items: list[Any]
    number: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        """Tell whether there is a page before this one."""
        return self.number > 1


def page_number(number: int) -> int:
    """Return the page a list shows for the requested `number`: from 1 to `LAST_PAGE`."""
    return min(max(1, number), LAST_PAGE)


def paginate(stmt: Select, number: int, per_page: int, *, scalars: bool = True) -> Page:
    """Fetch one page plus one row, so `has_next` is known without a count."""
    number = page_number(number)
    stmt = stmt.limit(per_page + 1).offset((number - 1) * per_page)
    result = db.session.scalars(stmt) if scalars else db.session.execute(stmt)
    rows = list(result.unique() if scalars else result)
    return Page(items=rows[:per_page], number=number, has_next=len(rows) > per_page)
