"""Certification cases on a real database: applications following the pipeline, the lapse run."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.certification import jobs as certification_jobs
from crm.certification import queries, services
from crm.certification.models import CertificationApplication
from crm.coaching import services as coaching
from crm.core import clock
from crm.eligibility.services import current_assessment
from crm.extensions import db
from crm.firms.models import Certificate, Qualification
from crm.jobs import registry
from crm.pipeline import services as pipeline
from crm.pipeline.models import Enrollment
from crm.pipeline.services import GateRefused, MoveInputs, enroll_firm, move_firm
from tests import factories


def at(day: date):
    """Freeze the clock on `day`, mid-morning in the bureau's time zone."""
    return clock.frozen(datetime(day.year, day.month, day.day, 2, 0))


@pytest.fixture
def world(app):
    """A firm with figures from 2019, its manager, a bureau head and the 2022 to 2027 batches."""
    with at(date(2023, 6, 1)):
        manager = factories.make_user("manager", districts=[factories.district()])
        head = factories.make_user("bureau_head")
        firm = factories.make_firm(manager=manager)
        for year in range(2019, 2027):
            factories.make_year(firm, year)
        batches = {year: factories.make_batch(year) for year in range(2022, 2028)}
        db.session.commit()
    return {"firm": firm, "manager": manager, "head": head, "batches": batches}


def enroll(world, on: date) -> Enrollment:
    with at(on):
        inputs = MoveInputs(entry_reason=4, reason="科技型中小企业")
        return enroll_firm(world["firm"], "hte", "reserve", inputs, world["manager"]).enrollment


def apply(world, enrollment, on: date, year: int | None = None):
    with at(on):
        batch = world["batches"][year or on.year]
        return move_firm(enrollment, "applied", MoveInputs(batch_id=batch.id), world["manager"])


def certify(world, enrollment, issued: date, number: str = "GR202345000123"):
    with at(date(issued.year, 11, 12)):
        move_firm(enrollment, "review", MoveInputs(), world["manager"])
    with at(issued):
        inputs = MoveInputs(certificate_number=number, certificate_issued_on=issued)
        return move_firm(enrollment, "certified", inputs, world["manager"])


def certified_firm(world, issued=date(2023, 12, 8)) -> Enrollment:
    enrollment = enroll(world, date(issued.year, 6, 1))
    apply(world, enrollment, date(issued.year, 6, 20))
    certify(world, enrollment, issued)
    db.session.commit()
    return enrollment


def applications(firm) -> list[CertificationApplication]:
    return list(
        db.session.scalars(
            select(CertificationApplication)
            .filter_by(firm_id=firm.id)
            .order_by(CertificationApplication.submitted_on)
        )
    )


def certificates(firm) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).filter_by(firm_id=firm.id).order_by(Certificate.issued_on)
        )
    )


# --- The certificate record following the moves -------------------------------------------------


def test_a_batch_result_records_the_certificate_with_its_application_and_move(world):
    enrollment = certified_firm(world)
    [application] = applications(world["firm"])
    [certificate] = certificates(world["firm"])
    assert (certificate.issued_on, certificate.expires_on) == (date(2023, 12, 8), date(2026, 12, 7))
    assert (certificate.number, certificate.source, certificate.status) == (
        "GR202345000123",
        "batch",
        "valid",
    )
    assert certificate.application_id == application.id
    assert certificate.document == "2023 年第一批"
    assert certificate.transition_id == enrollment.transitions[-1].id


def test_a_re_certification_replaces_the_certificate_and_a_cancellation_ends_it(world):
    enrollment = certified_firm(world)
    apply(world, enrollment, date(2026, 6, 20))
    certify(world, enrollment, date(2026, 11, 20), number="GR202645000321")
    with at(date(2027, 3, 2)):
        inputs = MoveInputs(reason="发生重大安全事故", cancel_ground="incident")
        move_firm(enrollment, "cancelled", inputs, world["manager"])
    db.session.commit()
    old, new = certificates(world["firm"])
    assert (old.status, old.ended_on) == ("replaced", date(2026, 11, 20))
    assert (new.status, new.ended_on, new.reason, new.cancel_ground) == (
        "cancelled",
        date(2027, 3, 2),
        "发生重大安全事故",
        "incident",
    )
    assert new.cancel_ground_label == "发生重大安全、重大质量事故或有严重环境违法行为"


