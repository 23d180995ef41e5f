"""The weekly digest to the bureau heads: when it is queued, to whom, once, and what it says.

The week is 2026-11-30 to 12-06; its digest is due from 08:00 on Monday 2026-12-07, bureau time
(UTC+8). Every figure is built from dated records around the week's edges.
"""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from crm.certification.models import CertificationApplication, Duty
from crm.coaching.models import CoachingMeasure, CoachingPlan
from crm.core import clock
from crm.core.database import write_transactions
from crm.dashboard import digest as digests
from crm.extensions import db
from crm.jobs import registry
from crm.mail import sender
from crm.mail.models import OutboxMessage
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from crm.support.models import SupportEntry
from tests import factories

MONDAY = date(2026, 12, 7)
SUBJECT = "科技企业培育 CRM：每周概况（2026-11-30 至 12-06）"
BASE_URL = "https://crm.kjj.example.gov.cn/crm"
RESERVE = MoveInputs(entry_reason=4)


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """Return the naive UTC time of `hour:minute` on `day` in the bureau (UTC+8)."""
    return datetime(day.year, day.month, day.day, hour, minute) - timedelta(hours=8)


RUN = local(MONDAY, 9)


def expires(on: date) -> date:
    """Return the issue date of a certificate expiring on `on` (issue + 3 years - 1 day)."""
    issued = on + timedelta(days=1)
    return issued.replace(year=issued.year - 3)


