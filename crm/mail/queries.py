"""What the outbox page reads: counts by status and the messages still to deal with."""

from sqlalchemy import Select, func, select

from crm.extensions import db
from crm.mail.models import OutboxMessage

#: The lists of the page: which statuses each shows.
VIEWS = {
    "open": ("发送失败和待发送", ("failed", "queued", "sending")),
    "failed": ("发送失败", ("failed",)),
    "queued": ("待发送", ("queued", "sending")),
}


def counts_by_status() -> dict[str, int]:
    """Return how many messages are in each status (from the status index)."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status: count for status, count in rows}


def unsent(view: str) -> Select:
    """Return the select of the messages a list of the page shows, newest first."""
    statuses = VIEWS.get(view, VIEWS["open"])[1]
    return (
        select(OutboxMessage)
        .where(OutboxMessage.status.in_(statuses))
        .order_by(OutboxMessage.id.desc())
    )