def test_a_cancellation_needs_one_of_the_grounds_of_article_19(world):
    enrollment = certified_firm(world)
    with at(date(2025, 3, 1)), pytest.raises(GateRefused) as refused:
        move_firm(enrollment, "cancelled", MoveInputs(reason="年报未报"), world["manager"])
    assert refused.value.messages == [
        "取消资格需选择取消依据（《高新技术企业认定管理办法》第十九条）"
    ]
    assert refused.value.overridable


def test_a_head_s_override_without_a_batch_records_the_certificate_from_the_move(world):
    enrollment = enroll(world, date(2024, 6, 1))
    with at(date(2024, 12, 9)):
        for target, inputs in (
            ("applied", MoveInputs()),
            ("review", MoveInputs()),
            (
                "certified",
                MoveInputs(
                    certificate_number="GR202445000888", certificate_issued_on=date(2024, 12, 9)
                ),
            ),
        ):
            move_firm(enrollment, target, inputs, world["head"], override_reason="省厅直接认定")
    db.session.commit()
    [certificate] = certificates(world["firm"])
    assert (certificate.source, certificate.application_id, certificate.issued_on) == (
        "override",
        None,
        date(2024, 12, 9),
    )


# --- Applications following the moves ----------------------------------------------------------


def test_applying_opens_an_application_in_the_batch_with_the_assessment_as_it_stood(world):
    enrollment = enroll(world, date(2023, 6, 1))
    db.session.commit()
    assessment = current_assessment(world["firm"].id)
    result = apply(world, enrollment, date(2023, 6, 20))
    db.session.commit()
    assert result.warnings == []
    [application] = applications(world["firm"])
    assert application.batch_id == world["batches"][2023].id
    assert application.enrollment_id == enrollment.id
    assert (application.submitted_on, application.status) == (date(2023, 6, 20), "submitted")
    assert not application.is_renewal
    snapshot = application.assessment_snapshot
    assert application.assessment_verdict == assessment.verdict
    assert snapshot["verdict"] == assessment.verdict
    assert (snapshot["score_min"], snapshot["score_max"]) == (
        assessment.score_min,
        assessment.score_max,
    )
    assert snapshot["settings_id"] == assessment.settings_id
    assert snapshot["result"] == assessment.result


def test_certified_on_8_december_2023_expires_7_december_2026_in_the_2026_cohort(world):
    enrollment = certified_firm(world)
    [application] = applications(world["firm"])
    assert application.status == "certified"
    assert (application.certificate_number, application.issued_on) == (
        "GR202345000123",
        date(2023, 12, 8),
    )
    assert application.expires_on == date(2026, 12, 7)
    assert application.result_on == date(2023, 12, 8)
    [certificate] = certificates(world["firm"])
    assert (certificate.issued_on, certificate.number) == (date(2023, 12, 8), "GR202345000123")
    assert certificate.is_valid_on(date(2026, 12, 7)) and not certificate.is_valid_on(
        date(2026, 12, 8)
    )
    assert db.session.scalar(select(Qualification)) is None
    assert enrollment.stage.code == "certified"

    admin = factories.make_user("admin")
    groups = queries.cohort_groups(admin, queries.CohortFilters(2026), date(2026, 11, 22))
    assert [g.label for g in groups] == ["2023 年认定、2026 年到期"]
    [row] = groups[0].rows
    assert (row.certificate.application_id, row.days_left, row.reapplication) == (
        application.id,
        15,
        None,
    )
    assert queries.cohort_groups(admin, queries.CohortFilters(2025), date(2026, 11, 22)) == []


def test_the_cohort_shows_only_firms_the_user_may_see(world):
    certified_firm(world)
    elsewhere = factories.make_user("manager", districts=[factories.district("450405")])
    mine = queries.cohort_groups(world["manager"], queries.CohortFilters(2026), date(2026, 1, 5))
    assert len(mine[0].rows) == 1
    assert queries.cohort_groups(elsewhere, queries.CohortFilters(2026), date(2026, 1, 5)) == []
    other = factories.district("450405").id
    filters = queries.CohortFilters(2026, district_id=other)
    assert queries.cohort_groups(world["head"], filters, date(2026, 1, 5)) == []