@pytest.fixture
def world(app):
    """Bureau heads and other users; firms with moves, certificates, duties, measures, money."""
    with clock.frozen(local(date(2026, 1, 5))):
        manager = factories.make_user("manager", name="王经理", email="wang@example.com")
        heads = {
            "zhang": factories.make_user("bureau_head", name="张局长", email="zhang@example.com"),
            "li": factories.make_user("bureau_head", name="李局长", email="Li@Example.com"),
        }
        factories.make_user("bureau_head", name="无邮箱局长", email=None)
        factories.make_user(
            "bureau_head", name="停用局长", email="gone@example.com", is_active=False
        )
        factories.make_user("admin", name="管理员", email="admin@example.com")

        def firm(name: str):
            made = factories.make_firm(name=name, manager=manager)
            for year in range(2019, 2026):
                factories.make_year(made, year)
            return made

        firms = {
            key: firm(name)
            for key, name in {
                "old": "梧州旧入库科技有限公司",
                "new": "梧州<新星>科技有限公司",
                "late": "梧州补录科技有限公司",
                "sunday": "梧州周日科技有限公司",
                "monday": "梧州周一科技有限公司",
                "soon": "梧州即将到期科技有限公司",
                "day90": "梧州九十天科技有限公司",
                "day91": "梧州九十一天科技有限公司",
                "idle": "梧州逾期科技有限公司",
            }.items()
        }
        # Certificates recorded long before the week: not news, but expiring soon or not.
        factories.make_certificate(firms["soon"], expires(date(2026, 12, 17)), "GR202345000001")
        factories.make_certificate(firms["day90"], expires(date(2027, 3, 7)), "GR202445000002")
        factories.make_certificate(firms["day91"], expires(date(2027, 3, 8)), "GR202445000003")
        batch = factories.make_batch(2026, "第一批")
        db.session.add(
            CertificationApplication(
                firm_id=firms["soon"].id,
                batch_id=batch.id,
                submitted_on=date(2026, 6, 1),
                is_renewal=True,
            )
        )
        # Overdue: the 2025 annual report and torch statistics of one firm, a filed report of
        # another, and coaching measures due before, after and done.
        db.session.add_all(
            [
                Duty(
                    firm_id=firms["idle"].id,
                    kind="annual_report",
                    year=2025,
                    due_on=date(2026, 5, 31),
                ),
                Duty(firm_id=firms["idle"].id, kind="torch", year=2025, due_on=date(2026, 3, 31)),
                Duty(
                    firm_id=firms["soon"].id,
                    kind="annual_report",
                    year=2025,
                    due_on=date(2026, 5, 31),
                    filed_on=date(2026, 5, 20),
                ),
            ]
        )
        plan = CoachingPlan(
            firm_id=firms["idle"].id, year=2026, status="active", manager_id=manager.id
        )
        db.session.add(plan)
        db.session.flush()
        for title, due_on, status in (
            ("归集研发费用", date(2026, 12, 1), "planned"),
            ("申请发明专利", date(2026, 12, 20), "planned"),
            ("完善研发制度", date(2026, 11, 1), "done"),
        ):
            db.session.add(
                CoachingMeasure(
                    plan_id=plan.id,
                    firm_id=firms["idle"].id,
                    title=title,
                    due_on=due_on,
                    status=status,
                )
            )
        # Support: paid in the week, before it, after it, and not paid.
        for amount, paid_on, status in (
            ("200000", date(2026, 12, 3), "paid"),
            ("50000", date(2026, 11, 30), "paid"),
            ("70000", date(2026, 11, 29), "paid"),
            ("90000", date(2026, 12, 7), "paid"),
            ("30000", None, "claimable"),
        ):
            db.session.add(
                SupportEntry(
                    firm_id=firms["new"].id,
                    kind="hte_award",
                    amount=Decimal(amount),
                    granted_on=date(2026, 11, 1),
                    status=status,
                    paid_on=paid_on,
                )
            )
        db.session.add(
            SupportEntry(
                firm_id=firms["old"].id,
                kind="voucher",
                amount=Decimal("10000"),
                granted_on=date(2026, 11, 1),
                status="paid",
                paid_on=date(2026, 12, 6),
            )
        )
        db.session.flush()

    def at(when: datetime, action):
        with clock.frozen(when):
            return action()

    # Two weeks ago: enrolled, not a move of the week.
    at(
        local(date(2026, 11, 20)),
        lambda: enroll_firm(firms["old"], "hte", "prospect", MoveInputs(), manager),
    )
    # The week: enrolled on Tuesday, into the reserve on Wednesday.
    new = at(
        local(date(2026, 12, 1)),
        lambda: enroll_firm(firms["new"], "hte", "prospect", MoveInputs(), manager),
    )
    at(local(date(2026, 12, 2)), lambda: move_firm(new.enrollment, "reserve", RESERVE, manager))
    # Recorded in the week, dated a month before: a move of the week.
    at(
        local(date(2026, 12, 3)),
        lambda: enroll_firm(
            firms["late"], "hte", "prospect", MoveInputs(moved_on=date(2026, 11, 2)), manager
        ),
    )
    # 23:30 on Sunday is in the week; 00:30 on Monday is not.
    at(
        local(date(2026, 12, 6), 23, 30),
        lambda: enroll_firm(firms["sunday"], "listing", "pool", MoveInputs(), manager),
    )
    at(
        local(MONDAY, 0, 30),
        lambda: enroll_firm(firms["monday"], "hte", "prospect", MoveInputs(), manager),
    )
    # Certificates recorded in the week, two weeks ago, and on Monday.
    at(
        local(date(2026, 12, 4)),
        lambda: factories.make_certificate(firms["new"], date(2026, 11, 25), "GR202645000009"),
    )
    at(
        local(date(2026, 11, 23)),
        lambda: factories.make_certificate(firms["old"], date(2026, 11, 20), "GR202645000008"),
    )
    at(
        local(MONDAY, 7),
        lambda: factories.make_certificate(firms["monday"], date(2026, 11, 26), "GR202645000007"),
    )
    db.session.commit()
    return {"heads": heads, "firms": firms, "manager": manager}


def _messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)))


def _queue(at: datetime = RUN) -> int:
    with clock.frozen(at):
        queued = digests.queue_digests()
        db.session.commit()
    return queued


def _parts(received):
    text, html = received.message.iter_parts()
    # SMTP carries CRLF lines.
    return (part.get_content().replace("\r\n", "\n") for part in (text, html))


