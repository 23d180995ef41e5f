"""Stored assessments: settings versions, recomputation at commit, the manager's assessment."""

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from crm.certification.certificates import end_current_certificate
from crm.core import clock
from crm.core.audit import AuditEntry, audit_source
from crm.demo import generator
from crm.eligibility import expert, jobs, services
from crm.eligibility.models import Assessment, ExpertAssessment, SettingsVersion
from crm.eligibility.rules import assess_hte, assess_tech_sme
from crm.eligibility.settings import DEFAULTS, RdTier, Settings
from crm.extensions import db
from crm.firms import services as firm_services
from crm.firms.models import FirmYear
from crm.jobs import queue
from crm.jobs.models import Job
from tests import factories

NOW = datetime(2026, 5, 10, 4, 0)  # noon in Wuzhou
TODAY = date(2026, 5, 10)

FULL_MARKS = factories.FULL_MARKS


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock._frozen = NOW


def make_candidate(**overrides):
    """Create a firm with three years of figures just inside the thresholds and an invention."""
    firm = factories.make_firm(**overrides)
    for year in (2023, 2024, 2025):
        factories.make_year(firm, year)
    factories.make_ip(firm, "invention", granted_on=date(2022, 1, 1))
    return firm


def rows_of(firm_id):
    return db.session.scalars(
        select(Assessment).where(Assessment.firm_id == firm_id).order_by(Assessment.id)
    ).all()


def assessment_count():
    return db.session.scalar(select(func.count(Assessment.id)))


# --- Settings versions --------------------------------------------------------------------------


def test_settings_in_force_creates_the_national_defaults_when_there_are_none(app):
    version = services.settings_in_force(TODAY)
    again = services.settings_in_force(date(2017, 1, 1))
    db.session.commit()
    assert again.id == version.id
    assert version.effective_on == date(2016, 1, 1)
    assert version.note == "系统初始值（国科发火〔2016〕32号、195号）"
    assert version.settings == DEFAULTS
    assert db.session.scalar(select(func.count(SettingsVersion.id))) == 1


def test_settings_in_force_picks_the_latest_version_effective_on_the_day(app):
    base = services.settings_in_force(TODAY)
    stricter = Settings(hte=replace(DEFAULTS.hte, pass_score=75))
    v2025 = services.create_settings_version(stricter, date(2025, 1, 1), "2025 年", None)
    v2027 = services.create_settings_version(DEFAULTS, date(2027, 1, 1), "2027 年", None)
    same_day = services.create_settings_version(stricter, date(2025, 1, 1), "2025 年修订", None)
    db.session.commit()
    assert services.settings_in_force(date(2024, 12, 31)).id == base.id
    assert services.settings_in_force(date(2025, 1, 1)).id == same_day.id != v2025.id
    assert services.settings_in_force(date(2026, 12, 31)).id == same_day.id
    assert services.settings_in_force(date(2027, 1, 1)).id == v2027.id
    assert services.settings_in_force(date(2025, 6, 1)).settings.hte.pass_score == 75


# --- Recomputation at commit --------------------------------------------------------------------


def test_committing_a_new_firm_with_figures_stores_its_assessment(app):
    firm = make_candidate()
    db.session.commit()
    [row] = rows_of(firm.id)
    version = services.settings_in_force(TODAY)
    facts = services.firm_facts([firm], TODAY)[firm.id]
    expected = assess_hte(facts, TODAY, version.settings)
    assert row.is_current
    assert row.settings_id == version.id
    assert row.applied_on == TODAY
    assert row.tech_sme_year == 2026
    assert (row.verdict, row.score_min, row.score_max) == (
        expected.verdict,
        expected.score_min,
        expected.score_max,
    )
    assert row.hte == expected
    assert row.tech_sme_result.year == 2026
    assert row.tech_sme_score == row.tech_sme_result.score
    assert services.current_assessment(firm.id).id == row.id


