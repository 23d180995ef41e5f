"""The day's reminder e-mail: queued by the scan in its transaction, sent to a real SMTP server."""

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.certification.models import Duty
from crm.coaching.models import CoachingMeasure, CoachingPlan
from crm.core import clock
from crm.extensions import db
from crm.mail import sender
from crm.mail.models import OutboxMessage
from crm.pipeline.models import Enrollment, Programme, Stage
from crm.reminders.email import kinds_off, set_kinds_on
from crm.reminders.models import Reminder, ReminderRule
from crm.reminders.scan import scan
from crm.reminders.services import create_rule_version, rule_in_force
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


def test_a_firms_new_manager_gets_its_open_reminder_in_their_message(app, world, smtp_server):
    # Past its due date and with no overdue notice, the rule says nothing more about the measure:
    # its open reminder moves to the firm's new manager, and so into their message.
    rule = db.session.scalar(select(ReminderRule).filter_by(code="measure_due"))
    settings = rule_in_force(rule, DAY).settings
    create_rule_version(rule, replace(settings, overdue=False), DAY, "逾期不再提醒", None)
    measure = _measure(world, "归集研发费用", DAY)
    measure.owner_id = None
    world["plan"].manager_id = None  # the owner falls back to the firm's manager
    assert _scan() == 1
    assert [m.recipient for m in _messages()] == ["wang@example.com"]

    new = factories.make_user("manager", name="李经理", email="li@example.com")
    world["firm"].manager_id = new.id
    assert _scan(NOW + timedelta(days=1)) == 1

    [message] = [m for m in _messages() if m.day == DAY + timedelta(days=1)]
    assert message.recipient == "li@example.com"
    assert "李经理，您好" in message.text_body
    assert "辅导措施到期（0 天）" in message.text_body and "2026-06-03" in message.text_body


# --- Enterprise users: their firm's reminders -------------------------------------------------


def _coaching(firm) -> None:
    programme = db.session.scalar(select(Programme).where(Programme.code == "hte"))
    stage = db.session.scalar(
        select(Stage).where(Stage.programme_id == programme.id, Stage.code == "coaching")
    )
    db.session.add(
        Enrollment(
            firm_id=firm.id,
            programme_id=programme.id,
            stage_id=stage.id,
            opened_on=DAY - timedelta(days=10),
        )
    )
    db.session.flush()


@pytest.fixture
def firms(app, world):
    """The world's firm with its reminders of the day to the firm, its enterprise users, and
    another firm with a user of its own and nothing due."""
    firm = world["firm"]
    # Due in 30 days: the annual report's first notice, to the firm and its manager.
    db.session.add(
        Duty(firm_id=firm.id, kind="annual_report", year=2025, due_on=DAY + timedelta(30))
    )
    factories.make_batch(2026)  # open for applications, to the firm in coaching
    _coaching(firm)
    factories.make_qualification(firm, "tech_sme", 2025)  # not registered again this year
    other = factories.make_firm(manager=factories.make_user("manager", email="li@example.com"))
    users = {
        "zhao": factories.make_user("enterprise", name="赵会计", email="zhao@firm.example.com"),
        "qian": factories.make_user("enterprise", name="钱经理", email="qian@firm.example.com"),
        "sun": factories.make_user("enterprise", email="sun@firm.example.com", is_active=False),
        "li": factories.make_user("enterprise", email=None),
        "zhou": factories.make_user("enterprise", email="zhou@other.example.com"),
    }
    for name, user in users.items():
        user.firm_id = (other if name == "zhou" else firm).id
    db.session.flush()
    return users


def _to(smtp_server, address: str) -> tuple[str, str]:
    [received] = smtp_server.to(address)
    return _parts(received)


