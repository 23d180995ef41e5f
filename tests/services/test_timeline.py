"""A firm's timeline on a real database: every source, newest first, paged by a cursor."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from crm.certification.models import CertificationBatch
from crm.coaching import services as coaching
from crm.coaching.models import Activity
from crm.core import clock
from crm.core.audit import AuditEntry, audit_source
from crm.extensions import db
from crm.firms.timeline import firm_timeline
from crm.firms.timeline_items import Key
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from crm.support import services as support
from crm.support.models import SupportEntry
from tests import factories


def at(day: date, hour: int = 2, minute: int = 0):
    """Freeze the clock at a UTC time of `day` (02:00 UTC is 10:00 in Wuzhou)."""
    return clock.frozen(datetime(day.year, day.month, day.day, hour, minute))


@pytest.fixture
def story(app):
    """One firm's first half of 2026, told through the services; today is 2026-06-15."""
    with at(date(2026, 1, 5)):
        manager = factories.make_user("manager", districts=[factories.district()], name="陈专员")
        head = factories.make_user("bureau_head", name="黄局长")
        db.session.commit()
        with audit_source("web", manager.id):
            firm = factories.make_firm(manager=manager, name="梧州时间线科技有限公司")
            for year in (2023, 2024, 2025):
                factories.make_year(firm, year)
            batch = CertificationBatch(
                year=2026, name="第一批", opens_on=date(2026, 5, 1), closes_on=date(2026, 7, 31)
            )
            db.session.add(batch)
        db.session.commit()

    def step(day, action, actor=manager, hour=2, minute=0):
        with at(day, hour, minute), audit_source("web", actor.id):
            result = action()
            db.session.commit()
        return result

    enrollment = step(
        date(2026, 2, 1),
        lambda: (
            enroll_firm(
                firm, "hte", "reserve", MoveInputs(), head, override_reason="局务会议研究同意"
            ).enrollment
        ),
        actor=head,
    )
    values = {
        "kind": "visit",
        "occurred_on": date(2026, 2, 9),
        "participants": "黄局长、陈专员",
        "notes": "了解研发投入情况\n企业计划新建研发中心",
        "follow_up": "补充研发费用辅助账",
        "follow_up_due_on": date(2026, 3, 1),
    }
    step(date(2026, 2, 10), lambda: coaching.log_activity(firm, values, manager))

    def plan_with_measures():
        plan = coaching.create_plan(firm, 2026, manager)
        ledger = coaching.add_measure(
            plan, {"title": "建立研发费用辅助账", "owner": "财务部", "due_on": date(2026, 4, 30)}
        )
        patents = coaching.add_measure(
            plan, {"title": "申请发明专利 2 项", "owner": "技术部", "due_on": date(2026, 3, 20)}
        )
        return ledger, patents

    ledger, patents = step(date(2026, 3, 1), plan_with_measures)
    step(date(2026, 3, 15), lambda: move_firm(enrollment, "coaching", MoveInputs(), manager))
    step(
        date(2026, 3, 18),
        lambda: coaching.update_measure(patents, {"status": "done", "result": "已受理 2 项"}),
    )
    step(
        date(2026, 5, 10),
        lambda: move_firm(enrollment, "applied", MoveInputs(batch_id=batch.id), manager),
    )

    def edit_firm():
        firm.address = "梧州市万秀区新兴二路 1 号"
        firm.notes = "重点培育"
        db.session.flush()

    # 01:30 on 20 May in Wuzhou is still 19 May in UTC.
    step(date(2026, 5, 19), edit_firm, hour=17, minute=30)
    step(
        date(2026, 5, 20),
        lambda: coaching.log_activity(
            firm, {"kind": "phone", "occurred_on": date(2026, 5, 20), "notes": "确认申报材料"}
        ),
        hour=3,
    )
    step(date(2026, 6, 5), lambda: move_firm(enrollment, "review", MoveInputs(), manager))
    step(
        date(2026, 6, 12),
        lambda: move_firm(enrollment, "not_certified", MoveInputs(reason="评审未通过"), manager),
    )
    entry = db.session.scalars(select(SupportEntry).filter_by(firm_id=firm.id)).one()

    def pay():
        entry.amount = Decimal("200000")
        support.mark_paid(entry, "梧科字〔2026〕8号", date(2026, 6, 14))

    step(date(2026, 6, 14), pay)
    with at(date(2026, 6, 15)):
        yield {"firm": firm, "manager": manager, "head": head, "ledger": ledger}