def test_each_batch_counts_the_applications_of_live_firms_in_reach(world):
    enrollment = enroll(world, date(2024, 6, 1))
    apply(world, enrollment, date(2024, 6, 20))
    gone = factories.make_firm(name="已删除申报公司", manager=world["manager"])
    for year in range(2019, 2024):
        factories.make_year(gone, year)
    db.session.commit()
    with at(date(2024, 6, 1)):
        other = enroll_firm(gone, "hte", "reserve", MoveInputs(entry_reason=4, reason="科小"), None)
    with at(date(2024, 6, 21)):
        batch = world["batches"][2024]
        move_firm(other.enrollment, "applied", MoveInputs(batch_id=batch.id), None)
    db.session.commit()
    admin = factories.make_user("admin")
    elsewhere = factories.make_user("manager", districts=[factories.district("450405")])
    db.session.commit()
    assert queries.application_counts(admin) == {batch.id: 2}
    assert queries.application_counts(world["manager"]) == {batch.id: 2}
    gone.deleted_at = datetime(2024, 7, 1)
    db.session.commit()
    assert queries.application_counts(admin) == {batch.id: 1}
    assert queries.application_counts(world["head"]) == {batch.id: 1}
    assert queries.application_counts(world["manager"]) == {batch.id: 1}
    assert queries.application_counts(elsewhere) == {}


def test_an_odd_certificate_number_is_kept_with_a_warning(world):
    enrollment = enroll(world, date(2023, 6, 1))
    apply(world, enrollment, date(2023, 6, 20))
    result = certify(world, enrollment, date(2023, 12, 8), number="GR2023-77")
    warning = "证书编号“GR2023-77”不符合常见格式（GR + 年份 + 45 + 6 位数字），请核对"
    assert warning in result.warnings
    assert applications(world["firm"])[0].certificate_number == "GR2023-77"


def test_a_failed_firm_goes_back_to_coaching_and_its_application_is_not_certified(world):
    enrollment = enroll(world, date(2023, 6, 1))
    apply(world, enrollment, date(2023, 6, 20))
    with at(date(2023, 11, 12)):
        move_firm(enrollment, "review", MoveInputs(), world["manager"])
    assert applications(world["firm"])[0].status == "review"
    with at(date(2023, 12, 8)):
        reason = "专家评审得分未达 71 分"
        move_firm(enrollment, "not_certified", MoveInputs(reason=reason), world["manager"])
    with at(date(2024, 1, 10)):
        plan = coaching.create_plan(world["firm"], 2024, world["manager"])
        coaching.add_measure(plan, {"title": "建立研发费用辅助账"})
        move_firm(enrollment, "coaching", MoveInputs(), world["manager"])
    db.session.commit()
    [application] = applications(world["firm"])
    assert (application.status, application.reason) == ("not_certified", "专家评审得分未达 71 分")
    assert application.result_on == date(2023, 12, 8)
    assert application.certificate_number is None
    assert enrollment.stage.code == "coaching"
    assert certificates(world["firm"]) == []


def test_a_cancelled_firm_cannot_apply_again_that_year_but_may_the_next(world):
    enrollment = certified_firm(world)
    with at(date(2025, 3, 1)):
        inputs = MoveInputs(reason="连续两年未报年度发展情况报表", cancel_ground="missed_reports")
        move_firm(enrollment, "cancelled", inputs, world["manager"])
        move_firm(enrollment, "reserve", MoveInputs(entry_reason=6), world["manager"])
    db.session.commit()
    [application] = applications(world["firm"])
    assert (application.status, application.result_on) == ("cancelled", date(2025, 3, 1))
    assert application.reason == "连续两年未报年度发展情况报表"
    # The certificate ended on the day of the cancellation.
    [certificate] = certificates(world["firm"])
    assert (certificate.status, certificate.ended_on) == ("cancelled", date(2025, 3, 1))
    assert queries.current_certificate(world["firm"].id) is None
    assert queries.cancelled_on(world["firm"].id) == date(2025, 3, 1)

    with pytest.raises(GateRefused) as refused:
        apply(world, enrollment, date(2025, 6, 20))
    assert "企业于 2025-03-01 被取消高企资格，当年不得再次申报" in refused.value.messages
    apply(world, enrollment, date(2026, 6, 20))
    db.session.commit()
    assert [a.status for a in applications(world["firm"])] == ["cancelled", "submitted"]


