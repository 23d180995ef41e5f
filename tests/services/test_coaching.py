"""Coaching plans (一企一策), their measures and milestones, and the activities log."""

from datetime import date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.coaching import services
from crm.coaching.models import Activity, CoachingMeasure, CoachingMilestone, CoachingPlan
from crm.core import clock
from crm.core.audit import AuditEntry, audit_source
from crm.eligibility.services import current_assessment
from crm.extensions import db
from tests import factories

NOW = datetime(2026, 5, 10, 4, 0)  # noon in Wuzhou
TODAY = date(2026, 5, 10)


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock._frozen = NOW


@pytest.fixture
def manager(app):
    return factories.make_user("manager", name="王专员")


@pytest.fixture
def firm(app, manager):
    return factories.make_firm(manager=manager)


def plan_with_measure(firm, manager=None):
    plan = services.create_plan(firm, 2026, manager)
    services.add_measure(plan, {"title": "规范研发费用辅助账", "owner": "财务部"})
    return plan


# --- Plans ----------------------------------------------------------------------------------------


def test_a_new_plan_is_a_draft_for_the_year_with_the_firms_manager(firm, manager):
    plan = services.create_plan(firm, 2026, factories.make_user("admin"))
    assert (plan.firm_id, plan.year, plan.status) == (firm.id, 2026, "draft")
    assert plan.manager_id == manager.id


def test_a_manager_creating_a_plan_for_a_firm_without_one_becomes_its_manager(app):
    firm = factories.make_firm()
    manager = factories.make_user("manager")
    assert services.create_plan(firm, 2026, manager).manager_id == manager.id


def test_only_one_plan_per_firm_and_year(firm, manager):
    services.create_plan(firm, 2026, manager)
    with pytest.raises(services.CoachingError, match="2026 年度的一企一策方案已存在"):
        services.create_plan(firm, 2026, manager)
    assert services.create_plan(firm, 2027, manager).year == 2027
    other = factories.make_firm()
    assert services.create_plan(other, 2026, manager).firm_id == other.id


def test_the_database_refuses_a_second_plan_for_the_same_year(firm):
    db.session.add(CoachingPlan(firm_id=firm.id, year=2026))
    db.session.flush()
    db.session.add(CoachingPlan(firm_id=firm.id, year=2026))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_diagnosis_is_prefilled_from_the_current_gap_list(firm, manager):
    for year in (2023, 2024, 2025):
        factories.make_year(firm, year, rd_expense=factories.money("100000"))
    db.session.commit()  # the commit stores the firm's assessment
    gaps = current_assessment(firm.id).hte.gaps
    assert gaps
    plan = services.create_plan(firm, 2026, manager)
    assert plan.diagnosis == "\n".join(gap.message for gap in gaps)
    assert plan.diagnosis.count("\n") == len(gaps) - 1


def test_without_an_assessment_the_diagnosis_says_so(firm, manager):
    assert current_assessment(firm.id) is None
    assert services.create_plan(firm, 2026, manager).diagnosis == "暂无预评估结果"


def test_update_plan_changes_the_text_but_not_the_year_or_status(firm, manager):
    plan = services.create_plan(firm, 2026, manager)
    services.update_plan(
        plan, {"goal": "年内通过高企认定", "liaison_leader": "李局长", "year": 2030, "status": "x"}
    )
    assert (plan.goal, plan.liaison_leader, plan.year, plan.status) == (
        "年内通过高企认定",
        "李局长",
        2026,
        "draft",
    )


def test_activation_is_refused_without_a_measure_and_a_manager(app):
    firm = factories.make_firm()
    plan = services.create_plan(firm, 2026, None)
    with pytest.raises(services.CoachingError) as refused:
        services.activate_plan(plan)
    assert "请至少添加一项辅导措施" in str(refused.value)
    assert "请指定负责的服务专员" in str(refused.value)
    assert plan.status == "draft"


def test_activation_is_refused_without_a_manager_even_with_a_measure(app):
    plan = plan_with_measure(factories.make_firm())
    with pytest.raises(services.CoachingError, match="服务专员") as refused:
        services.activate_plan(plan)
    assert "措施" not in str(refused.value).split("：", 1)[1]


def test_a_dropped_measure_does_not_count(firm, manager):
    plan = services.create_plan(firm, 2026, manager)
    services.add_measure(plan, {"title": "引进中介", "status": "dropped"})
    with pytest.raises(services.CoachingError, match="请至少添加一项辅导措施"):
        services.activate_plan(plan)


def test_a_plan_with_a_measure_and_a_manager_becomes_active_once(firm, manager):
    plan = plan_with_measure(firm, manager)
    services.activate_plan(plan)
    assert plan.status == "active"
    with pytest.raises(services.CoachingError, match="只有草拟中的方案可以启动实施"):
        services.activate_plan(plan)


def test_closing_records_the_outcome_and_the_day(firm, manager):
    plan = plan_with_measure(firm, manager)
    services.activate_plan(plan)
    with pytest.raises(services.CoachingError, match="请填写成效"):
        services.close_plan(plan, "  ")
    services.close_plan(plan, "  已通过高企认定  ")
    assert (plan.status, plan.outcome, plan.closed_on) == ("closed", "已通过高企认定", TODAY)
    with pytest.raises(services.CoachingError, match="已结束"):
        services.close_plan(plan, "再次结束")


