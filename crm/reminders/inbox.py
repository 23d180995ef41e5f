"""What the notification centre, the bell and 今日待办 read: a user's reminders and the bureau's.

A user's reminders are those addressed to them, and for an enterprise user also those addressed
to their firm. A reminder is *open* until its recipient marks it done or the scan closes it; an
open one is *due* unless it is snoozed to a later day, and the bell counts the due ones not yet
read. Every count reads the partial index of open reminders, never the whole table.

Everything here reads; the changes a user makes (read, snooze, done) are in `mark`, which
flushes and never commits.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    false,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import joinedload

from crm.accounts.models import User
from crm.core import clock
from crm.core.permissions import MANAGER, is_enterprise
from crm.extensions import db
from crm.firms.models import Firm
from crm.reminders import rules
from crm.reminders.models import Reminder

#: How far back the centre's 已完成 group reaches.
DONE_DAYS = 30
#: The groups of the notification centre, in their order.
GROUPS = {"today": "今天", "week": "本周", "later": "以后", "done": f"已完成（近 {DONE_DAYS} 天）"}
#: Rows a group or a kind shows at once.
PAGE_SIZE = 20
#: The furthest a reminder may be snoozed.
MAX_SNOOZE_DAYS = 366
#: The bell and the centre's groups count no further: they show 999+ beyond.
COUNT_CAP = 1000


def _open() -> ColumnElement[bool]:
    return and_(Reminder.closed_at.is_(None), Reminder.done_at.is_(None))


def _due(today: date) -> ColumnElement[bool]:
    """Open and not snoozed past `today`."""
    return and_(_open(), or_(Reminder.snoozed_until.is_(None), Reminder.snoozed_until <= today))


def recipients(user: User) -> list[tuple[str, int]]:
    """Return the (kind, id) of each recipient whose reminders `user` reads."""
    if not user.is_authenticated or not user.is_active:
        return []
    found = [(rules.USER, user.id)]
    if is_enterprise(user) and user.firm_id is not None:
        found.append((rules.FIRM, user.firm_id))
    return found


def _to(kind: str, recipient_id: int) -> ColumnElement[bool]:
    return and_(Reminder.recipient_kind == kind, Reminder.recipient_id == recipient_id)


def addressed_to(user: User) -> ColumnElement[bool]:
    """Return the condition on `Reminder` selecting the reminders `user` reads."""
    found = [_to(kind, recipient_id) for kind, recipient_id in recipients(user)]
    return or_(*found) if found else false()


def _capped_count(*where: ColumnElement[bool]) -> int:
    """Count the reminders matching `where`, no further than `COUNT_CAP`."""
    found = select(Reminder.id).where(*where).limit(COUNT_CAP).subquery()
    return db.session.scalar(select(func.count()).select_from(found)) or 0


def unread_count(user: User, today: date | None = None) -> int:
    """Return how many due reminders of `user` are unread, up to `COUNT_CAP`: the bell's number.

    Each recipient is counted off its own range of the open reminders' index, and no further
    than the cap: a manager with thousands of reminders costs the bell no more than a thousand.
    """
    today = today or clock.today()
    total = sum(
        _capped_count(_to(*recipient), _due(today), Reminder.read_at.is_(None))
        for recipient in recipients(user)
    )
    return min(total, COUNT_CAP)


def reminder_for(user: User, reminder_id: int) -> Reminder | None:
    """Return the reminder `reminder_id` if it is addressed to `user`, else None."""
    return db.session.scalar(select(Reminder).where(Reminder.id == reminder_id, addressed_to(user)))


# --- The notification centre --------------------------------------------------------------------


def week_end(today: date) -> date:
    """Return the Sunday ending the week of `today`."""
    return today + timedelta(days=6 - today.weekday())


def _done_since(today: date) -> datetime:
    return datetime.combine(today - timedelta(days=DONE_DAYS), datetime.min.time())


def _group_condition(group: str, today: date) -> ColumnElement[bool]:
    end = week_end(today)
    if group == "today":
        return and_(_due(today), or_(Reminder.due_on.is_(None), Reminder.due_on <= today))
    if group == "week":
        return and_(_due(today), Reminder.due_on > today, Reminder.due_on <= end)
    if group == "later":
        snoozed = and_(_open(), Reminder.snoozed_until > today)
        return or_(and_(_due(today), Reminder.due_on > end), snoozed)
    # In the order of the partial index's condition, which SQLite matches term for term.
    finished = or_(Reminder.closed_at.is_not(None), Reminder.done_at.is_not(None))
    return and_(finished, Reminder.updated_at >= _done_since(today))


def _order(group: str) -> tuple:
    # The order of the indexes the groups are read from, so a page stops at its last row.
    if group == "done":
        return (Reminder.updated_at.desc(), Reminder.id.desc())
    return (Reminder.due_on, Reminder.id)


@dataclass(frozen=True)
class Group:
    """One group of the notification centre: its first rows and how many it holds."""

    code: str
    label: str
    count: int
    reminders: list[Reminder]
    page: int

    @property
    def capped(self) -> bool:
        """Tell whether the group holds more reminders than it counted."""
        return self.count >= COUNT_CAP

    @property
    def pages(self) -> int:
        """Return the number of pages of the group (of those counted)."""
        return max(1, -(-self.count // PAGE_SIZE))


def _kind_filter(kind: str | None) -> list[ColumnElement[bool]]:
    return [Reminder.kind == kind] if kind in rules.SPECS else []


def group_counts(user: User, today: date, kind: str | None = None) -> dict[str, int]:
    """Return how many reminders of `user` each group holds, up to `COUNT_CAP` (done: those of
    the last `DONE_DAYS` days)."""
    return {
        code: min(
            COUNT_CAP,
            sum(
                _capped_count(_to(*recipient), _group_condition(code, today), *_kind_filter(kind))
                for recipient in recipients(user)
            ),
        )
        for code in GROUPS
    }


def group_select(user: User, group: str, today: date, kind: str | None = None) -> Select:
    """Return the select of every reminder of `user` in `group`, in the group's order, with
    their firms (unpaged: the centre pages it, an export reads it all)."""
    return (
        select(Reminder)
        .where(addressed_to(user), _group_condition(group, today), *_kind_filter(kind))
        .options(*_listed())
        .order_by(*_order(group))
    )


def group_page(
    user: User, group: str, today: date, page: int = 1, kind: str | None = None
) -> list[Reminder]:
    """Return one page of the reminders of `user` in `group`, with their firms."""
    stmt = group_select(user, group, today, kind)
    return list(db.session.scalars(stmt.limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)))


def centre(
    user: User, today: date, kind: str | None = None, pages: dict[str, int] | None = None
) -> list[Group]:
    """Return the notification centre's groups for `user`: counts, and a page of each."""
    counts = group_counts(user, today, kind)
    pages = pages or {}
    return [
        Group(
            code,
            label,
            counts[code],
            group_page(user, code, today, pages.get(code, 1), kind) if counts[code] else [],
            pages.get(code, 1),
        )
        for code, label in GROUPS.items()
    ]