def test_editing_a_year_recomputes_and_keeps_the_old_row(app):
    firm = make_candidate()
    db.session.commit()
    [old] = rows_of(firm.id)
    assert old.hte.condition("rd_intensity").status == "met"

    year = next(y for y in firm.years if y.year == 2025)
    firm_services.update_year(year, {"rd_expense": Decimal("100000")})
    db.session.commit()

    first, second = rows_of(firm.id)
    assert first.id == old.id and not first.is_current
    assert first.settings_id == second.settings_id
    assert second.is_current
    assert second.hte.condition("rd_intensity").status == "unmet"
    assert second.verdict == "fail"
    assert services.current_assessment(firm.id).id == second.id


def test_adding_an_ip_item_recomputes_the_assessment(app):
    firm = make_candidate()
    db.session.commit()
    [old] = rows_of(firm.id)
    for _ in range(5):
        factories.make_ip(firm, "utility_model", granted_on=date(2023, 3, 1))
    db.session.commit()
    rows = rows_of(firm.id)
    assert len(rows) == 2
    assert [r.is_current for r in rows] == [False, True]
    assert rows[1].result != old.result


def test_deleting_a_year_and_cancelling_the_hte_certificate_recomputes(app):
    firm = make_candidate()
    factories.make_certificate(firm, date(2024, 12, 8))
    db.session.commit()
    assert rows_of(firm.id)[-1].tech_sme_result.direct_routes

    firm_services.delete_year(next(y for y in firm.years if y.year == 2025))
    db.session.commit()
    assert len(rows_of(firm.id)) == 2

    end_current_certificate(firm.id, "cancelled", date(2026, 3, 1), reason="重大安全事故")
    db.session.commit()
    rows = rows_of(firm.id)
    assert len(rows) == 3
    assert not rows[-1].tech_sme_result.direct_routes


def test_saving_an_expert_assessment_recomputes_and_narrows_the_range(app):
    firm = make_candidate()
    manager = factories.make_user("manager")
    db.session.commit()
    [old] = rows_of(firm.id)

    saved = expert.save_expert_assessment(firm, FULL_MARKS, manager)
    db.session.commit()

    assert saved.assessed_by_id == manager.id
    assert saved.facts().tech_advancement == 8
    new = services.current_assessment(firm.id)
    assert new.id != old.id
    assert new.score_max - new.score_min < old.score_max - old.score_min
    assert new.hte.condition("clean_record").status == "met"
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "expert_assessments")
    ).all()
    assert [e.action for e in entries] == ["create"]


def test_unchanged_data_adds_no_row(app):
    firm = make_candidate()
    manager = factories.make_user("manager")
    expert.save_expert_assessment(firm, FULL_MARKS, manager)
    db.session.commit()
    assert assessment_count() == 1

    year = firm.years[0]
    firm_services.update_year(year, {"rd_expense": year.rd_expense})
    expert.save_expert_assessment(firm, FULL_MARKS, manager)
    db.session.commit()
    # A change and its undo inside one transaction leave the result as it was.
    firm_services.update_year(year, {"total_staff": 999})
    firm_services.update_year(year, {"total_staff": 100})
    db.session.commit()
    assert services.refresh_assessments([firm.id], TODAY) == 0
    db.session.commit()
    assert assessment_count() == 1


def test_reading_a_firm_and_its_assessment_creates_no_rows(app):
    firm = make_candidate()
    db.session.commit()
    with db.session.no_autoflush:
        current = services.current_assessment(firm.id)
        assert current.hte.verdict == current.verdict
        assert list(firm.years) and list(firm.ip_items)
    db.session.commit()
    db.session.expire_all()
    firm.name  # noqa: B018  (reloads the firm, as a page would)
    db.session.commit()
    assert assessment_count() == 1


def test_changes_unrelated_to_eligibility_do_not_recompute(app, monkeypatch):
    firm = make_candidate()
    db.session.commit()
    calls = []
    monkeypatch.setattr(services, "refresh_assessments", lambda *a, **k: calls.append(a) or 0)
    firm_services.update_firm(firm, {"address": "梧州市长洲区", "notes": "走访"})
    factories.make_qualification(firm, "tech_sme", 2026)
    db.session.commit()
    assert calls == []
    firm_services.update_firm(firm, {"established_on": date(2016, 1, 1)})
    db.session.commit()
    assert calls == [({firm.id},)]


