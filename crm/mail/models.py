"""The outbox: one row per message to send, with its delivery state."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.models import TimestampMixin
from crm.extensions import db

#: A message's states: waiting (perhaps for its next attempt), being sent, accepted, given up.
STATUSES = {"queued": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}


class OutboxMessage(TimestampMixin, db.Model):
    """An e-mail to send: recipient, content, and how its delivery goes.

    (recipient, kind, day) is unique: a producer gathers what one recipient gets in a day into
    one message of its kind, and queuing it again that day never makes a second message.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"),
        UniqueConstraint("recipient", "kind", "day", name="uq_mail_outbox_recipient_kind_day"),
        Index("ix_mail_outbox_status_next_attempt", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    #: What the message is, e.g. `reminders` or `test`; part of the dedupe key.
    kind: Mapped[str] = mapped_column(String(40))
    #: The bureau's day the message belongs to; part of the dedupe key.
    day: Mapped[date]
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    #: Tries so far; a try that the server refused for now counts, and so does one it never got.
    attempts: Mapped[int] = mapped_column(default=0)
    #: When the sender may try the message (again).
    next_attempt_at: Mapped[datetime]
    #: What went wrong at the last try, in Chinese, with the server's own answer.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The sender's token while it sends the message; its marks count only with this token.
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return STATUSES.get(self.status, self.status)