# --- 今日待办 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindCount:
    """The due reminders of one kind: how many, how many overdue, and the first ones."""

    kind: str
    label: str
    count: int
    overdue: int
    reminders: list[Reminder]


@dataclass(frozen=True)
class Todo:
    """A 今日待办 page: totals and the due reminders grouped by kind."""

    total: int
    overdue: int
    due_today: int
    kinds: list[KindCount]


@dataclass(frozen=True)
class ManagerCount:
    """One account manager's due reminders, on the bureau's page."""

    user_id: int
    name: str
    count: int
    overdue: int


@dataclass(frozen=True)
class _Tally:
    recipient: tuple[str, int]
    kind: str
    count: int
    overdue: int
    today: int


def _listed():
    """Load a listed reminder's firm and recipient by id and name only, nothing they hold."""
    return (
        joinedload(Reminder.firm).load_only(Firm.id, Firm.name).lazyload("*"),
        joinedload(Reminder.recipient_user).load_only(User.id, User.name).lazyload("*"),
    )


def _tallies(
    who: Sequence[tuple[str, int]], today: date, narrow: Sequence[ColumnElement[bool]] = ()
) -> list[_Tally]:
    """Count the due reminders of each recipient in `who` by kind, off the index by kind."""
    if not who:
        return []
    found = []
    by_kind: dict[str, list[int]] = {}
    for kind, recipient_id in who:
        by_kind.setdefault(kind, []).append(recipient_id)
    for kind, ids in by_kind.items():
        stmt = (
            select(
                Reminder.recipient_id,
                Reminder.kind,
                func.count().label("count"),
                func.count(case((Reminder.due_on < today, 1))).label("overdue"),
                func.count(case((Reminder.due_on == today, 1))).label("today"),
            )
            .where(
                Reminder.recipient_kind == kind,
                Reminder.recipient_id.in_(ids),
                _due(today),
                *narrow,
            )
            .group_by(Reminder.recipient_id, Reminder.kind)
        )
        found += [
            _Tally((kind, row.recipient_id), row.kind, row.count, row.overdue, row.today)
            for row in db.session.execute(stmt)
        ]
    return found