def test_each_enterprise_user_gets_their_firms_reminders_in_a_message_of_their_own(
    app, world, firms, smtp_server
):
    app.config["BASE_URL"] = BASE_URL
    firm = world["firm"]
    # 钱经理 is also named owner of a coaching measure: their own reminder joins the firm's.
    measure = _measure(world, "提交研发台账", DAY + timedelta(days=7))
    measure.owner_id = firms["qian"].id

    assert _scan() == 6  # 3 to the firm, 2 to its manager, 1 to 钱经理

    recipients = [m.recipient for m in _messages()]
    assert sorted(recipients) == [
        "qian@firm.example.com",
        "wang@example.com",
        "zhao@firm.example.com",
    ]  # not the inactive user, not the one without an address, not the other firm's user
    with clock.frozen(NOW):
        assert sender.send_due()["sent"] == 3
    home = f"{BASE_URL}/portal/"

    text, html = _to(smtp_server, "zhao@firm.example.com")
    assert "赵会计，您好" in text and "您有 3 项新的提醒" in text
    for label in ("高企年度发展情况报表", "高企认定申报窗口", "科技型中小企业重新评价入库"):
        assert label in text
    assert "辅导措施到期" not in text  # 钱经理's own reminder is not 赵会计's
    # Links open the portal's home: the bureau's pages (the firm's, the batch's) are left out.
    assert text.count(f"查看：{home}\r\n") == 3
    assert f"/firms/{firm.id}" not in text and f"/firms/{firm.id}" not in html
    assert "/certification/" not in text and "tab=" not in text
    assert html.count(f'<a href="{home}">') == 3

    text, _ = _to(smtp_server, "qian@firm.example.com")
    assert "钱经理，您好" in text and "您有 4 项新的提醒" in text
    assert "辅导措施到期" in text and "高企认定申报窗口" in text
    assert text.count(f"查看：{home}\r\n") == 4  # their own measure's too
    assert "/firms/" not in text and "/coaching/" not in text and "tab=coaching" not in text

    # The manager's own message keeps the staff's links.
    text, _ = _to(smtp_server, "wang@example.com")
    assert "您有 2 项新的提醒" in text  # the report and the batch
    assert "tab=certification" in text and "/certification/" in text

    # A rerun the same day queues nothing twice and sends nothing again.
    assert _scan(NOW + timedelta(hours=1)) == 0
    assert len(_messages()) == 3
    with clock.frozen(NOW + timedelta(hours=1)):
        assert sender.send_due()["sent"] == 0
    assert len(smtp_server.received) == 3


def test_an_enterprise_user_chooses_the_kinds_of_their_firms_reminders(
    app, world, firms, smtp_server
):
    zhao, qian = firms["zhao"], firms["qian"]
    set_kinds_on(zhao.id, ["tech_sme_registration"], ["annual_report", "tech_sme_registration"])
    set_kinds_on(qian.id, [])  # nothing by e-mail
    db.session.commit()

    assert _scan() > 0

    [message] = [m for m in _messages() if m.recipient != "wang@example.com"]
    assert message.recipient == "zhao@firm.example.com"
    assert message.subject.endswith("今日提醒 2 项")
    assert "科技型中小企业重新评价入库" in message.text_body
    assert "高企认定申报窗口" in message.text_body
    assert "高企年度发展情况报表" not in message.text_body
    with clock.frozen(NOW):
        assert sender.send_due()["sent"] == 2
    assert smtp_server.to("qian@firm.example.com") == []
    # The firm's reminders are made all the same: they show in the app.
    firm_reminders = select(func.count(Reminder.id)).where(Reminder.recipient_kind == "firm")
    assert db.session.scalar(firm_reminders) == 3


def test_a_later_scan_adds_the_firms_new_reminder_to_the_waiting_message(
    app, world, firms, smtp_server
):
    assert _scan() > 0
    [message] = [m for m in _messages() if m.recipient == "zhao@firm.example.com"]
    assert message.subject.endswith("今日提醒 3 项")

    db.session.add(
        Duty(firm_id=world["firm"].id, kind="torch", year=2025, due_on=DAY + timedelta(days=6))
    )
    assert _scan(NOW + timedelta(hours=1)) == 1  # the torch statistics, to the firm only

    db.session.refresh(message)
    assert message.subject.endswith("今日提醒 4 项")
    assert "火炬统计年报" in message.text_body
    assert len(_messages()) == 3
