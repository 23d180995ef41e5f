"""A firm's timeline (时间线 tab): stage moves, visits, coaching measures, certification, support
and recorded changes in one chronological list, newest first.

The recorded changes are the firms package's own source; the others are registered by the
packages that keep those records (`register_source`), each saying which recorded changes its
items make redundant.

Every source is read with a limit past a cursor and the pages are merged, so a firm with
thousands of audit rows costs no more than one with ten. Items sort by (day, recorded time,
source, id): the day the thing happened (a move's effective date, a visit's date, the local date
of a recorded change), then when it was written down. The cursor of "更早的记录" is the key of the
last item shown. Recorded changes that would repeat another item are left out: those of
enrollments (their stage moves tell the story), and the creation of visits, measures,
applications and support entries.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app, request
from sqlalchemy import and_, not_, or_, select

from crm.accounts.models import User
from crm.core import clock
from crm.core.audit import AuditEntry
from crm.extensions import db
from crm.firms.history import history_rows
from crm.firms.timeline_items import Key, TimelineItem, local_day, timed_page, user_name_only

PER_PAGE = 30
#: A source: (firm id, cursor key, limit, today) → up to `limit` items after the key, newest first.
Source = Callable[[int, Key | None, int, date], list[TimelineItem]]
#: Channels of a recorded change that go without saying (the others are shown: 企业端, 导入批次).
QUIET_SOURCES = ("web", "system")
AUDIT_ICONS = {"create": "bi-plus-circle", "update": "bi-pencil-square", "delete": "bi-trash"}


_sources: list[Source] = []
#: Tables whose creation a source shows as an item of its own, not as a recorded change.
_own_created: set[str] = set()
#: Tables whose recorded changes a source's items tell already (enrollments: the stage moves).
_own_changes: set[str] = set()


def register_source(
    source: Source, *, own_created: Iterable[str] = (), own_changes: Iterable[str] = ()
) -> None:
    """Add a package's records to the timeline, and leave out the changes its items repeat."""
    if source not in _sources:
        _sources.append(source)
    _own_created.update(own_created)
    _own_changes.update(own_changes)


@dataclass(frozen=True)
class TimelinePage:
    """The items of one page and the cursor of the next (None on the last page)."""

    items: list[TimelineItem]
    next_cursor: str | None
    is_first: bool


def firm_tab_context(firm) -> dict[str, Any]:
    """Return the 时间线 tab: the page of items before the `before` cursor of the request."""
    per_page = current_app.config.get("FIRM_TIMELINE_PER_PAGE", PER_PAGE)
    return {"timeline": firm_timeline(firm.id, request.args.get("before"), per_page)}


def firm_timeline(firm_id: int, before: str | None = None, per_page: int = PER_PAGE):
    """Return the page of the firm's timeline that follows the cursor `before`, newest first."""
    key = Key.parse(before)
    today = clock.today()
    wanted = per_page + 1
    candidates: list[TimelineItem] = []
    for source in (_audit, *_sources):
        candidates += source(firm_id, key, wanted, today)
    candidates.sort(key=lambda item: item.key, reverse=True)
    items = candidates[:per_page]
    _fill_recorders(firm_id, items)
    more = len(candidates) > per_page
    return TimelinePage(items, items[-1].key.encode() if more else None, key is None)


# --- Recorded changes ----------------------------------------------------------------------------


def _audit(firm_id: int, key: Key | None, limit: int, today: date) -> list[TimelineItem]:
    """Return up to `limit` saves (the field changes of one row in one flush, grouped)."""
    e = AuditEntry
    stmt = (
        select(e)
        .where(
            e.firm_id == firm_id,
            e.entity.not_in(_own_changes),
            not_(and_(e.entity.in_(_own_created), e.action == "create")),
        )
        .options(user_name_only(e.actor))
    )
    # One save changes at most a row's columns; fetch a few times the groups wanted, and more
    # only when a save of many fields leaves the groups short.
    batch, rows, cursor = limit * 4, [], key
    while True:
        fetched = list(db.session.scalars(timed_page(stmt, e.at, e.id, 0, cursor, batch)))
        rows += fetched
        groups = _saves(rows)
        if len(fetched) < batch:
            break
        if len(groups) > limit:
            groups = groups[:limit]  # the last group read may be cut short
            break
        cursor = Key(local_day(rows[-1].at), rows[-1].at, 0, rows[-1].id)
    return [_audit_item(group) for group in groups[:limit]]


def _saves(rows: list[AuditEntry]) -> list[list[AuditEntry]]:
    groups: list[list[AuditEntry]] = []
    for row in rows:
        same = (row.at, row.entity, row.entity_id, row.action, row.actor_id, row.source)
        last = groups[-1][0] if groups else None
        if last is not None and same == (
            last.at,
            last.entity,
            last.entity_id,
            last.action,
            last.actor_id,
            last.source,
        ):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _audit_item(group: list[AuditEntry]) -> TimelineItem:
    group = sorted(group, key=lambda entry: entry.id)  # the fields in the order they were saved
    described = history_rows(group)
    first, head = group[0], described[0]
    if first.action == "update":
        fields = [row.field for row in described]
        shown = "、".join(fields[:3]) + (f"等 {len(fields)} 项" if len(fields) > 3 else "")
        title = f"{head.action}{head.entity}：{shown}"
        details = [
            f"{row.field}：{row.old or '（空）'} → {row.new or '（空）'}" for row in described
        ]
    else:
        title = f"{head.action}{head.entity}" + (f"：{head.summary}" if head.summary else "")
        details = []
    # The channel is worth saying only when it is not the ordinary one.
    who = head.actor if first.source in QUIET_SOURCES else f"{head.actor}（{head.source}）"
    return TimelineItem(
        Key(local_day(first.at), first.at, 0, first.id),
        "audit",
        AUDIT_ICONS.get(first.action, "bi-pencil-square"),
        title,
        details,
        who=who,
        at=first.at,
    )


# --- Who recorded it -----------------------------------------------------------------------------


def _fill_recorders(firm_id: int, items: Iterable[TimelineItem]) -> None:
    """Name the users who recorded the items' rows or statuses, with one query for the page."""
    wanted = {item.recorded: item for item in items if item.recorded is not None}
    if not wanted:
        return
    e = AuditEntry
    rows = db.session.execute(
        select(e.entity, e.entity_id, e.action, e.new_value, User.name)
        .outerjoin(User, User.id == e.actor_id)
        .where(
            e.firm_id == firm_id,
            e.entity.in_({entity for entity, _, _ in wanted}),
            e.entity_id.in_({row_id for _, row_id, _ in wanted}),
            or_(e.action == "create", and_(e.action == "update", e.field == "status")),
        )
        .order_by(e.id)
    )
    for entity, row_id, action, new_value, name in rows:
        status = None if action == "create" else new_value
        item = wanted.get((entity, row_id, status))
        if item is not None:
            item.who = name or "系统"