def _first_rows(
    tallies: Sequence[_Tally], today: date, limit: int, narrow: Sequence[ColumnElement[bool]] = ()
) -> dict[str, list[Reminder]]:
    """Return the first `limit` due reminders of each kind by due date, among the recipients
    counted: each recipient's first ones of the kind off the index, then merged."""
    if limit <= 0 or not tallies:
        return {}
    # One select per recipient and kind, each off the index by kind, sent as one statement.
    due = _due(today)
    parts = [
        select(Reminder.id, Reminder.kind, Reminder.due_on)
        .where(_to(*tally.recipient), Reminder.kind == tally.kind, due, *narrow)
        .order_by(Reminder.due_on, Reminder.id)
        .limit(limit)
        .subquery()
        .select()
        for tally in tallies
    ]
    candidates = db.session.execute(union_all(*parts)).all()
    # Undated reminders (no contact for months) first, then by due date, as the pages list them.
    candidates.sort(key=lambda row: (row.due_on is not None, row.due_on or today, row.id))
    chosen: dict[str, list[int]] = {}
    for row in candidates:
        ids = chosen.setdefault(row.kind, [])
        if len(ids) < limit:
            ids.append(row.id)
    wanted = [reminder_id for ids in chosen.values() for reminder_id in ids]
    loaded = {
        reminder.id: reminder
        for reminder in db.session.scalars(
            select(Reminder).where(Reminder.id.in_(wanted)).options(*_listed())
        )
    }
    return {kind: [loaded[i] for i in ids if i in loaded] for kind, ids in chosen.items()}


def _todo(tallies: Sequence[_Tally], first: dict[str, list[Reminder]]) -> Todo:
    order = {spec.code: i for i, spec in enumerate(rules.RULES)}
    kinds: dict[str, list[_Tally]] = {}
    for tally in tallies:
        kinds.setdefault(tally.kind, []).append(tally)
    return Todo(
        total=sum(t.count for t in tallies),
        overdue=sum(t.overdue for t in tallies),
        due_today=sum(t.today for t in tallies),
        kinds=[
            KindCount(
                kind,
                rules.SPECS[kind].label if kind in rules.SPECS else kind,
                sum(t.count for t in group),
                sum(t.overdue for t in group),
                first.get(kind, []),
            )
            for kind, group in sorted(kinds.items(), key=lambda item: order.get(item[0], 99))
        ],
    )


