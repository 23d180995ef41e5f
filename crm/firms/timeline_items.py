"""The items of a firm's timeline and how its sources page through them, newest first.

Items sort by `Key` (day, recorded time, source, row id): the day the thing happened (a move's
effective date, a visit's date, the local date of a recorded change), then when it was written
down. Each source reads only the rows after a cursor key, with a limit, in that order.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, or_, true
from sqlalchemy.orm import defaultload

from crm.accounts.models import User
from crm.core import clock


@dataclass(frozen=True, order=True)
class Key:
    """Where an item sorts: its day, when it was recorded, its source, its row."""

    on: date
    at: datetime
    rank: int
    id: int

    def encode(self) -> str:
        """Return the key as the text of a cursor."""
        return f"{self.on.isoformat()}~{self.at.isoformat()}~{self.rank}~{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> "Key | None":
        """Read a cursor; anything malformed means the first page."""
        try:
            on, at, rank, row = (text or "").split("~")
            return cls(date.fromisoformat(on), datetime.fromisoformat(at), int(rank), int(row))
        except ValueError:
            return None


@dataclass
class TimelineItem:
    """One entry of the timeline, described in Chinese."""

    key: Key
    kind: str
    icon: str
    title: str
    details: list[str] = field(default_factory=list)
    who: str = ""
    #: The clock time, for things recorded at a moment rather than on a day.
    at: datetime | None = None
    #: A warning shown beside the title (越过门槛, 逾期).
    badge: str = ""
    #: (table, row id, status or None): `who` is the user who recorded that creation or status.
    recorded: tuple[str, int, str | None] | None = None


# --- Keyset conditions ---------------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the naive UTC instants the bureau's local `day` starts and ends at."""
    start = datetime.combine(day, time(0), tzinfo=clock.local_zone())
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.local_zone())
    return (
        start.astimezone(UTC).replace(tzinfo=None),
        end.astimezone(UTC).replace(tzinfo=None),
    )


def _stamp_before(stamp, row_id, rank: int, key: Key) -> ColumnElement[bool]:
    """Return (stamp, rank, id) < (key.at, key.rank, key.id) for a source of fixed `rank`."""
    tails = {True: true(), False: false()}
    tail = row_id < key.id if rank == key.rank else tails[rank < key.rank]
    return or_(stamp < key.at, and_(stamp == key.at, tail))


def dated_page(stmt: Select, day, stamp, row_id, rank: int, key: Key | None, limit: int) -> Select:
    """Page a source that happens on a date column, recorded at `stamp`."""
    if key is not None:
        stmt = stmt.where(
            or_(day < key.on, and_(day == key.on, _stamp_before(stamp, row_id, rank, key)))
        )
    return stmt.order_by(day.desc(), stamp.desc(), row_id.desc()).limit(limit)


def timed_page(stmt: Select, stamp, row_id, rank: int, key: Key | None, limit: int) -> Select:
    """Page a source that happens at a moment: its day is the local date of `stamp`."""
    if key is not None:
        start, end = _day_bounds(key.on)
        stmt = stmt.where(
            or_(stamp < start, and_(stamp < end, _stamp_before(stamp, row_id, rank, key)))
        )
    return stmt.order_by(stamp.desc(), row_id.desc()).limit(limit)


def local_day(value: datetime) -> date:
    """Return the bureau's local date of a naive UTC datetime."""
    return clock.to_local(value).date()


def clip(text: str, width: int = 40) -> str:
    """Shorten a text to one title's width."""
    return text if len(text) <= width else text[: width - 1] + "…"


def user_name_only(relationship):
    """Return the loader option for a relationship to a user whose name alone is shown.

    A user's districts load eagerly by default, one more statement per source; here they
    stay unloaded until something asks for them.
    """
    return defaultload(relationship).lazyload(User.districts)
