"""Putting messages in the outbox, in the producer's transaction, and back in after a failure."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, bindparam, select

from crm.core import clock
from crm.core.database import insert_or_ignore
from crm.extensions import db
from crm.mail.models import OutboxMessage
from crm.mail.settings import mail_enabled

logger = logging.getLogger(__name__)

#: The columns of the dedupe key: one message per recipient, kind and day.
KEY = ("recipient", "kind", "day")
SUBJECT_LENGTH = 255


def normalise_address(address: str) -> str:
    """Return `address` trimmed, its domain in lower case; refuse anything but one plain address.

    The sender speaks plain SMTP (no SMTPUTF8), so the address must be ASCII; a line break
    could add headers, and a list would send to several people.
    """
    try:
        checked = validate_email(
            (address or "").strip(), check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError as error:
        raise ValueError(f"收件地址不正确：{address!r}（{error}）") from error
    return checked.normalized


def queue_message(
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str,
    *,
    kind: str,
    day: date | None = None,
    again: bool = False,
) -> OutboxMessage | None:
    """Queue an e-mail in the caller's transaction, and return it; nothing while e-mail is off.

    With no SMTP server configured nothing is queued (it would never leave) and None is
    returned: producers go on without e-mail. A message is one per `recipient`, `kind` and
    `day` (the bureau's today by default): queued again that day while it still waits, its
    subject and bodies are replaced by the new ones, so a producer gathers the day into one
    message; once it is being sent or has been sent, it stays as it is and is never sent twice.
    `again` (an administrator's explicit test) puts a sent or failed message back in the queue
    with the new content. Flushes, never commits.
    """
    if not mail_enabled():
        logger.info("e-mail is off (no SMTP_HOST or sender): %s for %s not queued", kind, recipient)
        return None
    now = clock.utcnow()
    key = {"recipient": normalise_address(recipient), "kind": kind, "day": day or clock.today()}
    content = {
        "subject": " ".join((subject or "").split())[:SUBJECT_LENGTH],
        "text_body": text_body,
        "html_body": html_body,
        "updated_at": now,
    }
    table = OutboxMessage.__table__
    inserted = db.session.execute(
        insert_or_ignore(OutboxMessage, KEY).values(
            **key,
            **content,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    where = and_(*(table.c[name] == value for name, value in key.items()))
    if inserted.rowcount != 1:
        db.session.execute(
            table.update().where(where, table.c.status == "queued").values(**content)
        )
        if again:
            db.session.execute(
                table.update()
                .where(where, table.c.status.in_(("sent", "failed")))
                .values({**content, **_back_in_queue(now), "sent_at": None, "last_error": None})
            )
    return db.session.scalars(
        select(OutboxMessage).where(where).execution_options(populate_existing=True)
    ).one()


@dataclass(frozen=True)
class Draft:
    """A message to queue among many (`queue_messages`)."""

    recipient: str
    subject: str
    text_body: str
    html_body: str


@dataclass
class Queued:
    """What `queue_messages` did: how many messages wait with the new content, and the
    positions of the drafts whose address the outbox refused."""

    count: int = 0
    refused: list[int] = field(default_factory=list)


def queue_messages(drafts: Iterable[Draft], *, kind: str, day: date | None = None) -> Queued:
    """Queue many messages of one `kind` and `day` at once, each as `queue_message` would.

    Two statements whatever their number: one insert of the new messages, one update of those
    still waiting from earlier that day (their subject and bodies are replaced; one being sent
    or sent is left as it is). A draft whose address is refused is left out and reported; of
    two drafts to one address, the later wins. Nothing while e-mail is off. Flushes, never
    commits.
    """
    done = Queued()
    if not mail_enabled():
        return done
    now = clock.utcnow()
    day = day or clock.today()
    rows: dict[str, dict] = {}
    for position, draft in enumerate(drafts):
        try:
            recipient = normalise_address(draft.recipient)
        except ValueError:
            done.refused.append(position)
            continue
        rows.pop(recipient, None)  # the later draft wins, as a second `queue_message` would
        rows[recipient] = {
            "recipient": recipient,
            "subject": " ".join((draft.subject or "").split())[:SUBJECT_LENGTH],
            "text_body": draft.text_body,
            "html_body": draft.html_body,
        }
    if not rows:
        return done
    table = OutboxMessage.__table__
    fixed = {"kind": kind, "day": day, "updated_at": now}
    inserted = set(
        db.session.scalars(
            insert_or_ignore(OutboxMessage, KEY).many().returning(table.c.recipient),
            [
                {
                    **row,
                    **fixed,
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for row in rows.values()
            ],
        )
    )
    # Bound under names of their own: a column's name is the statement's own (SQLAlchemy).
    waiting = [
        {f"new_{name}": value for name, value in row.items()}
        for recipient, row in rows.items()
        if recipient not in inserted
    ]
    updated = 0
    if waiting:
        update = (
            table.update()
            .where(
                table.c.recipient == bindparam("new_recipient"),
                table.c.kind == kind,
                table.c.day == day,
                table.c.status == "queued",
            )
            .values(
                subject=bindparam("new_subject"),
                text_body=bindparam("new_text_body"),
                html_body=bindparam("new_html_body"),
                updated_at=now,
            )
        )
        updated = db.session.execute(
            update, waiting, execution_options={"preserve_rowcount": True}
        ).rowcount
    done.count = len(inserted) + updated
    return done


def queued_to(recipients, kind: str, day: date) -> set[str]:
    """Return which of the normalised addresses `recipients` have a message of `kind` for `day`,
    whatever its status (the dedupe key's index, led by the recipient, answers it)."""
    wanted = sorted(set(recipients))
    if not wanted:
        return set()
    return set(
        db.session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.recipient.in_(wanted),
                OutboxMessage.kind == kind,
                OutboxMessage.day == day,
            )
        )
    )


def requeue(message_id: int) -> bool:
    """Put a failed or waiting message back in the queue, due now with all its tries again.

    Tell whether it was: a message being sent or already sent is left alone. Flushes, never
    commits.
    """
    table = OutboxMessage.__table__
    changed = db.session.execute(
        table.update()
        .where(table.c.id == message_id, table.c.status.in_(("queued", "failed")))
        .values(**_back_in_queue(clock.utcnow()))
    )
    return changed.rowcount == 1


def _back_in_queue(now) -> dict:
    return {
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_by": None,
        "claimed_at": None,
        "updated_at": now,
    }