def due_count(user: User, today: date) -> int:
    """Return how many reminders of `user` are due, up to `COUNT_CAP`."""
    return min(
        COUNT_CAP,
        sum(_capped_count(_to(*recipient), _due(today)) for recipient in recipients(user)),
    )


def todo(user: User, today: date, limit: int = 10) -> Todo:
    """Return the due reminders of `user`, grouped by kind, with the first `limit` of each."""
    tallies = _tallies(recipients(user), today)
    return _todo(tallies, _first_rows(tallies, today, limit))


@dataclass(frozen=True)
class BureauTodo:
    """The bureau's 今日待办: the managers' due work by kind, and each manager's count."""

    todo: Todo
    managers: list[ManagerCount]


def bureau_todo(
    today: date, district_id: int | None = None, manager_id: int | None = None, limit: int = 5
) -> BureauTodo:
    """Return the due reminders of the bureau's account managers grouped by kind, and each
    manager's: what heads and administrators review, narrowed to the firms of one district or
    to one manager."""
    managers = select(User.id, User.name).where(User.role == MANAGER)
    if manager_id is not None:
        managers = managers.where(User.id == manager_id)
    names = dict(db.session.execute(managers).all())
    narrow = []
    if district_id is not None:
        narrow.append(Reminder.district_id == district_id)
    tallies = _tallies([(rules.USER, user_id) for user_id in names], today, narrow)
    per_manager: dict[int, list[_Tally]] = {}
    for tally in tallies:
        per_manager.setdefault(tally.recipient[1], []).append(tally)
    counts = [
        ManagerCount(
            user_id,
            names.get(user_id, ""),
            sum(t.count for t in group),
            sum(t.overdue for t in group),
        )
        for user_id, group in per_manager.items()
    ]
    return BureauTodo(
        _todo(tallies, _first_rows(tallies, today, limit, narrow)),
        sorted(counts, key=lambda m: (-m.count, m.name)),
    )


# --- What the recipient does --------------------------------------------------------------------


def mark(reminders: Sequence[Reminder], action: str, until: date | None = None) -> int:
    """Mark `reminders` read, unread, done or not done, or snooze them to `until`; return how
    many changed. Closed reminders are left as they are. Flushes, never commits."""
    ids = [r.id for r in reminders]
    if not ids:
        return 0
    now = clock.utcnow()
    values: dict = {"updated_at": now}
    where = [Reminder.id.in_(ids), Reminder.closed_at.is_(None)]
    if action == "read":
        values["read_at"] = now
        where.append(Reminder.read_at.is_(None))
    elif action == "done":
        values.update(done_at=now, read_at=func.coalesce(Reminder.read_at, now))
        where.append(Reminder.done_at.is_(None))
    elif action == "undone":
        values["done_at"] = None
        where.append(Reminder.done_at.is_not(None))
    elif action == "snooze":
        if until is None:
            raise ValueError("请填写推迟到的日期")
        # Back as unread on the day it comes back.
        values.update(snoozed_until=until, read_at=None)
        where.append(Reminder.done_at.is_(None))
    else:
        raise ValueError(f"unknown action {action!r}")
    changed = db.session.execute(
        update(Reminder).where(*where).values(values).execution_options(synchronize_session=False)
    ).rowcount
    for reminder in reminders:
        db.session.expire(reminder)
    return changed


def mark_all_read(user: User, today: date) -> int:
    """Mark every due reminder of `user` read; return how many. Flushes, never commits."""
    now = clock.utcnow()
    stmt = (
        update(Reminder)
        .where(addressed_to(user), _due(today), Reminder.read_at.is_(None))
        .values(read_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount


def check_snooze(until: date | None, today: date) -> str | None:
    """Return what is wrong with snoozing to `until`, in Chinese, or None."""
    if until is None:
        return "请填写推迟到的日期"
    if until <= today:
        return "推迟到的日期应晚于今天"
    if until > today + timedelta(days=MAX_SNOOZE_DAYS):
        return f"最多推迟 {MAX_SNOOZE_DAYS} 天"
    return None