def test_the_cancellation_gate_reads_the_certificate(world):
    enrollment = certified_firm(world)
    with at(date(2024, 3, 1)):
        inputs = MoveInputs(reason="年报未报", cancel_ground="missed_reports")
        move_firm(enrollment, "cancelled", inputs, world["manager"])
        move_firm(enrollment, "reserve", MoveInputs(entry_reason=6), world["manager"])
    # The date of the cancellation notice is corrected on the certificate.
    certificates(world["firm"])[0].ended_on = date(2025, 1, 15)
    db.session.commit()
    facts = pipeline.move_facts(world["firm"], "hte", MoveInputs(), date(2025, 6, 20))
    assert facts.cancelled_on == date(2025, 1, 15)


def test_the_expiry_the_gates_read_comes_from_the_certificate(world):
    certified_firm(world)
    certificate = certificates(world["firm"])[0]
    certificate.issued_on, certificate.expires_on = date(2023, 12, 28), date(2026, 12, 27)
    db.session.commit()
    facts = pipeline.move_facts(world["firm"], "hte", MoveInputs(), date(2026, 6, 20))
    assert facts.certificate_expires_on == date(2026, 12, 27)


def test_a_firm_cannot_apply_twice_in_one_batch(world):
    enrollment = enroll(world, date(2023, 6, 1))
    apply(world, enrollment, date(2023, 6, 20))
    with at(date(2023, 7, 1)):
        move_firm(enrollment, "not_certified", MoveInputs(reason="材料不全"), world["manager"])
        move_firm(enrollment, "reserve", MoveInputs(entry_reason=2), world["manager"])
    db.session.commit()
    with pytest.raises(GateRefused) as refused:
        apply(world, enrollment, date(2023, 7, 10))
    assert refused.value.messages == ["该企业已在「2023 年第一批」中申报（未通过），不能重复申报"]


def test_an_application_without_a_batch_is_only_a_warning_for_an_override(world):
    enrollment = enroll(world, date(2023, 6, 1))
    with at(date(2023, 6, 20)):
        result = move_firm(enrollment, "applied", MoveInputs(), world["head"], "补录历史申报")
    assert result.warnings == ["未选择认定批次，未建立申报记录"]
    assert applications(world["firm"]) == []


def test_a_firm_moving_away_withdraws_its_pending_application(world):
    enrollment = enroll(world, date(2023, 6, 1))
    apply(world, enrollment, date(2023, 6, 20))
    with at(date(2023, 8, 1)):
        move_firm(enrollment, "moved", MoveInputs(reason="迁往南宁"), world["manager"])
    [application] = applications(world["firm"])
    assert (application.status, application.reason) == ("withdrawn", "迁往南宁")


# --- Renewal -------------------------------------------------------------------------------------


def test_a_renewal_is_a_new_application_inside_the_same_enrollment(world):
    enrollment = certified_firm(world)
    result = apply(world, enrollment, date(2026, 6, 20))
    assert result.enrollment.id == enrollment.id
    certify(world, enrollment, date(2026, 12, 10), number="GR202645000456")
    db.session.commit()
    first, renewal = applications(world["firm"])
    assert renewal.is_renewal and not first.is_renewal
    assert renewal.enrollment_id == first.enrollment_id == enrollment.id
    assert (renewal.status, renewal.expires_on) == ("certified", date(2029, 12, 9))
    assert first.status == "certified"
    certificate = queries.current_certificate(world["firm"].id)
    assert (certificate.number, certificate.expires_on) == ("GR202645000456", date(2029, 12, 9))
    assert [c.issued_on.year for c in certificates(world["firm"])] == [2023, 2026]

    head = world["head"]
    [group] = queries.cohort_groups(head, queries.CohortFilters(2026), date(2026, 12, 10))
    [row] = group.rows
    assert row.certificate.application_id == first.id
    assert row.certificate.status == "replaced"
    assert row.reapplication.id == renewal.id
    # The new certificate keeps the firm out of the lapse run after the old one expires.
    assert services.lapse_expired_certificates(date(2026, 12, 20)) == []


