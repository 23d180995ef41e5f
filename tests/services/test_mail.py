"""The outbox and its sender, against a real SMTP server (aiosmtpd on a loopback port)."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.core import clock
from crm.extensions import db
from crm.jobs import registry
from crm.jobs.worker import Worker
from crm.mail import sender
from crm.mail.models import OutboxMessage
from crm.mail.outbox import Draft, queue_message, queue_messages, requeue
from tests.smtp_server import SmtpServer

NOW = datetime(2026, 12, 3, 1, 0)  # 09:00 in the bureau
SUBJECT = "科技企业培育 CRM：今日待办 3 项"
TEXT = "王经理，您好：\n今天有 3 项待办，请登录系统查看。"
HTML = "<p>王经理，您好：</p><p>今天有 <b>3</b> 项待办。</p>"


def _queue(recipient: str, kind: str = "reminders", **kwargs) -> OutboxMessage:
    message = queue_message(
        recipient,
        kwargs.pop("subject", SUBJECT),
        kwargs.pop("text", TEXT),
        kwargs.pop("html", HTML),
        kind=kind,
        **kwargs,
    )
    db.session.commit()
    return message


def _state(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    return message


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield


def test_with_no_smtp_server_nothing_is_queued(app):
    app.config.update(SMTP_HOST="", MAIL_FROM="crm@bureau.test")
    assert queue_message("wang@example.com", SUBJECT, TEXT, HTML, kind="reminders") is None
    app.config.update(SMTP_HOST="smtp.example.com", MAIL_FROM="", SMTP_USER="")
    assert queue_message("wang@example.com", SUBJECT, TEXT, HTML, kind="reminders") is None
    assert _count() == 0
    assert sender.send_due() is None


def test_a_message_arrives_with_its_chinese_subject_and_both_parts(app, smtp_server, frozen):
    message = _queue("Wang.Li@Example.COM")
    assert message.recipient == "Wang.Li@example.com"

    counts = sender.send_due()

    assert counts["sent"] == 1
    [received] = smtp_server.received
    assert received.mail_from == "crm@bureau.test"
    assert received.rcpt_tos == ["Wang.Li@example.com"]
    mail = received.message
    assert mail["To"] == "Wang.Li@example.com"
    assert mail["Subject"] == SUBJECT  # decoded from RFC 2047
    assert "=?utf-8?" in mail.as_string().split("\n\n", 1)[0]
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    for part, body in ((text, TEXT), (html, HTML)):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("base64", "quoted-printable")
        assert part.get_content().replace("\r\n", "\n").strip() == body
    assert mail["Message-ID"] == f"<crm.outbox.{message.id}.20261203010000@bureau.test>"
    sent = _state(message.id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == ("sent", 1, NOW, None)
    assert sender.send_due()["sent"] == 0
    assert len(smtp_server.received) == 1


def test_a_day_gathers_one_message_per_recipient_and_kind(app, smtp_server, frozen):
    first = _queue("wang@example.com", text="第一版")
    again = _queue("wang@example.com", text="第二版：两项", subject="今日待办 2 项")
    other_kind = _queue("wang@example.com", kind="digest")
    assert again.id == first.id
    assert (again.subject, again.text_body) == ("今日待办 2 项", "第二版：两项")
    assert other_kind.id != first.id

    sender.send_due()
    late = _queue("wang@example.com", text="第三版")  # after it was sent: never a second one
    sender.send_due()

    assert late.id == first.id and late.status == "sent" and late.text_body == "第二版：两项"
    bodies = sorted(r.message.get_body(("plain",)).get_content() for r in smtp_server.received)
    assert bodies == sorted([TEXT.replace("\n", "\r\n") + "\r\n", "第二版：两项\r\n"])
    tomorrow = _queue("wang@example.com", day=date(2026, 12, 4))
    assert tomorrow.id not in (first.id, other_kind.id) and _count() == 3


def test_many_messages_are_queued_at_once_as_one_by_one(app, smtp_server, frozen):
    sent = _queue("li@example.com", text="已发出的版本")
    assert sender.send_due()["sent"] == 1
    waiting = _queue("wang@example.com", text="早些时候的版本")
    drafts = [
        Draft("wang@Example.com", "今日待办 2 项", "新版本：王", "<p>王</p>"),
        Draft("li@example.com", "今日待办 1 项", "新版本：李", "<p>李</p>"),
        Draft("not-an-address", SUBJECT, TEXT, HTML),
        Draft("zhao@example.com", "第一稿", "赵：第一稿", "<p>赵</p>"),
        Draft("zhao@EXAMPLE.com", "今日待办  4\n项", "赵：第二稿", "<p>赵</p>"),
    ]

    done = queue_messages(drafts, kind="reminders")

    # The waiting message takes the new content; the sent one stays as it was; the bad address
    # is refused; of two drafts to one address the later wins.
    assert (done.count, done.refused) == (2, [2])
    db.session.commit()
    assert _count() == 3
    assert _state(waiting.id).text_body == "新版本：王"
    assert _state(waiting.id).subject == "今日待办 2 项"
    assert (_state(sent.id).status, _state(sent.id).text_body) == ("sent", "已发出的版本")
    [zhao] = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.recipient.not_in([waiting.recipient, "li@example.com"])
        )
    )
    assert (zhao.recipient, zhao.kind, zhao.day, zhao.status) == (
        "zhao@example.com",
        "reminders",
        NOW.date(),
        "queued",
    )
    assert (zhao.subject, zhao.text_body) == ("今日待办 4 项", "赵：第二稿")
    assert sender.send_due()["sent"] == 2
    assert len(smtp_server.to("zhao@example.com")) == 1

    # Again the same day: nothing new, nothing sent twice.
    assert queue_messages(drafts, kind="reminders").count == 0
    assert _count() == 3
    app.config.update(SMTP_HOST="")
    assert queue_messages(drafts[:1], kind="digest").count == 0
    assert _count() == 3


def test_a_queued_message_is_written_in_the_producers_transaction(app, smtp_server, frozen):
    queue_message("wang@example.com", SUBJECT, TEXT, HTML, kind="reminders")
    db.session.rollback()  # the producer's work failed: its message goes with it
    assert _count() == 0
    assert sender.send_due()["sent"] == 0 and smtp_server.received == []


def test_a_server_stopped_mid_queue_delivers_every_message_once_after_it_returns(
    app, smtp_server, frozen
):
    addresses = [f"manager{n}@example.com" for n in range(6)]
    ids = [_queue(address).id for address in addresses]
    smtp_server.die_at = addresses[2]  # the server goes away in the middle of the third

    counts = sender.send_due()

    assert counts["sent"] == 2 and counts["retry"] == 1
    smtp_server.wait_stopped()
    assert not smtp_server.running
    third = _state(ids[2])
    assert (third.status, third.attempts) == ("queued", 1)
    assert "连接中断" in third.last_error
    assert third.next_attempt_at == NOW + timedelta(seconds=60)

    clock.advance(timedelta(seconds=30))
    counts = sender.send_due()  # still down: the next message waits for a later try
    assert counts["sent"] == 0 and counts["retry"] == 1
    assert "无法连接邮件服务器" in _state(ids[3]).last_error

    smtp_server.start()
    clock.advance(timedelta(minutes=5))
    assert sender.send_due()["sent"] == 4
    assert sender.send_due()["sent"] == 0

    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(addresses)
    assert {_state(message_id).status for message_id in ids} == {"sent"}


def test_a_temporary_refusal_is_tried_again_later(app, smtp_server, frozen):
    busy = _queue("busy@example.com")
    other = _queue("other@example.com")
    smtp_server.answers["busy@example.com"] = ["451 4.7.1 请稍后再试", "452 4.2.2 mailbox full"]

    counts = sender.send_due()

    assert (counts["sent"], counts["retry"]) == (1, 1)  # the others go on
    assert _state(other.id).status == "sent"
    waiting = _state(busy.id)
    assert waiting.status == "queued" and "451" in waiting.last_error
    assert waiting.next_attempt_at == NOW + timedelta(seconds=60)
    assert sender.send_due()["sent"] == 0  # not due yet

    clock.advance(timedelta(seconds=60))
    assert sender.send_due()["retry"] == 1
    assert _state(busy.id).next_attempt_at == clock.utcnow() + timedelta(seconds=120)

    clock.advance(timedelta(seconds=120))
    assert sender.send_due()["sent"] == 1
    done = _state(busy.id)
    assert (done.status, done.attempts, done.last_error) == ("sent", 3, None)
    assert len(smtp_server.to("busy@example.com")) == 1


def test_a_permanent_refusal_fails_the_message(app, smtp_server, frozen):
    gone = _queue("nobody@example.com")
    other = _queue("other@example.com")
    smtp_server.answers["nobody@example.com"] = ["550 5.1.1 用户不存在"]

    counts = sender.send_due()

    assert (counts["sent"], counts["failed"]) == (1, 1)
    failed = _state(gone.id)
    assert failed.status == "failed" and "550" in failed.last_error
    assert "不再重试" in failed.last_error
    assert _state(other.id).status == "sent"
    clock.advance(timedelta(days=1))
    assert sender.send_due()["sent"] == 0
    assert smtp_server.to("nobody@example.com") == []


def test_too_many_tries_fail_the_message(app, smtp_server, frozen):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    message = _queue("wang@example.com")
    smtp_server.stop()
    waits = []
    for _ in range(3):
        sender.send_due()
        state = _state(message.id)
        if state.status == "queued":
            waits.append(state.next_attempt_at - clock.utcnow())
            clock.advance(state.next_attempt_at - clock.utcnow())
    assert waits == [timedelta(seconds=60), timedelta(seconds=120)]
    failed = _state(message.id)
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.last_error.startswith("已尝试 3 次仍未送达")

    smtp_server.start()
    assert requeue(message.id)
    db.session.commit()
    assert sender.send_due()["sent"] == 1
    assert not requeue(message.id)  # sent: never again


def test_the_sender_logs_in_with_the_configured_account(app, frozen):
    server = SmtpServer(login=("crm-sender", "s3cret-pass"))
    server.start()
    try:
        app.config.update(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=server.port,
            SMTP_USER="crm-sender",
            SMTP_PASSWORD="wrong",
            MAIL_FROM="",
            SMTP_TIMEOUT_SECONDS=5,
        )
        message = _queue("wang@example.com")
        assert sender.send_due()["retry"] == 1
        refused = _state(message.id)
        assert "SMTP_USER 和 SMTP_PASSWORD" in refused.last_error
        assert server.received == []

        app.config["SMTP_PASSWORD"] = "口令"  # smtplib logs in with ASCII only
        clock.advance(timedelta(minutes=1))
        assert sender.send_due()["retry"] == 1
        assert "非 ASCII" in _state(message.id).last_error

        app.config["SMTP_PASSWORD"] = "s3cret-pass"
        clock.advance(timedelta(minutes=2))
        assert sender.send_due()["sent"] == 1
    finally:
        server.stop()
    assert server.logins == ["crm-sender"]
    assert server.received[0].mail_from == "crm-sender"  # no MAIL_FROM: the login's address


def test_starttls_asked_for_and_not_offered_sends_nothing_in_clear(app, smtp_server, frozen):
    app.config["SMTP_STARTTLS"] = True
    message = _queue("wang@example.com")
    assert sender.send_due()["retry"] == 1
    assert "不支持 STARTTLS" in _state(message.id).last_error
    assert smtp_server.received == []


def test_a_message_whose_sender_died_mid_send_is_failed_not_sent_again(app, smtp_server, frozen):
    message = _queue("wang@example.com")
    claimed = sender._claim_next()
    db.session.commit()
    assert claimed.id == message.id and sender._claim_next() is None  # one claim only
    db.session.commit()

    clock.advance(timedelta(minutes=10))
    assert sender.send_due()["stuck"] == 0
    clock.advance(timedelta(minutes=6))
    assert sender.send_due()["stuck"] == 1

    stuck = _state(message.id)
    assert stuck.status == "failed" and "无法确认" in stuck.last_error
    assert smtp_server.received == []
    sender._mark_sent(claimed)  # the lost sender's late mark no longer counts
    db.session.commit()
    assert _state(message.id).status == "failed"


@pytest.mark.parametrize(
    "address", ["", "not-an-address", "a@b.com\r\nBcc: x@y.com", "张@例子.中国"]
)
def test_a_bad_recipient_is_refused(app, smtp_server, address):
    with pytest.raises(ValueError, match="收件地址不正确"):
        queue_message(address, SUBJECT, TEXT, HTML, kind="reminders")


@pytest.mark.real_commits
def test_the_worker_sends_the_outbox_under_its_lease(app, smtp_server):
    [spec] = [spec for spec in registry.periodic_jobs() if spec.name == "mail.send"]
    assert spec.seconds == sender.SEND_EVERY_SECONDS
    _queue("wang@example.com")
    worker = Worker(app, "w-mail")
    assert worker.run_periodic(spec)
    assert not Worker(app, "w-other").run_periodic(spec)  # the lease runs it once a period
    db.session.rollback()
    assert [r.rcpt_tos for r in smtp_server.received] == [["wang@example.com"]]
    assert db.session.scalars(select(OutboxMessage.status)).all() == ["sent"]


def test_a_sender_with_a_chinese_name_is_encoded_and_the_envelope_has_its_address(
    app, smtp_server, frozen
):
    app.config["MAIL_FROM"] = "梧州市科技局 CRM <crm@kjj.example.gov.cn>"
    _queue("wang@example.com")
    assert sender.send_due()["sent"] == 1
    [received] = smtp_server.received
    assert received.mail_from == "crm@kjj.example.gov.cn"
    assert received.message["From"].addresses[0].display_name == "梧州市科技局 CRM"
    assert received.message["Message-ID"].endswith("@kjj.example.gov.cn>")
