"""The one source of the current time, so tests never depend on the wall clock.

The database stores naive UTC datetimes; dates that people see are in the bureau's time zone.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Shanghai"
_frozen: datetime | None = None


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime (how the database stores it)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def local_zone() -> ZoneInfo:
    """Return the bureau's time zone."""
    name = current_app.config.get("TZ", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ
    return ZoneInfo(name)


def to_local(value: datetime) -> datetime:
    """Convert a naive UTC datetime from the database to the bureau's local time."""
    return value.replace(tzinfo=UTC).astimezone(local_zone())


def today() -> date:
    """Return today's date in the bureau's time zone."""
    return to_local(utcnow()).date()


def day_start_utc(day: date) -> datetime:
    """Return when the bureau's `day` begins, as a naive UTC datetime (as the database keeps)."""
    start = datetime.combine(day, time(), tzinfo=local_zone())
    return start.astimezone(UTC).replace(tzinfo=None)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze the clock at a naive UTC datetime for the duration of the block (tests)."""
    global _frozen
    previous = _frozen
    _frozen = at
    try:
        yield
    finally:
        _frozen = previous


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward (tests)."""
    global _frozen
    if _frozen is None:
        raise RuntimeError("the clock is not frozen")
    _frozen = _frozen + delta