EXPECTED = [
    ("2026-06-14", "support", "扶持资金拨付：辅导认定经费"),
    ("2026-06-14", "audit", "修改扶持台账：金额（万元）、文号、状态等 4 项"),
    ("2026-06-12", "support", "记入扶持台账：辅导认定经费"),
    ("2026-06-12", "certification", "高企认定未通过（2026 年第一批）"),
    ("2026-06-12", "transition", "高企培育：评审/公示中 → 未通过"),
    ("2026-06-12", "audit", "修改高企认定申报：结果、结果日期、原因"),
    ("2026-06-05", "transition", "高企培育：已申报 → 评审/公示中"),
    ("2026-06-05", "audit", "修改高企认定申报：结果"),
    ("2026-05-20", "activity", "电话：确认申报材料"),
    ("2026-05-20", "audit", "修改企业信息：地址、备注"),
    ("2026-05-10", "certification", "申报高企认定：2026 年第一批"),
    ("2026-05-10", "transition", "高企培育：一企一策辅导 → 已申报"),
    ("2026-04-30", "measure", "辅导措施到期：建立研发费用辅助账"),
    ("2026-03-18", "measure", "完成辅导措施：申请发明专利 2 项"),
    ("2026-03-18", "audit", "修改辅导措施：状态、结果、完成日期"),
    ("2026-03-15", "transition", "高企培育：高企后备库 → 一企一策辅导"),
    ("2026-03-01", "measure", "新增辅导措施：申请发明专利 2 项"),
    ("2026-03-01", "measure", "新增辅导措施：建立研发费用辅助账"),
    ("2026-03-01", "audit", "新建一企一策方案：2026 年度方案"),
    ("2026-02-09", "activity", "走访：了解研发投入情况"),
    ("2026-02-01", "transition", "加入高企培育（高企后备库）"),
    ("2026-01-05", "audit", "新建年度数据：2025 年度"),
    ("2026-01-05", "audit", "新建年度数据：2024 年度"),
    ("2026-01-05", "audit", "新建年度数据：2023 年度"),
    ("2026-01-05", "audit", "新建企业信息：梧州时间线科技有限公司"),
]


def outline(items) -> list[tuple]:
    return [(item.key.on.isoformat(), item.kind, item.title) for item in items]


def by_title(items, title):
    return next(item for item in items if item.title == title)


def test_every_source_appears_newest_first(story):
    page = firm_timeline(story["firm"].id, per_page=100)
    assert outline(page.items) == EXPECTED
    assert page.next_cursor is None and page.is_first


def test_items_say_who_and_what(story):
    items = firm_timeline(story["firm"].id, per_page=100).items
    enrolled = by_title(items, "加入高企培育（高企后备库）")
    assert (enrolled.badge, enrolled.who, enrolled.icon) == (
        "越过门槛",
        "黄局长",
        "bi-shield-exclamation",
    )
    assert "越过门槛的理由：局务会议研究同意" in enrolled.details
    visit = by_title(items, "走访：了解研发投入情况")
    assert visit.who == "陈专员"
    assert visit.details == [
        "参加人员：黄局长、陈专员",
        "内容：了解研发投入情况\n企业计划新建研发中心",
        "后续事项：补充研发费用辅助账（未办结，时限 2026-03-01）",
    ]
    due = by_title(items, "辅导措施到期：建立研发费用辅助账")
    assert (due.badge, due.who, due.details) == ("逾期", "财务部", ["到期时未完成，当前：未开始"])
    created = by_title(items, "新增辅导措施：建立研发费用辅助账")
    assert created.who == "陈专员"  # from the audit trail: the measure has no author column
    assert created.details == ["2026 年度一企一策方案", "责任人：财务部", "完成时限：2026-04-30"]
    assert created.at == datetime(2026, 3, 1, 2, 0)
    edited = by_title(items, "修改企业信息：地址、备注")
    assert edited.details == ["地址：（空） → 梧州市万秀区新兴二路 1 号", "备注：（空） → 重点培育"]
    assert (edited.who, edited.at) == ("陈专员", datetime(2026, 5, 19, 17, 30))
    paid = by_title(items, "扶持资金拨付：辅导认定经费")
    assert paid.details == ["金额：20.00 万元", "文号：梧科字〔2026〕8号"]
    assert paid.who == "陈专员"
    result = by_title(items, "高企认定未通过（2026 年第一批）")
    assert result.details == ["原因：评审未通过"]
    assert result.who == "陈专员"