def test_a_rolled_back_change_is_not_recomputed(app, monkeypatch):
    firm = make_candidate()
    db.session.commit()
    calls = []
    monkeypatch.setattr(services, "refresh_assessments", lambda *a, **k: calls.append(a) or 0)
    factories.make_ip(firm, "software")
    db.session.rollback()
    db.session.commit()
    assert calls == []


def test_refreshing_every_firm_skips_deleted_firms(app):
    kept = make_candidate()
    gone = make_candidate()
    db.session.commit()
    firm_services.delete_firm(gone)
    db.session.commit()
    version = services.settings_in_force(TODAY)
    services.create_settings_version(
        Settings(hte=replace(DEFAULTS.hte, pass_score=72)), TODAY, "分数线", None
    )
    db.session.commit()
    assert rows_of(kept.id)[-1].settings_id != version.id
    assert [r.settings_id for r in rows_of(gone.id)] == [version.id]


# --- A new settings version ---------------------------------------------------------------------


def test_a_new_settings_version_in_force_reassesses_every_firm(app):
    firms = [make_candidate(), make_candidate()]
    admin = factories.make_user("admin")
    db.session.commit()
    base = services.settings_in_force(TODAY)
    assert all(services.current_assessment(f.id).settings_id == base.id for f in firms)

    tiers = (RdTier(Decimal("50000000"), Decimal("0.08")), *DEFAULTS.hte.rd_tiers[1:])
    stricter = Settings(hte=replace(DEFAULTS.hte, rd_tiers=tiers))
    version = services.create_settings_version(stricter, date(2026, 5, 1), "研发强度 8%", admin)
    db.session.commit()

    assert version.created_by_id == admin.id
    for firm in firms:
        old, new = rows_of(firm.id)
        assert (old.settings_id, old.is_current) == (base.id, False)
        assert (new.settings_id, new.is_current) == (version.id, True)
        assert old.hte.condition("rd_intensity").status == "met"
        assert new.hte.condition("rd_intensity").status == "unmet"
        assert new.settings_version.settings.hte.rd_tiers[0].min_ratio == Decimal("0.08")


def test_a_settings_version_effective_later_changes_nothing_today(app):
    firm = make_candidate()
    db.session.commit()
    later = Settings(hte=replace(DEFAULTS.hte, pass_score=90))
    services.create_settings_version(later, TODAY + timedelta(days=1), "明天起", None)
    db.session.commit()
    [row] = rows_of(firm.id)
    assert row.settings_id == services.settings_in_force(TODAY).id


def test_a_pass_score_change_moves_the_verdict(app):
    firm = make_candidate()
    manager = factories.make_user("manager")
    expert.save_expert_assessment(firm, FULL_MARKS, manager)
    db.session.commit()
    before = services.current_assessment(firm.id)
    assert before.verdict != "pass"
    reachable = Settings(hte=replace(DEFAULTS.hte, pass_score=before.score_min))
    services.create_settings_version(reachable, date(2026, 1, 1), "降低分数线", None)
    db.session.commit()
    lower = services.current_assessment(firm.id)
    assert lower.verdict == "pass"
    assert lower.hte.condition("score").status == "met"

    higher = Settings(hte=replace(DEFAULTS.hte, pass_score=before.score_max + 1))
    services.create_settings_version(higher, TODAY, "提高分数线", None)
    db.session.commit()
    after = services.current_assessment(firm.id)
    assert after.verdict == "fail"
    assert after.hte.condition("score").status == "unmet"
    assert [r.verdict for r in rows_of(firm.id)] == [before.verdict, "pass", "fail"]
    assert len({r.settings_id for r in rows_of(firm.id)}) == 3


