"""The administrator's e-mail page: on or off, the test message, failed messages sent again."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.mail import sender
from crm.mail.models import OutboxMessage
from crm.mail.outbox import queue_message
from tests import factories

PAGE = "/admin/mail"


def _messages() -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id).execution_options(populate_existing=True)
    ).all()


@pytest.mark.parametrize("role", ["manager", "bureau_head", "enterprise"])
def test_only_administrators_see_the_page(client, login_as, role):
    extra = {"firm": factories.make_firm()} if role == "enterprise" else {}
    login_as(role, **extra)
    # Staff are refused; to an enterprise user the bureau's pages are not there.
    refused = 404 if role == "enterprise" else 403
    assert client.get(PAGE).status_code == refused
    assert client.post(PAGE, data={"address": "x@example.com"}).status_code == refused
    assert client.post(f"{PAGE}/1/resend").status_code == refused


def test_with_no_smtp_server_the_page_says_e_mail_is_off_and_how_to_turn_it_on(
    app, client, login_as
):
    app.config.update(SMTP_HOST="", MAIL_FROM="")
    login_as("admin")
    html = client.get(PAGE).get_data(as_text=True)
    assert "邮件发送未开启" in html
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS", "SMTP_USER", "MAIL_FROM"):
        assert name in html
    assert "发送测试邮件" not in html
    response = client.post(PAGE, data={"address": "wang@example.com"}, follow_redirects=True)
    assert "邮件发送未开启，未生成测试邮件" in response.get_data(as_text=True)
    assert _messages() == []


def test_the_test_message_is_queued_then_delivered(app, client, login_as, smtp_server):
    admin = login_as("admin", name="李管理")
    html = client.get(PAGE).get_data(as_text=True)
    assert "邮件发送已开启" in html and f"127.0.0.1:{smtp_server.port}" in html
    assert "发送测试邮件" in html

    response = client.post(PAGE, data={"address": " wang@example.com "}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "测试邮件已加入发送队列，将发往 wang@example.com" in html
    assert "【科技企业培育 CRM】测试邮件" in html and "待发送" in html
    [message] = _messages()
    assert (message.kind, message.status) == ("test", "queued")

    sender.send_due()
    [received] = smtp_server.received
    assert received.message["Subject"] == "【科技企业培育 CRM】测试邮件"
    text = received.message.get_body(("plain",)).get_content()
    html_part = received.message.get_body(("html",)).get_content()
    for body in (text, html_part):
        assert f"{admin.name}（{admin.username}）" in body
        assert f"127.0.0.1:{smtp_server.port}" in body

    # A second test the same day goes out again: an explicit test is never deduplicated away.
    client.post(PAGE, data={"address": "wang@example.com"})
    sender.send_due()
    assert len(smtp_server.to("wang@example.com")) == 2
    assert len(_messages()) == 1


def test_a_bad_test_address_is_shown_on_the_form(client, login_as, smtp_server):
    login_as("admin")
    response = client.post(PAGE, data={"address": "wang@"})
    assert response.status_code == 200
    assert "电子邮箱格式不正确" in response.get_data(as_text=True)
    assert _messages() == []


def test_failed_and_waiting_messages_are_listed_with_their_errors_and_sent_again(
    app, client, login_as, smtp_server
):
    with clock.frozen(datetime(2026, 12, 3, 1, 0)):
        login_as("admin")
        for address in ("nobody@example.com", "busy@example.com", "fine@example.com"):
            queue_message(address, "今日待办", "正文", "<p>正文</p>", kind="reminders")
        db.session.commit()
        smtp_server.answers["nobody@example.com"] = ["550 5.1.1 用户不存在"]
        smtp_server.answers["busy@example.com"] = ["451 4.3.0 稍后再试"]
        sender.send_due()

        html = client.get(PAGE).get_data(as_text=True)
        assert "nobody@example.com" in html and "550 5.1.1 用户不存在" in html
        assert "busy@example.com" in html and "451 4.3.0 稍后再试" in html
        assert "fine@example.com" not in html  # sent: not listed
        assert "已发送 1 封" in html
        failed_only = client.get(f"{PAGE}?view=failed").get_data(as_text=True)
        assert "nobody@example.com" in failed_only and "busy@example.com" not in failed_only

        nobody, busy, fine = _messages()
        assert nobody.status == "failed"
        response = client.post(
            f"{PAGE}/{nobody.id}/resend", data={"view": "failed"}, follow_redirects=True
        )
        assert "已重新加入发送队列" in response.get_data(as_text=True)
        again = db.session.get(OutboxMessage, nobody.id, populate_existing=True)
        assert (again.status, again.attempts) == ("queued", 0)

        # 重新发送 of a message waiting for its next try makes it due now.
        client.post(f"{PAGE}/{busy.id}/resend")
        assert sender.send_due()["sent"] == 2
        assert len(smtp_server.to("busy@example.com")) == 1

        response = client.post(f"{PAGE}/{fine.id}/resend", follow_redirects=True)
        assert "未重新加入队列" in response.get_data(as_text=True)
        clock.advance(timedelta(days=1))
        assert sender.send_due()["sent"] == 0
    assert len(smtp_server.received) == 3


def test_the_page_forms_need_the_csrf_token(app, client, smtp_server):
    app.config["WTF_CSRF_ENABLED"] = True
    admin = factories.make_user("admin")
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"username": admin.username, "password": factories.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    queue_message("nobody@example.com", "今日待办", "正文", "<p>正文</p>", kind="reminders")
    db.session.commit()
    [message] = _messages()

    assert client.post(PAGE, data={"address": "wang@example.com"}).status_code == 400
    assert client.post(f"{PAGE}/{message.id}/resend").status_code == 400
    assert [m.kind for m in _messages()] == ["reminders"]

    html = client.get(PAGE).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(PAGE, data={"address": "wang@example.com", "csrf_token": token})
    assert response.status_code == 302
    assert sorted(m.kind for m in _messages()) == ["reminders", "test"]
