"""Jinja filters and globals: dates in the bureau's time zone, money in 万元, role checks."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from flask import Flask, request, url_for

from crm.core import clock
from crm.core.permissions import TEMPLATE_PREDICATES

#: Yuan in one 万元, the unit amounts are shown and typed in.
WAN = Decimal(10000)


def format_datetime(value: datetime | None) -> str:
    """Show a naive UTC datetime as local time, to the minute."""
    if value is None:
        return ""
    return clock.to_local(value).strftime("%Y-%m-%d %H:%M")


def format_date(value: date | None) -> str:
    """Show a date as YYYY-MM-DD."""
    return value.isoformat() if value else ""


def to_wan(value: Decimal | None) -> Decimal | None:
    """Convert yuan to 万元, rounded to two decimals."""
    if value is None:
        return None
    return (Decimal(value) / WAN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_wan(value: Decimal | None) -> str:
    """Show an amount in yuan as 万元 with thousands separators."""
    wan = to_wan(value)
    return "" if wan is None else f"{wan:,.2f}"


def format_percent(value: float | Decimal | None, digits: int = 1) -> str:
    """Show a ratio as a percentage."""
    return "" if value is None else f"{float(value) * 100:.{digits}f}%"


def yes_no(value: bool | None) -> str:
    """Show a boolean as 是/否."""
    if value is None:
        return ""
    return "是" if value else "否"


def url_with(**changes) -> str:
    """Return the current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    """Add the filters and globals to the app's Jinja environment."""
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_wan, "wan")
    app.add_template_filter(format_percent, "percent")
    app.add_template_filter(yes_no, "yes_no")
    app.add_template_global(url_with)
    app.add_template_global(clock.today, "today")
    for name, predicate in TEMPLATE_PREDICATES.items():
        app.add_template_global(predicate, name)