# --- The manager's assessment -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"tech_advancement": 9}, "tech_advancement", "“技术的先进程度”应在 0–8 分之间"),
        ({"standards": -1}, "standards", "“参与编制标准”应在 0–2 分之间"),
        ({"rd_talent": 5}, "rd_talent", "“科技人员培养及人才引进”应在 0–4 分之间"),
        ({"acquisition": 7}, "acquisition", "“知识产权获得方式”应在 1–6 分之间"),
        ({"acquisition": 0}, "acquisition", "“知识产权获得方式”应在 1–6 分之间"),
        ({"rd_rules": "多"}, "rd_rules", "应填写整数分值"),
    ],
)
def test_expert_assessment_out_of_range_is_refused(app, values, field, message):
    firm = make_candidate()
    db.session.commit()
    with pytest.raises(expert.ExpertAssessmentError) as error:
        expert.save_expert_assessment(firm, {**FULL_MARKS, **values}, None)
    assert error.value.field == field
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)
    assert db.session.scalar(select(func.count(ExpertAssessment.id))) == 0


def test_acquisition_band_follows_how_the_ip_was_obtained(app):
    firm = factories.make_firm()
    bare = factories.make_firm()
    factories.make_ip(firm, "invention", acquisition="transfer")
    factories.make_ip(firm, "software", acquisition="license")
    db.session.commit()
    with pytest.raises(expert.ExpertAssessmentError, match=r"受让、受赠或并购.*1–3 分"):
        expert.save_expert_assessment(firm, {"acquisition": 4}, None)
    assert expert.save_expert_assessment(firm, {"acquisition": 3}, None).acquisition == 3
    with pytest.raises(
        expert.ExpertAssessmentError,
        match="暂无可计入的知识产权，“知识产权获得方式”只能为 0 分或不填",
    ):
        expert.save_expert_assessment(bare, {"acquisition": 2}, None)
    row = expert.save_expert_assessment(bare, {"acquisition": None, "notes": "  "}, None)
    assert (row.acquisition, row.notes) == (None, None)


def test_expert_limits_follow_the_settings_in_force(app):
    firm = make_candidate()
    wider = Settings(hte=replace(DEFAULTS.hte, rd_talent_max=5))
    services.create_settings_version(wider, TODAY, "试行", None)
    db.session.commit()
    assert expert.save_expert_assessment(firm, {"rd_talent": 5}, None).rd_talent == 5


# --- Facts --------------------------------------------------------------------------------------


def test_firm_facts_reads_figures_ip_expert_and_certificate(app):
    firm = make_candidate()
    factories.make_year(firm, 2022, total_costs=Decimal("25000000"))
    factories.make_ip(firm, "software", status="expired", acquisition="donation")
    factories.make_certificate(firm, date(2024, 12, 8))
    old = make_candidate()
    factories.make_certificate(old, date(2023, 5, 10))
    expert.save_expert_assessment(firm, {"tech_advancement": 5, "national_award": 1}, None)
    db.session.commit()

    facts = services.firm_facts([firm, old.id], TODAY)
    mine = facts[firm.id]
    assert mine.established_on == firm.established_on
    assert mine.tech_field == firm.tech_field.name
    assert [y.year for y in mine.years] == [2022, 2023, 2024, 2025]
    assert mine.year(2022).total_costs == Decimal("25000000")
    assert mine.year(2025).rd_expense == Decimal("1600000")
    assert [(i.kind, i.status, i.acquisition) for i in mine.ip_items] == [
        ("invention", "valid", "own"),
        ("software", "expired", "donation"),
    ]
    assert mine.expert.tech_advancement == 5 and mine.expert.national_award
    assert mine.holds_valid_hte
    assert not facts[old.id].holds_valid_hte
    assert facts[old.id].expert.tech_advancement is None


def test_firm_facts_uses_the_same_number_of_queries_for_more_firms(app):
    firms = []
    for n in range(40):
        firm = make_candidate()
        factories.make_certificate(firm, date(2025, 12, 8))
        expert.save_expert_assessment(firm, {"rd_rules": n % 7}, None)
        firms.append(firm)
    db.session.commit()

    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        # The session's transaction is a savepoint of the test's (see conftest): not a query.
        if not statement.startswith("SAVEPOINT"):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        twenty = services.firm_facts(firms[:20], TODAY)
        few = len(statements)
        statements.clear()
        forty = services.firm_facts(firms, TODAY)
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(twenty) == 20 and len(forty) == 40
    assert few == many <= 5
    assert all(len(f.years) == 3 and f.holds_valid_hte for f in forty.values())


