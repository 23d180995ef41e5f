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
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, update
from sqlalchemy.orm import joinedload

from crm.accounts.models import User
from crm.core import clock
from crm.core.permissions import MANAGER, is_enterprise
from crm.extensions import db
from crm.firms.models import Firm
from crm.reminders import rules
from crm.reminders.models import Reminder

#: The groups of the notification centre, in their order.
GROUPS = {"today": "今天", "week": "本周", "later": "以后", "done": "已完成"}
#: Rows a group or a kind shows at once.
PAGE_SIZE = 50
#: The furthest a reminder may be snoozed.
MAX_SNOOZE_DAYS = 366


def _open() -> ColumnElement[bool]:
    return and_(Reminder.closed_at.is_(None), Reminder.done_at.is_(None))


def _due(today: date) -> ColumnElement[bool]:
    """Open and not snoozed past `today`."""
    return and_(_open(), or_(Reminder.snoozed_until.is_(None), Reminder.snoozed_until <= today))


def addressed_to(user: User) -> ColumnElement[bool]:
    """Return the condition on `Reminder` selecting the reminders `user` reads."""
    if not user.is_authenticated or not user.is_active:
        return false()
    mine = and_(Reminder.recipient_kind == rules.USER, Reminder.recipient_id == user.id)
    if is_enterprise(user) and user.firm_id is not None:
        theirs = and_(Reminder.recipient_kind == rules.FIRM, Reminder.recipient_id == user.firm_id)
        return or_(mine, theirs)
    return mine


def unread_count(user: User, today: date | None = None) -> int:
    """Return how many due reminders of `user` are unread: the bell's number."""
    today = today or clock.today()
    stmt = select(func.count()).where(addressed_to(user), _due(today), Reminder.read_at.is_(None))
    return db.session.scalar(stmt) or 0


def reminder_for(user: User, reminder_id: int) -> Reminder | None:
    """Return the reminder `reminder_id` if it is addressed to `user`, else None."""
    return db.session.scalar(select(Reminder).where(Reminder.id == reminder_id, addressed_to(user)))


# --- The notification centre --------------------------------------------------------------------


def week_end(today: date) -> date:
    """Return the Sunday ending the week of `today`."""
    return today + timedelta(days=6 - today.weekday())


def _group_condition(group: str, today: date) -> ColumnElement[bool]:
    end = week_end(today)
    if group == "today":
        return and_(_due(today), or_(Reminder.due_on.is_(None), Reminder.due_on <= today))
    if group == "week":
        return and_(_due(today), Reminder.due_on > today, Reminder.due_on <= end)
    if group == "later":
        snoozed = and_(_open(), Reminder.snoozed_until > today)
        return or_(and_(_due(today), Reminder.due_on > end), snoozed)
    return or_(Reminder.done_at.is_not(None), Reminder.closed_at.is_not(None))


def _order(group: str) -> tuple:
    if group == "done":
        return (func.coalesce(Reminder.done_at, Reminder.closed_at).desc(), Reminder.id.desc())
    return (Reminder.due_on.is_(None), Reminder.due_on, Reminder.kind, Reminder.id)