def test_re_application_before_the_expiry_year_is_refused(world):
    enrollment = certified_firm(world)
    with pytest.raises(GateRefused) as refused:
        apply(world, enrollment, date(2025, 6, 20))
    assert "高企证书有效期至 2026-12-07，到期当年方可重新申报" in refused.value.messages


# --- Lapse ---------------------------------------------------------------------------------------


def test_the_lapse_run_moves_an_expired_firm_once_and_it_may_reenter_the_reserve(world):
    enrollment = certified_firm(world, issued=date(2022, 12, 8))
    with at(date(2025, 12, 7)):
        assert services.lapse_expired_certificates(clock.today()) == []
    with at(date(2025, 12, 20)):
        [lapse] = services.lapse_expired_certificates(clock.today())
        db.session.commit()
        assert (lapse.firm_id, lapse.expires_on, lapse.refusal) == (
            world["firm"].id,
            date(2025, 12, 7),
            [],
        )
        assert services.lapse_expired_certificates(clock.today()) == []
    transition = enrollment.transitions[-1]
    assert transition.to_stage.code == "lapsed"
    assert transition.moved_on == date(2025, 12, 8)
    assert transition.by_id is None
    assert transition.reason == "证书有效期至 2025-12-07 已届满，未取得新证书"
    assert applications(world["firm"])[0].status == "lapsed"
    assert [c.status for c in certificates(world["firm"])] == ["lapsed"]
    assert pipeline.suggested_entry_reason(enrollment) == 1
    with at(date(2026, 1, 5)):
        move_firm(enrollment, "reserve", MoveInputs(entry_reason=1), world["manager"])
    db.session.commit()
    assert (enrollment.stage.code, enrollment.entry_reason) == ("reserve", 1)


def test_the_lapse_run_leaves_valid_certificates_alone(world):
    enrollment = certified_firm(world)
    with at(date(2026, 11, 22)):
        assert services.lapse_expired_certificates(clock.today()) == []
    assert enrollment.stage.code == "certified"


def test_the_lapse_command_reports_the_firms_moved(world, runner):
    certified_firm(world, issued=date(2022, 12, 8))
    with at(date(2026, 1, 5)):
        result = runner.invoke(args=["crm", "lapse-certificates"])
        again = runner.invoke(args=["crm", "lapse-certificates"])
    assert result.exit_code == 0, result.output
    assert "转入“资格到期”的企业 1 家（截至 2026-01-05）" in result.output
    assert "转入“资格到期”的企业 0 家" in again.output
    db.session.expire_all()
    assert applications(world["firm"])[0].status == "lapsed"


# --- The snapshot --------------------------------------------------------------------------------


def test_the_snapshot_does_not_change_when_the_firm_changes_later(world):
    enrollment = enroll(world, date(2023, 6, 1))
    db.session.commit()
    apply(world, enrollment, date(2023, 6, 20))
    db.session.commit()
    [application] = applications(world["firm"])
    before = dict(application.assessment_snapshot)
    with at(date(2023, 7, 1)):
        for row in world["firm"].years:
            row.rd_expense = factories.money("10")
        db.session.commit()
    now = current_assessment(world["firm"].id)
    assert now.id != before["assessment_id"]
    assert now.result != before["result"]
    db.session.expire_all()
    assert applications(world["firm"])[0].assessment_snapshot == before


def test_the_worker_lapses_expired_certificates_daily_and_a_rerun_changes_nothing(world):
    enrollment = certified_firm(world, issued=date(2022, 12, 8))
    stock = factories.make_firm(name="梧州存量高企有限公司")
    factories.make_certificate(stock, date(2022, 11, 30), "GR202245000009", "import")
    db.session.commit()
    assert registry.periodic_jobs() and "certification.lapse" in {
        spec.name for spec in registry.periodic_jobs()
    }
    with at(date(2025, 12, 8)):
        assert certification_jobs.lapse_daily() == 1
        db.session.commit()
        assert certification_jobs.lapse_daily() == 0
    assert enrollment.stage.code == "lapsed"
    assert [c.status for c in certificates(world["firm"])] == ["lapsed"]
    assert [c.status for c in certificates(stock)] == ["lapsed"]