# --- The daily scan -----------------------------------------------------------------------------


def test_the_daily_scan_recomputes_only_the_firms_the_date_moves(app):
    steady = make_candidate()
    # On 11 May 2026 one firm turns one, one firm's certificate has expired the day before (it
    # was valid through 10 May) and one firm's patent, granted on 10 May, starts to count.
    anniversary = make_candidate(established_on=date(2025, 5, 11))
    expiring = make_candidate()
    factories.make_certificate(expiring, date(2023, 5, 11))
    granted = make_candidate()
    factories.make_ip(granted, "utility_model", granted_on=TODAY)
    db.session.commit()
    [kept] = rows_of(steady.id)
    stamp = kept.updated_at
    assert services.reassess_due(TODAY) == services.Scan(checked=4, recomputed=0, written=0)

    clock._frozen = NOW + timedelta(days=1)
    scan = services.reassess_due()
    db.session.commit()

    assert scan == services.Scan(checked=4, recomputed=3, written=3)
    db.session.expire_all()
    assert [(r.id, r.updated_at, r.is_current) for r in rows_of(steady.id)] == [
        (kept.id, stamp, True)
    ]
    for firm in (anniversary, expiring, granted):
        old, new = rows_of(firm.id)
        assert (old.is_current, new.is_current, new.applied_on) == (False, True, date(2026, 5, 11))
    old, new = rows_of(anniversary.id)
    assert old.hte.condition("registered").status == "unmet"
    assert new.hte.condition("registered").status == "met"
    old, new = rows_of(expiring.id)
    assert old.tech_sme_result.direct_routes == ("有效期内的高新技术企业",)
    assert new.tech_sme_result.direct_routes == ()
    old, new = rows_of(granted.id)
    assert old.hte.condition("owns_ip").value != new.hte.condition("owns_ip").value
    assert services.reassess_due().recomputed == 0


def test_a_young_firm_is_recomputed_every_day_until_its_anniversary(app):
    young = make_candidate(established_on=date(2026, 1, 1))
    db.session.commit()
    for days in (1, 2):
        clock._frozen = NOW + timedelta(days=days)
        assert services.reassess_due().recomputed == 1
        db.session.commit()
    rows = rows_of(young.id)
    gaps = [next(g for g in r.hte.gaps if g.code == "registered") for r in rows]
    assert [r.applied_on for r in rows] == [TODAY + timedelta(days=n) for n in range(3)]
    assert gaps[0].shortfall > gaps[1].shortfall > gaps[2].shortfall


def test_a_new_year_or_a_settings_version_taking_effect_makes_every_firm_due(app):
    firms = [make_candidate(), make_candidate()]
    db.session.commit()
    later = Settings(hte=replace(DEFAULTS.hte, pass_score=72))
    services.create_settings_version(later, TODAY + timedelta(days=3), "三天后生效", None)
    db.session.commit()
    ids = sorted(f.id for f in firms)
    assert services.firms_due(TODAY + timedelta(days=2)) == ([], 2)
    assert services.firms_due(TODAY + timedelta(days=3)) == (ids, 2)
    assert services.firms_due(date(2027, 1, 1)) == (ids, 2)


def test_the_daily_job_recomputes_a_few_firms_itself_and_queues_many(app, monkeypatch):
    firms = [make_candidate(), make_candidate()]
    db.session.commit()
    clock._frozen = datetime(2027, 1, 4, 4, 0)  # a new year: every firm is due
    assert jobs.assess_every_firm() == 2
    assert db.session.scalar(select(func.count(Job.id))) == 0

    clock._frozen = datetime(2028, 1, 4, 4, 0)
    monkeypatch.setattr(jobs, "INLINE_LIMIT", 1)
    assert jobs.assess_every_firm() == 0
    assert jobs.assess_every_firm() == 0
    db.session.commit()
    [job] = db.session.scalars(select(Job)).all()
    assert (job.kind, job.kind_label) == ("eligibility.reassess", "每日重新评估")
    assert queue.claim_next("w1").id == job.id
    queue.run_job(job.id, "w1")
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status == "done", job.message
    assert job.message == "已检查 2 家企业，重新评估 2 家，2 家的结果有更新。"
    for firm in firms:
        assert services.current_assessment(firm.id).applied_on == date(2028, 1, 4)


