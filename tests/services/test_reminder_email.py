"""The day's reminder e-mail: queued by the scan in its transaction, sent to a real SMTP server."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.coaching.models import CoachingMeasure, CoachingPlan
from crm.core import clock
from crm.extensions import db
from crm.mail import sender
from crm.mail.models import OutboxMessage
from crm.reminders.email import kinds_off, set_kinds_on
from crm.reminders.scan import scan
from tests import factories

DAY = date(2026, 6, 3)
NOW = datetime(2026, 6, 3, 1, 0)  # 09:00 in the bureau
BASE_URL = "https://crm.kjj.example.gov.cn/crm"


@pytest.fixture
def world(app):
    """A manager with an e-mail address, a firm of theirs and its coaching plan."""
    owner = factories.make_user("manager", name="王经理", email="wang@example.com")
    firm = factories.make_firm(manager=owner, name="梧州<星光>科技有限公司")
    plan = CoachingPlan(firm_id=firm.id, year=2026, status="active", manager_id=owner.id)
    db.session.add(plan)
    db.session.flush()
    return {"owner": owner, "firm": firm, "plan": plan}


def _measure(world, title: str, due_on: date):
    measure = CoachingMeasure(
        plan_id=world["plan"].id,
        firm_id=world["firm"].id,
        title=title,
        owner_id=world["owner"].id,
        due_on=due_on,
    )
    db.session.add(measure)
    db.session.flush()
    return measure


def _messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _scan(at: datetime = NOW) -> int:
    with clock.frozen(at):
        created = sum(item.created for item in scan(clock.today()))
        db.session.commit()
    return created


def _parts(received):
    text, html = received.message.iter_parts()
    return text.get_content(), html.get_content()


def test_a_scan_queues_one_message_per_user_and_day_that_the_sender_delivers(
    app, world, smtp_server
):
    app.config["BASE_URL"] = BASE_URL
    _measure(world, "归集研发费用", DAY + timedelta(days=7))
    _measure(world, "申请发明专利", DAY + timedelta(days=5))

    assert _scan() == 2

    [message] = _messages()
    assert (message.recipient, message.kind, message.day) == ("wang@example.com", "reminders", DAY)
    with clock.frozen(NOW):
        assert sender.send_due()["sent"] == 1
    [received] = smtp_server.to("wang@example.com")
    assert received.message["Subject"] == "科技企业培育 CRM：今日提醒 2 项"
    text, html = _parts(received)
    assert "王经理，您好" in text
    assert text.count("辅导措施到期") == 2
    assert "梧州<星光>科技有限公司" in text
    assert "2026-06-10" in text and "2026-06-08" in text
    link = f"{BASE_URL}/firms/{world['firm'].id}"
    assert f"查看：{link}" in text
    assert "梧州&lt;星光&gt;科技有限公司" in html and "<星光>" not in html
    assert f'<a href="{link}' in html

    # A rerun the same day makes no reminder and no second message.
    assert _scan(NOW + timedelta(hours=1)) == 0
    assert len(_messages()) == 1
    with clock.frozen(NOW + timedelta(hours=1)):
        assert sender.send_due()["sent"] == 0
    assert len(smtp_server.received) == 1


def test_a_later_scan_the_same_day_adds_to_the_waiting_message(app, world, smtp_server):
    _measure(world, "归集研发费用", DAY + timedelta(days=7))
    assert _scan() == 1
    [message] = _messages()
    assert message.subject.endswith("今日提醒 1 项")
    assert "查看：" not in message.text_body  # no CRM_BASE_URL: no links
    assert "<a " not in message.html_body

    _measure(world, "申请发明专利", DAY + timedelta(days=6))
    assert _scan(NOW + timedelta(hours=1)) == 1

    [message] = _messages()
    db.session.refresh(message)
    assert message.subject.endswith("今日提醒 2 项")
    assert message.text_body.count("辅导措施到期") == 2
    with clock.frozen(NOW + timedelta(hours=1)):
        assert sender.send_due()["sent"] == 1
    assert len(smtp_server.to("wang@example.com")) == 1


def test_a_user_who_turned_that_kind_off_gets_no_message(app, world, smtp_server):
    set_kinds_on(world["owner"].id, ["no_contact"])
    db.session.commit()
    assert "measure_due" in kinds_off(world["owner"].id)
    _measure(world, "归集研发费用", DAY + timedelta(days=7))

    assert _scan() == 1  # the reminder is made: it shows in the app

    assert _messages() == []


def test_users_without_an_address_and_firms_get_no_message(app, world, smtp_server):
    world["owner"].email = None
    _measure(world, "归集研发费用", DAY + timedelta(days=7))
    assert _scan() == 1
    assert _messages() == []


def test_with_no_smtp_server_the_scan_queues_nothing(app, world):
    app.config.update(SMTP_HOST="", MAIL_FROM="")
    _measure(world, "归集研发费用", DAY + timedelta(days=7))

    assert _scan() == 1

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
