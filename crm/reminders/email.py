"""The reminder e-mail: one message per user per day gathering the day's reminders.

After the scan's inserts, in the same transaction, every user the scan has just reminded (who
is active, has an e-mail address and wants e-mail about that kind of reminder) gets the day's
message queued in the outbox: all their open reminders made that day, of the kinds they want by
e-mail. A user is reminded by the reminders addressed to them and, for an enterprise user, by
those addressed to their firm: each of the firm's users gets the firm's reminders in a message
of their own, by their own choice of kinds. Who was reminded and what their messages list are
read by one statement, and the messages go to the outbox together, whatever the number of
users or firms.
The outbox keeps one message per recipient, kind and day and replaces the bodies while it still
waits, so a later scan the same day adds its reminders to the same message; a scan that makes
nothing queues nothing. With e-mail off (no SMTP server) nothing is queued.

The links are absolute, built from `BASE_URL` (`CRM_BASE_URL`) by `crm.mail.links`: the worker
writes the message outside any request, so it cannot know the address people use. Unset, the
message has no links.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, delete, select, union_all

from crm.accounts.models import User
from crm.core import clock
from crm.core.permissions import ENTERPRISE
from crm.extensions import db
from crm.firms.models import Firm
from crm.mail import links
from crm.mail.outbox import Draft, queue_messages
from crm.mail.settings import mail_enabled
from crm.reminders import rules
from crm.reminders.models import Reminder, ReminderEmailOptOut
from crm.reminders.pages import page_for

logger = logging.getLogger(__name__)

#: The outbox kind of the daily reminder message (one per recipient and day).
KIND = "reminders"


@dataclass(frozen=True)
class Reader:
    """A user a message goes to, as the message needs them."""

    name: str
    email: str
    role: str


@dataclass(frozen=True)
class Item:
    """One reminder as the message lists it."""

    label: str
    period: str
    firm: str
    due_on: date | None
    url: str | None


# --- The user's choices --------------------------------------------------------------------------


def kinds_off(user_id: int) -> set[str]:
    """Return the kinds of reminder `user_id` wants no e-mail about."""
    stmt = select(ReminderEmailOptOut.kind).where(ReminderEmailOptOut.user_id == user_id)
    return set(db.session.scalars(stmt))


def kinds_for(user: User) -> tuple[rules.RuleSpec, ...]:
    """Return the kinds of reminder that can reach `user`: every kind for the bureau's staff,
    for an enterprise user those a rule may address to a firm."""
    if user.role == ENTERPRISE:
        return tuple(spec for spec in rules.RULES if "firm" in spec.allowed)
    return rules.RULES


def set_kinds_on(user_id: int, kinds_on, among=None) -> None:
    """Store which kinds of reminder `user_id` wants by e-mail: of the kinds `among` (a user's
    choices, every kind by default), those not in `kinds_on` are off. Flushes."""
    wanted = set(kinds_on)
    among = [spec.code for spec in rules.RULES] if among is None else list(among)
    off = ReminderEmailOptOut
    db.session.execute(delete(off).where(off.user_id == user_id, off.kind.in_(among)))
    db.session.add_all(off(user_id=user_id, kind=kind) for kind in among if kind not in wanted)
    db.session.flush()


# --- Links ---------------------------------------------------------------------------------------


def link_builder():
    """Return a function giving the absolute link of a reminder (a `Reminder` or a row of its
    link's columns) for a user of the bureau or, `enterprise`, of a firm: the page that user
    may open. None when `BASE_URL` is unset."""
    absolute = links.link_builder()
    if absolute is None:
        return None

    def build(reminder, enterprise: bool = False) -> str | None:
        page = page_for(reminder, enterprise)
        return absolute(*page) if page is not None else None

    return build


# --- The message ---------------------------------------------------------------------------------


def _day_start_utc(now: datetime) -> datetime:
    """Return when the bureau's day of `now` (naive UTC) began, as naive UTC."""
    return clock.day_start_utc(clock.to_local(now).date())


def subject(count: int) -> str:
    """Return the message's subject."""
    return f"科技企业培育 CRM：今日提醒 {count} 项"


def render(user: Reader, items: list[Item], day: date) -> tuple[str, str]:
    """Return the plain-text and HTML bodies listing `items` for `user`."""
    env = current_app.jinja_env
    context = {"user": user, "items": items, "day": day, "count": len(items)}
    text = env.get_template("emails/reminders.txt").render(context)
    html = env.get_template("emails/reminders.html").render(context)
    return text, html


#: A reminder still to act on.
OPEN = (Reminder.closed_at.is_(None), Reminder.done_at.is_(None))
#: A user e-mail can reach.
MAILABLE = (User.is_active.is_(True), User.email.is_not(None), User.email != "")


def _wanted(user_id) -> ColumnElement[bool]:
    """The user `user_id` (a column) has not switched e-mail about the reminder's kind off."""
    off = ReminderEmailOptOut
    return ~select(off.kind).where(off.user_id == user_id, off.kind == Reminder.kind).exists()


def deliveries(*where, readers: Select | None = None, by_recipient: bool = True) -> CompoundSelect:
    """Return (user_id, reminder_id) for each open reminder matching `where` that a user wants
    by e-mail, once per user it reaches: a reminder to a user reaches that user, one to a firm
    each enterprise user of the firm. `readers` (a select of user ids) narrows the users.

    `by_recipient` False keeps the reminders from being looked for by the index of open
    reminders by recipient (its kind compared as `kind || ''`), for a `where` that picks few
    reminders otherwise, as a range of ids does: SQLite, with no statistics, would walk every
    open reminder of the kind.
    """
    kind = Reminder.recipient_kind if by_recipient else Reminder.recipient_kind + ""
    own = select(Reminder.recipient_id.label("user_id"), Reminder.id.label("reminder_id")).where(
        kind == rules.USER, *OPEN, *where, _wanted(Reminder.recipient_id)
    )
    firm = (
        select(User.id.label("user_id"), Reminder.id.label("reminder_id"))
        .join(Reminder, and_(kind == rules.FIRM, Reminder.recipient_id == User.firm_id))
        .where(User.role == ENTERPRISE, *OPEN, *where, _wanted(User.id))
    )
    if readers is not None:
        own = own.where(Reminder.recipient_id.in_(readers))
        firm = firm.where(User.id.in_(readers))
    return union_all(own, firm)


def day_rows(created_at: datetime, after_id: int) -> Select:
    """Return the select of what the day's messages list: for each user the scan of
    `created_at` reminded (the reminders above `after_id` made then) whom e-mail can reach,
    the user and each open reminder made that day that they want by e-mail, soonest first."""
    made = (Reminder.id > after_id, Reminder.created_at == created_at)
    reminded = deliveries(*made, by_recipient=False).subquery("reminded")
    readers = (
        select(User.id).where(User.id.in_(select(reminded.c.user_id)), *MAILABLE).cte("readers")
    )
    pairs = deliveries(
        Reminder.created_at >= _day_start_utc(created_at), readers=select(readers.c.id)
    ).subquery("pairs")
    return (
        select(
            pairs.c.user_id,
            User.name.label("user_name"),
            User.email.label("user_email"),
            User.role.label("user_role"),
            Reminder.kind,
            Reminder.period,
            Reminder.due_on,
            Reminder.firm_id,
            Reminder.record_id,
            Reminder.link_endpoint,
            Reminder.link_args,
            Firm.name.label("firm_name"),
        )
        .select_from(pairs)
        .join(Reminder, Reminder.id == pairs.c.reminder_id)
        .join(User, User.id == pairs.c.user_id)
        .outerjoin(Firm, Firm.id == Reminder.firm_id)
        .order_by(Reminder.due_on.is_(None), Reminder.due_on, Reminder.kind, Reminder.id)
    )


def queue_for_scan(day: date, created_at: datetime, after_id: int) -> int:
    """Queue the day's message to each user the scan of `created_at` reminded; return how many.

    `created_at` is the scan's time, stamped on every reminder it made, and `after_id` the
    largest id of a reminder before it: what it made is found among the ids above. Then one
    statement reads, as plain rows, every open reminder made that day for each of the users
    it reached, and the messages go to the outbox together: a day's first scan may remind
    thousands of firms. Flushes, never commits.
    """
    if not mail_enabled():
        return 0
    rows = db.session.execute(day_rows(created_at, after_id))
    link = link_builder()
    users: dict[int, Reader] = {}
    by_user: dict[int, list[Item]] = defaultdict(list)
    for row in rows:
        user = users.get(row.user_id)
        if user is None:
            user = users[row.user_id] = Reader(row.user_name, row.user_email, row.user_role)
        spec = rules.SPECS.get(row.kind)
        by_user[row.user_id].append(
            Item(
                label=spec.label if spec else row.kind,
                period=rules.describe_period(row.period),
                firm=row.firm_name or "",
                due_on=row.due_on,
                url=link(row, user.role == ENTERPRISE) if link else None,
            )
        )
    order = sorted(by_user)
    drafts = []
    for user_id in order:
        user, items = users[user_id], by_user[user_id]
        text, html = render(user, items, day)
        drafts.append(Draft(user.email, subject(len(items)), text, html))
    done = queue_messages(drafts, kind=KIND, day=day)
    for position in done.refused:
        # An address the outbox refuses: the reminders stay in the app.
        logger.warning("reminder e-mail to user %s not queued: bad address", order[position])
    return done.count