@pytest.mark.parametrize("per_page", [1, 2, 3, 4, 7, 24, 25])
def test_paging_walks_the_same_list_without_gaps_or_repeats(story, per_page):
    seen, cursor, pages = [], None, 0
    while True:
        page = firm_timeline(story["firm"].id, cursor, per_page)
        pages += 1
        assert len(page.items) <= per_page
        assert page.is_first == (cursor is None)
        seen += outline(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(page.items) == per_page
    assert seen == EXPECTED
    assert pages == -(-len(EXPECTED) // per_page)


def test_a_malformed_cursor_gives_the_first_page(story):
    page = firm_timeline(story["firm"].id, "yesterday", 3)
    assert outline(page.items) == EXPECTED[:3]
    assert Key.parse("2026-06-01~bad~0~1") is None
    key = Key(date(2026, 6, 1), datetime(2026, 6, 1, 2, 0, 0, 5), 3, 42)
    assert Key.parse(key.encode()) == key


def test_a_done_measure_is_not_overdue_and_a_future_due_date_is_not_shown(story):
    with at(date(2026, 4, 1)):
        titles = [item.title for item in firm_timeline(story["firm"].id, per_page=100).items]
    assert "辅导措施到期：建立研发费用辅助账" not in titles  # due on 30 April
    assert not any(title.startswith("辅导措施到期：申请发明专利") for title in titles)


def test_a_save_of_many_fields_stays_one_item_across_fetches(story):
    firm = story["firm"]
    with at(date(2026, 6, 15), 3), audit_source("web", story["manager"].id):
        firm.legal_representative = "张三"
        firm.address = "梧州市长洲区"
        firm.notes = "再次走访"
        firm.is_above_scale = True
        firm.established_on = date(2014, 1, 1)
        db.session.commit()
    # One item per page: the audit source reads 8 rows at a time, fewer than the save's fields.
    page = firm_timeline(firm.id, per_page=1)
    [item] = page.items
    assert item.title == "修改企业信息：法定代表人、成立日期、地址等 5 项"
    assert len(item.details) == 5
    following = firm_timeline(firm.id, page.next_cursor, 1)
    assert outline(following.items) == [EXPECTED[0]]


def test_a_deleted_row_shows_as_a_recorded_deletion(story):
    visit = db.session.scalars(select(Activity).filter_by(kind="visit")).one()
    with at(date(2026, 6, 15), 4), audit_source("web", story["manager"].id):
        coaching.delete_activity(visit)
        db.session.commit()
    items = firm_timeline(story["firm"].id, per_page=100).items
    assert "走访：了解研发投入情况" not in [item.title for item in items]
    assert (items[0].title, items[0].icon) == ("删除走访记录：2026-02-09 走访", "bi-trash")


# --- Cost ----------------------------------------------------------------------------------------


def count_statements(call) -> int:
    seen = []

    def count(*args, **kwargs):
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def add_audit_rows(firm_id: int, saves: int, start: datetime) -> None:
    rows = [
        {
            "at": start + timedelta(minutes=n),
            "actor_id": None,
            "source": "import:7",
            "entity": "firms",
            "entity_id": firm_id,
            "firm_id": firm_id,
            "action": "update",
            "field": field,
            "old_value": str(n),
            "new_value": str(n + 1),
        }
        for n in range(saves)
        for field in ("notes", "address")
    ]
    db.session.execute(AuditEntry.__table__.insert(), rows)
    db.session.commit()


def test_a_long_history_costs_the_same_few_statements(story):
    firm_id = story["firm"].id
    # Imported changes newer than the story, so the pages are full of them.
    add_audit_rows(firm_id, 20, datetime(2026, 6, 14, 20, 0))
    few = count_statements(lambda: firm_timeline(firm_id, per_page=10))
    add_audit_rows(firm_id, 2000, datetime(2026, 6, 14, 21, 0))
    many = count_statements(lambda: firm_timeline(firm_id, per_page=10))
    # One statement per source and event kind, one for who recorded the page's rows.
    assert few == many <= 11
    page = firm_timeline(firm_id, per_page=10)
    assert len(page.items) == 10 and {item.kind for item in page.items} == {"audit"}
    assert page.next_cursor is not None


def test_imported_changes_name_their_batch(story):
    firm_id = story["firm"].id
    add_audit_rows(firm_id, 1, datetime(2026, 6, 15, 1, 0))
    [item] = firm_timeline(firm_id, per_page=1).items
    assert item.title == "修改企业信息：备注、地址"
    assert item.who == "系统（导入批次 7）"
    assert item.details == ["备注：0 → 1", "地址：0 → 1"]


def test_an_incubator_award_names_the_incubated_firm(story):
    incubator = factories.make_firm(name="梧州创新孵化器有限公司", is_incubator=True)
    db.session.add(
        SupportEntry(
            firm_id=incubator.id,
            kind="incubator_award",
            title="孵化器培育高企奖励",
            amount=Decimal("100000"),
            granted_on=date(2026, 6, 1),
            related_firm_id=story["firm"].id,
        )
    )
    db.session.commit()
    item = by_title(firm_timeline(incubator.id).items, "记入扶持台账：孵化器培育高企奖励")
    assert item.details == [
        "类型：孵化器奖励",
        "金额：10.00 万元",
        "状态：可申领",
        "在孵企业：梧州时间线科技有限公司",
    ]
    assert item.who == "系统"  # recorded outside any request
    # The incubated firm's own timeline does not show the incubator's award.
    titles = [i.title for i in firm_timeline(story["firm"].id, per_page=100).items]
    assert "记入扶持台账：孵化器培育高企奖励" not in titles
