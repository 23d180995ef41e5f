"""The sender: the worker's periodic job that delivers the outbox through SMTP.

`send_due` runs every SEND_EVERY_SECONDS under the lease `mail.send` (registered by the app
factory: this package sits beside `crm.jobs` and does not import it).

Each message is claimed with a conditional update and committed before the server is
contacted, so two workers never send it both; it is marked sent only after the server accepted
it, and that mark is committed before the next message is taken. A server that cannot be
reached, or answers 4xx, leaves the message queued for a later try, each wait twice the last
(MAIL_RETRY_FIRST_SECONDS up to MAIL_RETRY_MAX_SECONDS); a 5xx refusal, or MAIL_MAX_ATTEMPTS
tries, fails it for an administrator to see. No transaction is open while the server is talked
to, so SQLite's write lock is never held across the network.

A message whose sender died between its claim and its mark stays "being sent"; after
MAIL_STUCK_MINUTES it is failed rather than sent again, as the server may have accepted it: an
administrator checks and sends it again.
"""

import logging
import secrets
import smtplib
import ssl
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.mail.models import OutboxMessage
from crm.mail.settings import SmtpSettings, smtp_settings

logger = logging.getLogger(__name__)

#: CRLF lines, and every part 7-bit (base64 or quoted-printable): any server takes it as it is.
MIME_POLICY = policy.SMTP.clone(cte_type="7bit")
#: Seconds between two runs of the sender.
SEND_EVERY_SECONDS = 60


@dataclass(frozen=True)
class Claimed:
    """A message claimed for one try, read before the claim was committed."""

    id: int
    token: str
    recipient: str
    subject: str
    text_body: str
    html_body: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """Why a try failed: the error shown, whether to try again, whether the server is away."""

    error: str
    permanent: bool = False
    server_away: bool = False


class _Unreachable(Exception):
    """The server could not be reached, or refused the session before any message."""


def send_due() -> Counter | None:
    """Send the messages that are due; return how many were sent, retried and failed.

    Returns None while e-mail is off: queued messages then wait. Commits after every claim and
    every mark (see the module's docstring).
    """
    settings = smtp_settings()
    if settings is None:
        return None
    config = current_app.config
    counts: Counter = Counter()
    counts["stuck"] = fail_stuck(clock.utcnow() - timedelta(minutes=config["MAIL_STUCK_MINUTES"]))
    db.session.commit()
    connection: smtplib.SMTP | None = None
    try:
        for _ in range(int(config["MAIL_BATCH"])):
            claimed = _claim_next()
            db.session.commit()
            if claimed is None:
                break
            try:
                if connection is None:
                    connection = _connect(settings)
                connection.send_message(
                    build_message(claimed, settings),
                    _address(settings.sender),
                    [claimed.recipient],
                )
            except (_Unreachable, smtplib.SMTPException, OSError) as error:
                outcome = _outcome(error, settings)
                _close(connection)
                connection = None
                counts[_record_failure(claimed, outcome)] += 1
                db.session.commit()
                if outcome.server_away:
                    break
            else:
                _mark_sent(claimed)
                db.session.commit()
                counts["sent"] += 1
    finally:
        _close(connection)
    if counts["sent"] or counts["retry"] or counts["failed"]:
        logger.info("e-mail: %s", dict(counts))
    return counts


def build_message(claimed: Claimed, settings: SmtpSettings) -> EmailMessage:
    """Return the MIME message: Chinese subject (RFC 2047), plain text and HTML in UTF-8."""
    message = EmailMessage(policy=MIME_POLICY)
    message["Subject"] = claimed.subject
    message["From"] = settings.sender
    message["To"] = claimed.recipient
    message["Date"] = format_datetime(clock.to_local(clock.utcnow()))
    domain = _address(settings.sender).rpartition("@")[2] or "localhost"
    # The same on every try: a receiver that got a message twice can tell.
    stamp = claimed.created_at.strftime("%Y%m%d%H%M%S")
    message["Message-ID"] = f"<crm.outbox.{claimed.id}.{stamp}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(claimed.text_body)
    message.add_alternative(claimed.html_body, subtype="html")
    return message


def fail_stuck(before: datetime) -> int:
    """Fail the messages claimed before `before` and never marked; return how many."""
    table = OutboxMessage.__table__
    failed = db.session.execute(
        table.update()
        .where(table.c.status == "sending", table.c.claimed_at < before)
        .values(
            status="failed",
            claimed_by=None,
            last_error="发送过程中断，无法确认邮件服务器是否已收下：请向收件人核实后再决定是否重新发送",
            updated_at=clock.utcnow(),
        )
    )
    return failed.rowcount


