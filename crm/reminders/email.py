"""The reminder e-mail: one message per user per day gathering the day's reminders.

After the scan's inserts, in the same transaction, every user the scan has just reminded (who
has an e-mail address and wants e-mail about that kind of reminder) gets the day's message
queued in the outbox: all their open reminders made that day, of the kinds they want by e-mail.
The outbox keeps one message per recipient, kind and day and replaces the bodies while it still
waits, so a later scan the same day adds its reminders to the same message; a scan that makes
nothing queues nothing. With e-mail off (no SMTP server) nothing is queued.

The links are absolute, built from `BASE_URL` (`CRM_BASE_URL`): the worker writes the message
outside any request, so it cannot know the address people use. Unset, the message has no links.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from crm.accounts.models import User
from crm.core import clock
from crm.extensions import db
from crm.mail.outbox import queue_message
from crm.mail.settings import mail_enabled
from crm.reminders import rules
from crm.reminders.models import Reminder, ReminderEmailOptOut

logger = logging.getLogger(__name__)

#: The outbox kind of the daily reminder message (one per recipient and day).
KIND = "reminders"


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


def set_kinds_on(user_id: int, kinds_on) -> None:
    """Store which kinds of reminder `user_id` wants by e-mail (the others are off). Flushes."""
    wanted = set(kinds_on)
    db.session.execute(delete(ReminderEmailOptOut).where(ReminderEmailOptOut.user_id == user_id))
    db.session.add_all(
        ReminderEmailOptOut(user_id=user_id, kind=spec.code)
        for spec in rules.RULES
        if spec.code not in wanted
    )
    db.session.flush()


# --- Links ---------------------------------------------------------------------------------------


def link_builder():
    """Return a function giving a reminder's absolute link, or None when `BASE_URL` is unset."""
    base = (current_app.config.get("BASE_URL") or "").strip()
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )

    def build(reminder: Reminder) -> str | None:
        try:
            return adapter.build(
                reminder.link_endpoint, reminder.url_arguments(), force_external=True
            )
        except BuildError:
            return None

    return build


# --- The message ---------------------------------------------------------------------------------


def _day_start_utc(now: datetime) -> datetime:
    """Return when the bureau's day of `now` (naive UTC) began, as naive UTC."""
    local = clock.to_local(now)
    start = datetime.combine(local.date(), time(), tzinfo=local.tzinfo)
    return start.astimezone(UTC).replace(tzinfo=None)


def subject(count: int) -> str:
    """Return the message's subject."""
    return f"科技企业培育 CRM：今日提醒 {count} 项"


def render(user: User, items: list[Item], day: date) -> tuple[str, str]:
    """Return the plain-text and HTML bodies listing `items` for `user`."""
    env = current_app.jinja_env
    context = {"user": user, "items": items, "day": day, "count": len(items)}
    text = env.get_template("emails/reminders.txt").render(context)
    html = env.get_template("emails/reminders.html").render(context)
    return text, html


def queue_for_scan(day: date, created_at: datetime) -> int:
    """Queue the day's message to each user the scan of `created_at` reminded; return how many.

    `created_at` is the scan's time, stamped on every reminder it made. Flushes, never commits.
    """
    if not mail_enabled():
        return 0
    off = ReminderEmailOptOut
    wanted = (
        ~select(off.kind)
        .where(off.user_id == Reminder.recipient_id, off.kind == Reminder.kind)
        .exists()
    )
    user_reminder = (Reminder.recipient_kind == rules.USER, wanted)
    reminded = (
        select(Reminder.recipient_id)
        .where(
            *user_reminder,
            Reminder.created_at == created_at,
            # Open ones only, as gathered below: the partial index of open reminders serves it.
            Reminder.closed_at.is_(None),
            Reminder.done_at.is_(None),
        )
        .distinct()
    )
    users = list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(reminded),
                User.is_active.is_(True),
                User.email.is_not(None),
                User.email != "",
            )
            .order_by(User.id)
        )
    )
    if not users:
        return 0
    rows = db.session.scalars(
        select(Reminder)
        .where(
            *user_reminder,
            Reminder.recipient_id.in_([user.id for user in users]),
            Reminder.created_at >= _day_start_utc(created_at),
            Reminder.closed_at.is_(None),
            Reminder.done_at.is_(None),
        )
        .options(joinedload(Reminder.firm))
        .order_by(Reminder.due_on.is_(None), Reminder.due_on, Reminder.kind, Reminder.id)
    )
    link = link_builder()
    by_user: dict[int, list[Item]] = defaultdict(list)
    for reminder in rows:
        by_user[reminder.recipient_id].append(
            Item(
                label=reminder.label,
                period=reminder.period_label,
                firm=reminder.firm.name if reminder.firm is not None else "",
                due_on=reminder.due_on,
                url=link(reminder) if link else None,
            )
        )
    queued = 0
    for user in users:
        items = by_user.get(user.id)
        if not items:
            continue
        text, html = render(user, items, day)
        try:
            message = queue_message(user.email, subject(len(items)), text, html, kind=KIND, day=day)
        except ValueError:
            # An address the outbox refuses: the reminders stay in the app.
            logger.warning("reminder e-mail to user %s not queued: bad address", user.id)
            continue
        queued += message is not None
    return queued