def test_a_monday_run_queues_one_digest_per_head_that_the_sender_delivers(app, world, smtp_server):
    app.config["BASE_URL"] = BASE_URL

    assert _queue() == 2

    messages = _messages()
    assert [(m.recipient, m.kind, m.day) for m in messages] == [
        ("Li@example.com", "digest", MONDAY),
        ("zhang@example.com", "digest", MONDAY),
    ]
    with clock.frozen(RUN):
        assert sender.send_due()["sent"] == 2
    assert sorted(address for item in smtp_server.received for address in item.rcpt_tos) == [
        "Li@example.com",
        "zhang@example.com",
    ]
    [received] = smtp_server.to("zhang@example.com")
    assert received.message["Subject"] == SUBJECT
    text, html = _parts(received)
    assert "张局长，您好" in text and "李局长" not in text
    assert "2026-11-30 至 12-06 一周" in text
    # The high-tech programme now: old, late and monday are prospects, new is in the reserve.
    assert "【高企培育】各阶段企业：\n  意向企业：3 家\n  高企后备库：1 家\n" in text
    # The moves recorded in the week: new's two, late's backdated one, sunday's listing one.
    assert (
        "上周记录的阶段变动 3 次：\n  新入库 → 意向企业：2 次\n  意向企业 → 高企后备库：1 次\n"
        in text
    )
    assert "【上市后备】各阶段企业：\n  入库培育：1 家\n" in text
    assert "  新入库 → 入库培育：1 次" in text
    # Expiring within 90 days of Monday: soon (re-applied) and day90, not day91.
    assert "90 天内到期的高企证书：2 家（已重新申报 1 家，尚未申报 1 家）" in text
    assert (
        "1. 梧州即将到期科技有限公司：有效期至 2026-12-17（还剩 10 天），2026 年第一批：已申报"
        in text
    )
    assert "2. 梧州九十天科技有限公司：有效期至 2027-03-07（还剩 90 天），尚未重新申报" in text
    assert "九十一天" not in text
    # Overdue: the 2025 reports of one firm and its measure due on 1 December.
    assert "年度发展情况报表（2025 年度）：逾期 1 项，涉及 1 家企业" in text
    assert "火炬统计年报（2025 年度）：逾期 1 项，涉及 1 家企业" in text
    assert "一企一策辅导措施：逾期 1 项，涉及 1 家企业" in text
    assert "1. 梧州逾期科技有限公司（服务专员：王经理）：3 项" in text
    # Certificates recorded in the week: new's only.
    assert "上周新记录的高企证书：1 家\n1. 梧州<新星>科技有限公司：发证日期 2026-11-25" in text
    assert "GR202645000009" in text
    assert "GR202645000008" not in text and "GR202645000007" not in text
    # Paid from Monday 30 November to Sunday 6 December.
    assert "上周拨付的扶持资金：3 笔，合计 26.00 万元" in text
    assert "  高企认定奖励：2 笔，25.00 万元\n  创新券：1 笔，1.00 万元" in text
    assert f"登录系统查看详情：{BASE_URL}/dashboard/" in text
    # The HTML part says the same, escaped, with the link.
    assert "梧州&lt;新星&gt;科技有限公司" in html and "<新星>" not in html
    assert f'<a href="{BASE_URL}/dashboard/">' in html
    assert "2026 年第一批：已申报" in html
    assert "合计 26.00 万元" in html

    # A second run that Monday, and a later one in the week, queue and send nothing more.
    assert _queue(RUN + timedelta(hours=1)) == 0
    assert _queue(local(date(2026, 12, 10), 9)) == 0
    assert len(_messages()) == 2
    with clock.frozen(RUN + timedelta(hours=1)):
        assert sender.send_due()["sent"] == 0
    assert len(smtp_server.received) == 2


def test_the_due_week_runs_from_the_hour_on_monday_to_sunday_night(app):
    assert digests.due_week(local(MONDAY, 7, 59), 8) is None
    assert digests.due_week(local(MONDAY, 8), 8) == digests.Week(MONDAY)
    assert digests.due_week(local(date(2026, 12, 13), 23, 59), 8) == digests.Week(MONDAY)
    # 00:30 on Monday in the bureau is still Sunday in UTC: the week is the bureau's.
    assert digests.due_week(local(date(2026, 12, 14), 0, 30), 0) == digests.Week(date(2026, 12, 14))
    assert digests.Week(MONDAY).label == "2026-11-30 至 12-06"
    assert digests.Week(date(2027, 1, 4)).label == "2026-12-28 至 2027-01-03"
    assert digests.Week(MONDAY).utc_bounds() == (
        datetime(2026, 11, 29, 16, 0),
        datetime(2026, 12, 6, 16, 0),
    )


def test_nothing_is_queued_before_the_hour_on_monday(app, world, smtp_server):
    assert _queue(local(MONDAY, 7, 59)) == 0
    assert _messages() == []

    app.config["DIGEST_HOUR"] = 7
    assert _queue(local(MONDAY, 7, 59)) == 2


def test_a_worker_down_on_monday_sends_the_digest_later_that_week_once(app, world, smtp_server):
    wednesday = local(date(2026, 12, 9), 14)

    assert _queue(wednesday) == 2

    assert {(m.day, m.subject) for m in _messages()} == {(MONDAY, SUBJECT)}
    # The next Monday before the hour: that week's digest is not due yet, this one went out.
    assert _queue(local(date(2026, 12, 14), 7)) == 0
    assert len(_messages()) == 2
    # From its hour, the next week's digest goes out.
    assert _queue(local(date(2026, 12, 14), 8)) == 2
    assert [m.day for m in _messages() if m.recipient == "zhang@example.com"] == [
        MONDAY,
        date(2026, 12, 14),
    ]