def _comparable(result: dict) -> dict:
    """Return a stored result without what only dates it: the day and the registration age."""
    conditions = [
        {**c, "value": ""} if c["code"] == "registered" else c for c in result["conditions"]
    ]
    return {**result, "applied_on": None, "conditions": conditions}


def test_after_each_scan_stored_results_are_what_recomputing_every_firm_gives(app):
    with audit_source("cli"):
        generator.generate_demo("wuzhou", 60, 7, TODAY)
        db.session.commit()
    # Days past anniversaries, patents, December's certificate expiries, and a new year.
    days = [date(2026, 5, 11), date(2026, 8, 30), date(2026, 12, 8), date(2027, 1, 4)]
    recomputed = []
    for day in days:
        clock._frozen = datetime.combine(day, NOW.time())
        recomputed.append(services.reassess_due(day).recomputed)
        db.session.commit()
        settings = services.settings_in_force(day).settings
        stored = {
            a.firm_id: a
            for a in db.session.scalars(select(Assessment).where(Assessment.is_current.is_(True)))
        }
        facts = services.firm_facts(list(stored), day)
        for firm_id, row in stored.items():
            fresh = assess_hte(facts[firm_id], day, settings)
            assert _comparable(row.result) == _comparable(fresh.to_dict()), (day, firm_id)
            sme = assess_tech_sme(facts[firm_id], day.year, settings)
            assert row.tech_sme == sme.to_dict(), (day, firm_id)
    assert 0 < recomputed[0] < 60 and recomputed[-1] == 60


# --- Commands and the demo ----------------------------------------------------------------------


def test_assess_command_recomputes_and_prints_the_count(app, runner):
    firms = [make_candidate(), make_candidate()]
    db.session.commit()
    db.session.execute(Assessment.__table__.delete())
    db.session.commit()

    result = runner.invoke(args=["crm", "assess", "--firm-id", str(firms[0].id)])
    assert result.exit_code == 0, result.output
    assert "检查企业 1 家，重新评估 1 家，其中 1 家的评估结果有更新" in result.output
    # The daily scan: the firm assessed today is not due, the one without an assessment is.
    result = runner.invoke(args=["crm", "assess"])
    assert "检查企业 2 家，重新评估 1 家，其中 1 家的评估结果有更新" in result.output
    assert all(services.current_assessment(f.id) for f in firms)
    result = runner.invoke(args=["crm", "assess"])
    assert "检查企业 2 家，重新评估 0 家，其中 0 家" in result.output
    result = runner.invoke(args=["crm", "assess", "--all"])
    assert "检查企业 2 家，重新评估 2 家，其中 0 家" in result.output


def test_demo_firms_are_assessed_when_the_demo_commits(app):
    with audit_source("cli"):
        summary = generator.generate_demo("wuzhou", 30, 7, TODAY)
        db.session.commit()
    current = db.session.scalars(select(Assessment).where(Assessment.is_current.is_(True))).all()
    assert len(current) == summary.firms
    assert {a.verdict for a in current} >= {"fail", "uncertain"}


def test_demo_total_costs_cover_rd_and_mostly_stay_below_revenue(app):
    with audit_source("cli"):
        generator.generate_demo("wuzhou", 60, 7, TODAY)
        db.session.commit()
    rows = db.session.scalars(select(FirmYear)).all()
    assert all(r.rd_expense <= r.total_costs for r in rows)
    profitable = sum(r.total_costs < r.total_revenue for r in rows)
    assert 0.6 * len(rows) <= profitable < len(rows)


def test_a_december_certificate_keeps_the_direct_route_through_its_expiry_year(app):
    firm = make_candidate()
    factories.make_certificate(firm, date(2023, 12, 8))
    db.session.commit()
    for day, holds in (
        (date(2026, 6, 15), True),
        (date(2026, 12, 7), True),
        (date(2026, 12, 8), False),
    ):
        assert services.firm_facts([firm], day)[firm.id].holds_valid_hte is holds, day