def _claim_next() -> Claimed | None:
    """Take the next due message for this try, or None; the caller commits."""
    table = OutboxMessage.__table__
    while True:
        now = clock.utcnow()
        row = db.session.execute(
            select(table)
            .where(table.c.status == "queued", table.c.next_attempt_at <= now)
            .order_by(table.c.next_attempt_at, table.c.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        token = secrets.token_hex(8)
        taken = db.session.execute(
            table.update()
            .where(table.c.id == row.id, table.c.status == "queued")
            .values(
                status="sending",
                claimed_by=token,
                claimed_at=now,
                attempts=table.c.attempts + 1,
                updated_at=now,
            )
        )
        if taken.rowcount == 1:
            return Claimed(
                id=row.id,
                token=token,
                recipient=row.recipient,
                subject=row.subject,
                text_body=row.text_body,
                html_body=row.html_body,
                attempts=row.attempts + 1,
                created_at=row.created_at,
            )
        # Another sender took it between the look and the update: look again.


def _mark_sent(claimed: Claimed) -> None:
    table = OutboxMessage.__table__
    now = clock.utcnow()
    db.session.execute(
        table.update()
        .where(table.c.id == claimed.id, table.c.claimed_by == claimed.token)
        .values(status="sent", sent_at=now, last_error=None, claimed_by=None, updated_at=now)
    )


def _record_failure(claimed: Claimed, outcome: Outcome) -> str:
    """Put the message back for a later try, or fail it; return `retry` or `failed`."""
    config = current_app.config
    table = OutboxMessage.__table__
    now = clock.utcnow()
    give_up = outcome.permanent or claimed.attempts >= int(config["MAIL_MAX_ATTEMPTS"])
    if give_up:
        error = outcome.error
        if not outcome.permanent:
            error = f"已尝试 {claimed.attempts} 次仍未送达，不再重试。最后一次：{error}"
        values = {"status": "failed", "last_error": error}
    else:
        values = {
            "status": "queued",
            "last_error": outcome.error,
            "next_attempt_at": now + retry_delay(claimed.attempts),
        }
    db.session.execute(
        table.update()
        .where(table.c.id == claimed.id, table.c.claimed_by == claimed.token)
        .values(**values, claimed_by=None, updated_at=now)
    )
    logger.warning("e-mail %s to %s: %s", claimed.id, claimed.recipient, values["last_error"])
    return "failed" if give_up else "retry"


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after the `attempts`-th failed try: doubled each time, up to the most."""
    config = current_app.config
    first = int(config["MAIL_RETRY_FIRST_SECONDS"])
    longest = int(config["MAIL_RETRY_MAX_SECONDS"])
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), longest))


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """Open a session with the server: STARTTLS first if asked, then the login if any."""
    where = f"{settings.host}:{settings.port}"
    try:
        connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (smtplib.SMTPException, OSError) as error:
        raise _Unreachable(f"无法连接邮件服务器 {where}：{_text(error)}") from error
    try:
        connection.ehlo()
        if settings.starttls:
            if not connection.has_extn("starttls"):
                raise _Unreachable(
                    f"邮件服务器 {where} 不支持 STARTTLS，而 SMTP_STARTTLS 已开启：未发送"
                )
            connection.starttls(context=tls_context())
            connection.ehlo()
        if settings.user:
            try:
                connection.login(settings.user, settings.password)
            except UnicodeEncodeError as error:
                raise _Unreachable(
                    "SMTP_USER 或 SMTP_PASSWORD 含有非 ASCII 字符，无法登录邮件服务器"
                ) from error
            except smtplib.SMTPAuthenticationError as error:
                raise _Unreachable(
                    f"登录邮件服务器 {where} 失败（{_text(error)}）："
                    "请检查 SMTP_USER 和 SMTP_PASSWORD"
                ) from error
    except _Unreachable:
        _close(connection)
        raise
    except (smtplib.SMTPException, OSError) as error:
        _close(connection)
        raise _Unreachable(f"与邮件服务器 {where} 建立会话失败：{_text(error)}") from error
    return connection


def tls_context() -> ssl.SSLContext:
    """Return the TLS settings of STARTTLS: the server's certificate and name are checked."""
    return ssl.create_default_context()


def _outcome(error: BaseException, settings: SmtpSettings) -> Outcome:
    """Classify a failed try: 5xx is final, 4xx and a lost server are tried again."""
    if isinstance(error, _Unreachable):
        return Outcome(str(error), server_away=True)
    code, answer = _response(error)
    if code is None:
        where = f"{settings.host}:{settings.port}"
        return Outcome(f"与邮件服务器 {where} 的连接中断：{_text(error)}", server_away=True)
    if code >= 500:
        return Outcome(f"邮件服务器拒收（{code} {answer}），不再重试", permanent=True)
    return Outcome(f"邮件服务器暂时拒收（{code} {answer}），稍后重试")


def _response(error: BaseException) -> tuple[int | None, str]:
    """Return the server's code and answer behind an SMTP error, if it gave one."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, answer = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, answer = error.smtp_code, error.smtp_error
    else:
        return None, ""
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    return (code if isinstance(code, int) and code >= 400 else None), str(answer)


def _text(error: BaseException) -> str:
    code, answer = _response(error)
    if code is not None:
        return f"{code} {answer}"
    return str(error) or type(error).__name__


def _address(sender: str) -> str:
    """Return the bare address of a sender that may carry a display name."""
    return parseaddr(sender)[1] or sender


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()