def test_a_head_added_later_in_the_week_gets_it_and_the_others_not_again(app, world, smtp_server):
    assert _queue() == 2
    [zhang] = [m for m in _messages() if m.recipient == "zhang@example.com"]
    zhang.text_body = "已发送"
    db.session.commit()

    factories.make_user("bureau_head", name="赵局长", email="zhao@example.com")
    db.session.commit()
    assert _queue(RUN + timedelta(days=1)) == 1

    assert [m.recipient for m in _messages()] == [
        "Li@example.com",
        "zhang@example.com",
        "zhao@example.com",
    ]
    db.session.refresh(zhang)
    assert zhang.text_body == "已发送"


def test_a_bad_address_is_skipped_and_the_others_are_served(app, world, smtp_server):
    world["heads"]["li"].email = "李局长的邮箱"
    db.session.commit()

    assert _queue() == 1

    assert [m.recipient for m in _messages()] == ["zhang@example.com"]


def test_without_base_url_the_digest_has_no_link(app, world, smtp_server):
    app.config["BASE_URL"] = ""
    _queue()
    message = _messages()[0]
    assert "登录系统查看详情" not in message.text_body
    assert "<a " not in message.html_body


def test_with_e_mail_off_nothing_is_queued(app, world):
    app.config.update(SMTP_HOST="", MAIL_FROM="")

    assert _queue() == 0

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_long_lists_are_capped_and_say_how_many_more(app, world):
    with clock.frozen(local(date(2026, 1, 5))):
        for n in range(21):
            firm = factories.make_firm(name=f"梧州批量{n:02d}科技有限公司")
            factories.make_certificate(firm, expires(date(2027, 1, 10)))
    db.session.commit()

    with clock.frozen(RUN):
        digest = digests.build_digest(digests.Week(MONDAY), MONDAY)
        text, html = digests.render(world["heads"]["zhang"], digest)

    assert (digest.expiring.total, len(digest.expiring.rows), digest.expiring.more) == (23, 20, 3)
    assert digest.expiring_reapplied == 1
    assert "90 天内到期的高企证书：23 家（已重新申报 1 家，尚未申报 22 家）" in text
    assert "另有 3 家，请登录系统查看。" in text
    assert "另有 3 家，请登录系统查看。" in html
    # Soonest first: the certificate expiring on 17 December leads, day90's is left out.
    assert digest.expiring.rows[0].firm == "梧州即将到期科技有限公司"
    assert "梧州九十天科技有限公司" not in text


def test_the_figures_take_one_statement_each(app, world):
    statements = []

    def count(connection, cursor, statement, *args):
        if not statement.startswith("SAVEPOINT"):  # the test's transaction, not a query
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with clock.frozen(RUN):
            digests.build_digest(digests.Week(MONDAY), MONDAY)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # Stages of two programmes, moves, expiring, overdue counts and firms, certificates, money.
    assert len(statements) == 8


def test_the_worker_offers_the_digest_every_quarter_of_an_hour(app, world, smtp_server):
    [spec] = [spec for spec in registry.periodic_jobs() if spec.name == "dashboard.digest"]
    assert spec.seconds == 15 * 60

    with clock.frozen(RUN):
        assert spec.fn() == 2
        db.session.commit()
        assert spec.fn() == 0


@pytest.mark.real_commits
def test_two_workers_at_once_queue_one_digest_per_head(app, smtp_server):
    for name, email in (("张局长", "zhang@example.com"), ("李局长", "li@example.com")):
        factories.make_user("bureau_head", name=name, email=email)
    db.session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def queue_in_a_session_of_its_own():
        try:
            with app.app_context(), write_transactions():
                barrier.wait(timeout=30)
                digests.queue_digests(RUN)
                db.session.commit()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=queue_in_a_session_of_its_own) for _ in range(2)]
    with clock.frozen(RUN):  # the clock is the process's: frozen once, for both threads
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    db.session.remove()
    rows = db.session.execute(
        select(OutboxMessage.recipient, OutboxMessage.kind, OutboxMessage.day).order_by(
            OutboxMessage.recipient
        )
    ).all()
    assert rows == [
        ("li@example.com", "digest", MONDAY),
        ("zhang@example.com", "digest", MONDAY),
    ]