def test_gate_facts_describe_the_open_plan_of_the_year(firm, manager):
    assert services.plan_gate_facts(firm.id, 2026) == (False, 0, False)
    plan = services.create_plan(firm, 2026, manager)
    assert services.plan_gate_facts(firm.id, 2026) == (True, 0, True)
    services.add_measure(plan, {"title": "一"})
    services.add_measure(plan, {"title": "二"})
    services.add_measure(plan, {"title": "三", "status": "dropped"})
    facts = services.plan_gate_facts(firm.id, 2026)
    assert (facts.has_plan, facts.measures, facts.has_manager) == (True, 2, True)
    services.update_plan(plan, {"manager_id": None})
    assert services.plan_gate_facts(firm.id, 2026).has_manager is False
    assert services.plan_gate_facts(firm.id, 2025) == (False, 0, False)
    plan.status = "closed"
    db.session.flush()
    assert services.plan_gate_facts(firm.id, 2026).has_plan is False


# --- Measures and milestones ----------------------------------------------------------------------


def test_measures_are_added_changed_and_deleted(firm, manager):
    plan = services.create_plan(firm, 2026, manager)
    measure = services.add_measure(
        plan, {"title": "申请发明专利", "owner": "技术部", "due_on": date(2026, 9, 30)}
    )
    assert (measure.firm_id, measure.status, measure.done_on) == (firm.id, "planned", None)
    services.update_measure(measure, {"status": "done", "result": "已受理 2 件"})
    assert (measure.status, measure.done_on) == ("done", TODAY)
    services.update_measure(measure, {"status": "done", "done_on": date(2026, 4, 1)})
    assert measure.done_on == date(2026, 4, 1)
    services.delete_measure(measure)
    db.session.commit()
    assert db.session.scalars(select(CoachingMeasure)).all() == []
    assert plan.measures == []


def test_milestones_are_added_ticked_off_changed_and_deleted(firm, manager):
    plan = services.create_plan(firm, 2026, manager)
    late = services.add_milestone(plan, {"title": "提交认定申报", "due_on": date(2026, 6, 30)})
    early = services.add_milestone(plan, {"title": "完成专项审计", "due_on": date(2026, 5, 31)})
    db.session.commit()
    db.session.refresh(plan)
    assert [m.title for m in plan.milestones] == ["完成专项审计", "提交认定申报"]
    services.toggle_milestone(early)
    assert early.done_on == TODAY
    services.toggle_milestone(early)
    assert early.done_on is None
    services.update_milestone(late, {"due_on": date(2026, 7, 15)})
    assert late.due_on == date(2026, 7, 15)
    services.delete_milestone(late)
    db.session.commit()
    assert db.session.scalars(select(CoachingMilestone.title)).all() == ["完成专项审计"]


# --- Activities -----------------------------------------------------------------------------------


def test_activities_are_logged_changed_and_deleted(firm, manager):
    visit = services.log_activity(
        firm,
        {
            "kind": "visit",
            "occurred_on": date(2026, 5, 8),
            "participants": "王专员、企业总经理",
            "notes": "了解研发投入情况",
            "follow_up": "提供研发费用归集指引",
            "follow_up_due_on": date(2026, 5, 20),
        },
        manager,
    )
    assert (visit.firm_id, visit.created_by_id, visit.follow_up_done) == (
        firm.id,
        manager.id,
        False,
    )
    services.set_follow_up_done(visit, True)
    assert visit.follow_up_done
    services.update_activity(visit, {"kind": "meeting"})
    assert visit.kind_label == "座谈/培训"
    services.delete_activity(visit)
    assert db.session.scalars(select(Activity)).all() == []


def test_last_contact_is_the_latest_activity_of_the_firm(firm, manager):
    assert services.last_contact_on(firm.id) is None
    for day in (date(2026, 3, 1), date(2026, 4, 20), date(2026, 2, 1)):
        services.log_activity(firm, {"kind": "phone", "occurred_on": day}, manager)
    other = factories.make_firm()
    services.log_activity(other, {"kind": "visit", "occurred_on": date(2026, 5, 1)}, manager)
    assert services.last_contact_on(firm.id) == date(2026, 4, 20)


# --- Audit ----------------------------------------------------------------------------------------


def test_every_change_is_in_the_firms_history(firm, manager):
    with audit_source("web", manager.id):
        plan = plan_with_measure(firm, manager)
        services.add_milestone(plan, {"title": "提交申报", "due_on": date(2026, 6, 30)})
        services.activate_plan(plan)
        services.log_activity(firm, {"kind": "visit", "occurred_on": TODAY}, manager)
        db.session.commit()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.firm_id == firm.id)).all()
    seen = {(e.entity, e.action, e.field) for e in entries}
    assert {
        ("coaching_plans", "create", None),
        ("coaching_measures", "create", None),
        ("coaching_milestones", "create", None),
        ("activities", "create", None),
        ("coaching_plans", "update", "status"),
    } <= seen
    assert {e.actor_id for e in entries if e.entity != "firms"} == {manager.id}
    status = next(e for e in entries if e.field == "status")
    assert (status.old_value, status.new_value) == ("draft", "active")