@dataclass(frozen=True)
class Group:
    """One group of the notification centre: its first rows and how many it holds."""

    code: str
    label: str
    count: int
    reminders: list[Reminder]
    page: int

    @property
    def pages(self) -> int:
        """Return the number of pages of the group."""
        return max(1, -(-self.count // PAGE_SIZE))


def _kind_filter(kind: str | None) -> list[ColumnElement[bool]]:
    return [Reminder.kind == kind] if kind in rules.SPECS else []


def group_counts(user: User, today: date, kind: str | None = None) -> dict[str, int]:
    """Return how many reminders of `user` each group holds."""
    columns = [func.count(case((_group_condition(code, today), 1))).label(code) for code in GROUPS]
    row = db.session.execute(select(*columns).where(addressed_to(user), *_kind_filter(kind))).one()
    return {code: getattr(row, code) or 0 for code in GROUPS}


def group_page(
    user: User, group: str, today: date, page: int = 1, kind: str | None = None
) -> list[Reminder]:
    """Return one page of the reminders of `user` in `group`, with their firms."""
    stmt = (
        select(Reminder)
        .where(addressed_to(user), _group_condition(group, today), *_kind_filter(kind))
        .options(*_listed())
        .order_by(*_order(group))
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    return list(db.session.scalars(stmt))


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


def _kind_counts(where: Sequence[ColumnElement[bool]], today: date, join_firm: bool):
    stmt = select(
        Reminder.kind,
        func.count().label("count"),
        func.count(case((Reminder.due_on < today, 1))).label("overdue"),
        func.count(case((Reminder.due_on == today, 1))).label("today"),
    ).where(*where)
    if join_firm:
        stmt = stmt.join(Firm, Firm.id == Reminder.firm_id)
    return db.session.execute(stmt.group_by(Reminder.kind)).all()


def _listed():
    """Load a listed reminder's firm and recipient by id and name only, nothing they hold."""
    return (
        joinedload(Reminder.firm).load_only(Firm.id, Firm.name).lazyload("*"),
        joinedload(Reminder.recipient_user).load_only(User.id, User.name).lazyload("*"),
    )


def _first_of_each_kind(where, limit: int, join_firm: bool) -> dict[str, list[Reminder]]:
    """Return the first `limit` reminders of each kind by due date, in one statement."""
    if limit <= 0:
        return {}
    rank = func.row_number().over(
        partition_by=Reminder.kind,
        order_by=(Reminder.due_on.is_(None), Reminder.due_on, Reminder.id),
    )
    ranked = select(Reminder.id, rank.label("rank")).where(*where)
    if join_firm:
        ranked = ranked.join(Firm, Firm.id == Reminder.firm_id)
    ranked = ranked.subquery("ranked")
    stmt = (
        select(Reminder)
        .join(ranked, ranked.c.id == Reminder.id)
        .where(ranked.c.rank <= limit)
        .options(*_listed())
        .order_by(Reminder.kind, ranked.c.rank)
    )
    found: dict[str, list[Reminder]] = {}
    for reminder in db.session.scalars(stmt):
        found.setdefault(reminder.kind, []).append(reminder)
    return found


def _todo(where: list[ColumnElement[bool]], today: date, limit: int, join_firm=False) -> Todo:
    order = {spec.code: i for i, spec in enumerate(rules.RULES)}
    rows = sorted(_kind_counts(where, today, join_firm), key=lambda r: order.get(r.kind, 99))
    first = _first_of_each_kind(where, limit, join_firm) if rows else {}
    kinds = [
        KindCount(
            row.kind,
            rules.SPECS[row.kind].label if row.kind in rules.SPECS else row.kind,
            row.count,
            row.overdue,
            first.get(row.kind, []),
        )
        for row in rows
    ]
    return Todo(
        total=sum(r.count for r in rows),
        overdue=sum(r.overdue for r in rows),
        due_today=sum(r.today for r in rows),
        kinds=kinds,
    )


def todo(user: User, today: date, limit: int = 10) -> Todo:
    """Return the due reminders of `user`, grouped by kind, with the first `limit` of each."""
    return _todo([addressed_to(user), _due(today)], today, limit)


def _bureau_where(
    today: date, district_id: int | None, manager_id: int | None
) -> tuple[list[ColumnElement[bool]], bool]:
    managers = select(User.id).where(User.role == MANAGER)
    if manager_id is not None:
        managers = managers.where(User.id == manager_id)
    where = [
        Reminder.recipient_kind == rules.USER,
        Reminder.recipient_id.in_(managers),
        _due(today),
    ]
    if district_id is not None:
        where.append(Firm.district_id == district_id)
    return where, district_id is not None


def bureau_todo(
    today: date, district_id: int | None = None, manager_id: int | None = None, limit: int = 10
) -> Todo:
    """Return the due reminders of the bureau's account managers, grouped by kind: what heads
    and administrators review, narrowed to one district (of the firm) or one manager."""
    where, join_firm = _bureau_where(today, district_id, manager_id)
    return _todo(where, today, limit, join_firm)


def bureau_managers(
    today: date, district_id: int | None = None, manager_id: int | None = None
) -> list[ManagerCount]:
    """Return each account manager's due and overdue reminders, most first."""
    where, join_firm = _bureau_where(today, district_id, manager_id)
    stmt = select(
        Reminder.recipient_id,
        func.count().label("count"),
        func.count(case((Reminder.due_on < today, 1))).label("overdue"),
    ).where(*where)
    if join_firm:
        stmt = stmt.join(Firm, Firm.id == Reminder.firm_id)
    rows = db.session.execute(stmt.group_by(Reminder.recipient_id)).all()
    names = dict(
        db.session.execute(
            select(User.id, User.name).where(User.id.in_([r.recipient_id for r in rows]))
        ).all()
    )
    found = [
        ManagerCount(r.recipient_id, names.get(r.recipient_id, ""), r.count, r.overdue)
        for r in rows
    ]
    return sorted(found, key=lambda m: (-m.count, m.name))


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
