"""Pipeline services on a real database: enrollments, moves, gates, overrides and certificates."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.core import clock
from crm.core.audit import AuditEntry
from crm.extensions import db
from crm.firms.models import Certificate, Qualification
from crm.pipeline import queries, services
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition
from crm.pipeline.rules import PROGRAMMES
from crm.pipeline.services import GateRefused, MoveInputs, enroll_firm, move_firm
from tests import factories

RESERVE = MoveInputs(entry_reason=4, reason="科技型中小企业")


@pytest.fixture
def world(app):
    """A firm with three years of figures, its manager and a bureau head; 2026-06-15."""
    with clock.frozen(datetime(2026, 6, 15, 2, 0)):
        manager = factories.make_user("manager", districts=[factories.district()])
        head = factories.make_user("bureau_head")
        firm = factories.make_firm(manager=manager)
        for year in (2023, 2024, 2025):
            factories.make_year(firm, year)
        db.session.commit()
        yield {"firm": firm, "manager": manager, "head": head}


def reserve(world, **changes) -> Enrollment:
    inputs = MoveInputs(**{**RESERVE.__dict__, **changes})
    return enroll_firm(world["firm"], "hte", "reserve", inputs, world["manager"]).enrollment


def walk(enrollment, actor, *steps):
    """Move through `steps` of (target, inputs), overriding nothing."""
    for target, inputs in steps:
        move_firm(enrollment, target, inputs, actor)


def test_seed_programmes_is_idempotent_and_follows_the_rules(app):
    assert services.seed_programmes() == 0
    codes = {p.code: p for p in db.session.scalars(select(Programme))}
    assert set(codes) == set(PROGRAMMES)
    for code, spec in PROGRAMMES.items():
        assert [s.code for s in codes[code].stages] == [s.code for s in spec.stages]
    listed = queries.stage(codes["listing"].id, "listed")
    assert listed.is_terminal and listed.needs_document


def test_enrolling_records_the_first_transition(world):
    enrollment = reserve(world, moved_on=date(2026, 6, 1))
    db.session.commit()
    assert enrollment.stage.code == "reserve"
    assert enrollment.entry_reason == 4
    assert enrollment.opened_on == date(2026, 6, 1)
    [transition] = enrollment.transitions
    assert transition.from_stage_id is None
    assert transition.by_id == world["manager"].id
    assert transition.reason == "科技型中小企业"
    assert transition.at == datetime(2026, 6, 15, 2, 0)
    assert not transition.is_override


def test_only_one_open_enrollment_per_programme(world):
    reserve(world)
    with pytest.raises(GateRefused) as refused:
        reserve(world)
    assert refused.value.messages == ["该企业已在「高企培育」中（当前阶段：高企后备库）"]
    assert not refused.value.overridable


def test_the_database_also_refuses_a_second_open_enrollment(world):
    enrollment = reserve(world)
    db.session.commit()
    db.session.add(
        Enrollment(
            firm_id=world["firm"].id,
            programme_id=enrollment.programme_id,
            stage_id=enrollment.stage_id,
            opened_on=date(2026, 6, 2),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    closed = Enrollment(
        firm_id=world["firm"].id,
        programme_id=enrollment.programme_id,
        stage_id=enrollment.stage_id,
        opened_on=date(2020, 1, 1),
        closed_on=date(2021, 1, 1),
    )
    db.session.add(closed)
    db.session.flush()  # closed enrollments do not count


def test_a_firm_may_be_in_both_programmes(world):
    reserve(world)
    pool = MoveInputs()
    listing = enroll_firm(world["firm"], "listing", "pool", pool, world["manager"]).enrollment
    move_firm(
        listing,
        "reform",
        MoveInputs(document_number="梧金融〔2026〕3号", document_on=date(2026, 6, 10)),
        world["manager"],
    )
    db.session.commit()
    stages = {e.programme.code: e.stage.code for e in queries.firm_enrollments(world["firm"].id)}
    assert stages == {"hte": "reserve", "listing": "reform"}
    transition = listing.transitions[-1]
    assert (transition.document_number, transition.document_on) == (
        "梧金融〔2026〕3号",
        date(2026, 6, 10),
    )


def test_a_refused_gate_lists_what_is_missing(world):
    world["firm"].tech_field = None
    with pytest.raises(GateRefused) as refused:
        enroll_firm(world["firm"], "hte", "reserve", MoveInputs(), world["manager"])
    assert refused.value.messages == [
        "进入高企后备库需选择入库理由",
        "进入高企后备库需填写企业技术领域",
    ]
    assert refused.value.overridable
    assert db.session.scalar(select(StageTransition)) is None


def test_coaching_needs_a_plan(world):
    enrollment = reserve(world)
    with pytest.raises(GateRefused) as refused:
        move_firm(enrollment, "coaching", MoveInputs(), world["manager"])
    assert refused.value.messages == ["进入一企一策辅导需先制定本年度辅导方案"]


def test_missing_figure_years_leave_out_years_before_the_firm_existed(world):
    young = factories.make_firm(established_on=date(2024, 3, 1))
    factories.make_year(young, 2025)
    assert services.missing_figure_years(young, date(2026, 6, 15)) == (2024,)
    assert services.missing_figure_years(world["firm"], date(2026, 6, 15)) == ()


def test_a_bureau_head_overrides_a_gate_with_a_reason(world):
    enrollment = reserve(world)
    result = move_firm(enrollment, "applied", MoveInputs(), world["head"], "市重点企业，先行申报")
    db.session.commit()
    transition = result.transition
    assert enrollment.stage.code == "applied"
    assert transition.is_override
    assert transition.override_reason == "市重点企业，先行申报"
    assert transition.by_id == world["head"].id


def test_a_manager_cannot_override(world):
    enrollment = reserve(world)
    with pytest.raises(GateRefused) as refused:
        move_firm(enrollment, "applied", MoveInputs(), world["manager"], "我想越过")
    assert refused.value.messages[0] == "只有局领导可以越过门槛要求"
    assert "申报需选择认定批次" in refused.value.messages
    assert enrollment.stage.code == "reserve"


def test_a_bureau_head_needs_a_reason_even_to_move(world):
    enrollment = reserve(world)
    with pytest.raises(GateRefused):
        move_firm(enrollment, "moved", MoveInputs(reason="迁往南宁"), world["head"])


def test_no_override_of_a_move_the_graph_forbids(world):
    enrollment = reserve(world)
    with pytest.raises(GateRefused) as refused:
        move_firm(enrollment, "certified", MoveInputs(), world["head"], "特批")
    assert refused.value.messages == ["不能从「高企后备库」直接转入「已认定高企」"]
    assert not refused.value.overridable


def test_moves_cannot_be_dated_in_the_future_or_before_the_last_move(world):
    enrollment = reserve(world, moved_on=date(2026, 6, 10))
    with pytest.raises(GateRefused, match="不能晚于今天"):
        move_firm(enrollment, "moved", MoveInputs(reason="迁出", moved_on=date(2026, 6, 16)), None)
    with pytest.raises(GateRefused, match="不能早于上一次阶段变更的日期 2026-06-10"):
        move_firm(enrollment, "moved", MoveInputs(reason="迁出", moved_on=date(2026, 6, 9)), None)


def certify(world, issued=date(2023, 12, 8), number="GR202345000123"):
    """Take the firm from the reserve pool to certified (the head overrides the batch gate)."""
    enrollment = reserve(world, moved_on=issued - timedelta(days=330))
    head = world["head"]
    applied = MoveInputs(moved_on=issued - timedelta(days=180))
    move_firm(enrollment, "applied", applied, head, "无批次记录，补录")
    review = MoveInputs(moved_on=issued - timedelta(days=60))
    move_firm(enrollment, "review", review, world["manager"])
    inputs = MoveInputs(moved_on=issued, certificate_number=number, certificate_issued_on=issued)
    return enrollment, move_firm(enrollment, "certified", inputs, world["manager"])


def test_certification_records_the_certificate_expiring_three_years_less_a_day(world):
    _, result = certify(world)
    db.session.commit()
    assert result.warnings == ["已生成可申领扶持：高企首次认定奖励（金额待定）"]
    assert (result.transition.document_number, result.transition.document_on) == (
        "GR202345000123",
        date(2023, 12, 8),
    )
    [certificate] = db.session.scalars(select(Certificate)).all()
    assert (certificate.issued_on, certificate.expires_on, certificate.number) == (
        date(2023, 12, 8),
        date(2026, 12, 7),
        "GR202345000123",
    )
    assert db.session.scalar(select(Qualification)) is None
    facts = services.move_facts(world["firm"], "hte", MoveInputs(), date(2026, 6, 15))
    assert facts.certificate_expires_on == date(2026, 12, 7)


def test_an_odd_certificate_number_is_a_warning_not_a_refusal(world):
    # The same certificate already known from a list without its date, under another number.
    factories.make_certificate(
        world["firm"], date(2023, 1, 1), "旧编号", "migrated", issued_on_estimated=True
    )
    _, result = certify(world, number="GR2023-123")
    assert result.warnings == [
        "证书编号“GR2023-123”不符合常见格式（GR + 年份 + 45 + 6 位数字），请核对",
        "已生成可申领扶持：高企首次认定奖励（金额待定）",
    ]
    [certificate] = db.session.scalars(select(Certificate)).all()
    assert (certificate.number, certificate.issued_on) == ("GR2023-123", date(2023, 12, 8))


def test_re_application_waits_for_the_expiry_year(world):
    enrollment, _ = certify(world, issued=date(2024, 12, 8))
    with pytest.raises(GateRefused) as refused:
        move_firm(enrollment, "applied", MoveInputs(), world["manager"])
    assert "高企证书有效期至 2027-12-07，到期当年方可重新申报" in refused.value.messages


def test_a_lapsed_firm_goes_back_to_reserve_with_reason_1_suggested(world):
    enrollment, _ = certify(world, issued=date(2023, 1, 10))
    move_firm(enrollment, "lapsed", MoveInputs(reason="证书到期未重新认定"), world["manager"])
    assert services.suggested_entry_reason(enrollment) == 1
    move_firm(enrollment, "reserve", MoveInputs(entry_reason=1), world["manager"])
    db.session.commit()
    assert (enrollment.stage.code, enrollment.entry_reason) == ("reserve", 1)
    assert enrollment.is_open


def test_lapsing_before_expiry_is_refused(world):
    enrollment, _ = certify(world)
    with pytest.raises(GateRefused, match="证书有效期至 2026-12-07，尚未到期"):
        move_firm(enrollment, "lapsed", MoveInputs(reason="到期"), world["manager"])


def test_a_cancelled_firm_cannot_apply_again_the_same_year(world):
    enrollment, _ = certify(world)
    inputs = MoveInputs(reason="年报连续两年未报", cancel_ground="missed_reports")
    move_firm(enrollment, "cancelled", inputs, world["manager"])
    move_firm(enrollment, "reserve", MoveInputs(entry_reason=6), world["manager"])
    with pytest.raises(GateRefused) as refused:
        move_firm(enrollment, "applied", MoveInputs(), world["manager"])
    assert "企业于 2026-06-15 被取消高企资格，当年不得再次申报" in refused.value.messages


def test_a_terminal_stage_closes_the_enrollment_and_a_new_one_may_open(world):
    enrollment = reserve(world)
    move_firm(enrollment, "moved", MoveInputs(reason="迁往南宁"), world["manager"])
    assert enrollment.closed_on == date(2026, 6, 15)
    with pytest.raises(GateRefused, match="已结束"):
        move_firm(enrollment, "reserve", MoveInputs(entry_reason=6), world["manager"])
    again = reserve(world)
    db.session.commit()
    assert again.id != enrollment.id


def test_days_in_stage_and_history(world):
    enrollment = reserve(world, moved_on=date(2026, 5, 1))
    move_firm(enrollment, "moved", MoveInputs(reason="迁出", moved_on=date(2026, 5, 11)), None)
    steps = services.stage_history(enrollment, date(2026, 6, 15))
    assert [(s.transition.to_stage.code, s.days) for s in steps] == [("reserve", 10), ("moved", 0)]
    open_one = reserve(world, moved_on=date(2026, 6, 1))
    assert services.days_in_stage(open_one, date(2026, 6, 15)) == 14
    assert services.days_per_stage(open_one, date(2026, 6, 15)) == {"reserve": 14}


def test_enrollment_changes_appear_in_the_firms_history(world):
    enrollment = reserve(world)
    move_firm(enrollment, "moved", MoveInputs(reason="迁出"), world["manager"])
    db.session.commit()
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.firm_id == world["firm"].id, AuditEntry.entity == "enrollments"
        )
    ).all()
    assert {e.action for e in entries} == {"create", "update"}
    assert {e.field for e in entries if e.action == "update"} >= {"stage_id", "closed_on"}


def test_stage_rows_stay_reference_data(world):
    assert db.session.scalar(select(Stage).filter_by(code="certified")).name == "已认定高企"
