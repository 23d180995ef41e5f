"""The daily reminder scan: each rule on its dates (domain.md §4, §2.4), reruns, closing."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.certification.models import CertificationApplication, ChangeReport, Duty
from crm.coaching.models import Activity, CoachingMeasure, CoachingPlan
from crm.extensions import db
from crm.pipeline.models import Enrollment, Programme, Stage
from crm.reminders import rules
from crm.reminders.models import Reminder, ReminderRule
from crm.reminders.scan import scan
from crm.reminders.services import create_rule_version, rule_in_force
from crm.support.models import SupportEntry
from tests import factories


def run(day: date) -> dict[str, int]:
    """Scan on `day` and return how many reminders each rule created."""
    created = {item.code: item.created for item in scan(day)}
    db.session.flush()
    return created


def reminders(code: str, open_only: bool = True) -> list[Reminder]:
    stmt = select(Reminder).where(Reminder.kind == code).order_by(Reminder.id)
    if open_only:
        stmt = stmt.where(Reminder.closed_at.is_(None))
    return list(db.session.scalars(stmt))


def keys(code: str) -> set[tuple]:
    """Return the open reminders of a rule as (period, recipient kind, recipient id, firm id)."""
    return {(r.period, r.recipient_kind, r.recipient_id, r.firm_id) for r in reminders(code)}


def check_dates(code: str, expected: dict[date, set[str]]) -> None:
    """Scan on each date in order and check the periods the rule created that day."""
    for day, periods in expected.items():
        before = {r.id for r in reminders(code, open_only=False)}
        run(day)
        made = {r.period for r in reminders(code, open_only=False) if r.id not in before}
        assert made == periods, (day, made)


@pytest.fixture
def world(app):
    manager = factories.make_user("manager")
    firm = factories.make_firm(manager=manager)
    return {"manager": manager, "firm": firm}


def test_every_rule_of_the_domain_is_seeded_with_its_defaults(app):
    codes = set(db.session.scalars(select(ReminderRule.code)))
    assert codes == set(rules.SPECS)
    assert len(rules.SPECS) == 11


# --- Certificate expiring: 1 January of the expiry year; 180, 90 and 30 days before -----------


def test_certificate_expiring_on_its_dates_and_the_day_after(world):
    certificate = factories.make_certificate(world["firm"], date(2023, 7, 16))
    expiry = certificate.expires_on
    assert expiry == date(2026, 7, 15)
    check_dates(
        "cert_expiring",
        {
            date(2025, 12, 31): set(),
            date(2026, 1, 1): {"jan1"},
            date(2026, 1, 2): set(),
            expiry - timedelta(181): set(),
            expiry - timedelta(180): {"d180"},
            expiry - timedelta(179): set(),
            expiry - timedelta(91): set(),
            expiry - timedelta(90): {"d90"},
            expiry - timedelta(30): {"d30"},
            expiry - timedelta(29): set(),
            expiry: set(),
            expiry + timedelta(1): set(),
        },
    )
    manager, firm = world["manager"], world["firm"]
    # The certificate lapsed the day after its expiry: nothing is left open.
    assert keys("cert_expiring") == set()
    closed = reminders("cert_expiring", open_only=False)
    assert {(r.period, r.recipient_kind, r.recipient_id) for r in closed} == {
        (period, kind, who)
        for period in ("jan1", "d180", "d90", "d30")
        for kind, who in (("user", manager.id), ("firm", firm.id))
    }
    assert {r.closed_reason for r in closed if r.period != "d30"} == {"superseded"}
    assert {r.closed_reason for r in closed if r.period == "d30"} == {"resolved"}


def test_first_january_falls_between_the_offsets_of_an_early_expiry(world):
    certificate = factories.make_certificate(world["firm"], date(2024, 2, 11))
    assert certificate.expires_on == date(2027, 2, 10)
    check_dates(
        "cert_expiring",
        {
            date(2026, 11, 12): {"d90"},
            date(2026, 12, 31): set(),
            date(2027, 1, 1): {"jan1"},
            date(2027, 1, 11): {"d30"},
        },
    )


def test_a_scan_that_missed_days_makes_only_the_latest_occasion(world):
    factories.make_certificate(world["firm"], date(2023, 7, 16))
    run(date(2026, 5, 1))  # after the 90-day notice, before the 30-day one
    assert {period for period, *_ in keys("cert_expiring")} == {"d90"}


def test_re_applying_closes_the_expiry_reminders(world):
    firm = world["firm"]
    factories.make_certificate(firm, date(2023, 7, 16))
    run(date(2026, 4, 16))
    assert len(keys("cert_expiring")) == 2
    batch = factories.make_batch(2026)
    db.session.add(
        CertificationApplication(
            firm_id=firm.id, batch_id=batch.id, submitted_on=date(2026, 5, 25), is_renewal=True
        )
    )
    assert run(date(2026, 5, 26))["cert_expiring"] == 0
    assert keys("cert_expiring") == set()
    assert {r.closed_reason for r in reminders("cert_expiring", False)} == {"resolved"}
    assert run(date(2026, 6, 15))["cert_expiring"] == 0


# --- Yearly reports: annual report 1 May, 20 May, 31 May, overdue after; torch 1 and 25 March -


def _duty(firm, kind: str, due_on: date) -> Duty:
    duty = Duty(firm_id=firm.id, kind=kind, year=due_on.year - 1, due_on=due_on)
    db.session.add(duty)
    db.session.flush()
    return duty


def test_annual_report_due_and_overdue(world):
    duty = _duty(world["firm"], "annual_report", date(2026, 5, 31))
    check_dates(
        "annual_report",
        {
            date(2026, 4, 30): set(),
            date(2026, 5, 1): {"d30"},
            date(2026, 5, 19): set(),
            date(2026, 5, 20): {"d11"},
            date(2026, 5, 31): {"d0"},
            date(2026, 6, 1): {"overdue"},
            date(2026, 6, 2): set(),
        },
    )
    assert keys("annual_report") == {
        ("overdue", "firm", world["firm"].id, world["firm"].id),
        ("overdue", "user", world["manager"].id, world["firm"].id),
    }
    duty.filed_on = date(2026, 6, 3)
    run(date(2026, 6, 3))
    assert keys("annual_report") == set()


def test_torch_statistics_on_1_and_25_march_to_the_firm(world):
    _duty(world["firm"], "torch", date(2026, 3, 31))
    check_dates(
        "torch_statistics",
        {
            date(2026, 2, 28): set(),
            date(2026, 3, 1): {"d30"},
            date(2026, 3, 24): set(),
            date(2026, 3, 25): {"d6"},
            date(2026, 4, 1): set(),
        },
    )
    assert keys("torch_statistics") == {("d6", "firm", world["firm"].id, world["firm"].id)}


# --- Application window: when the batch opens, 14 and 3 days before it closes ----------------


def _coaching(firm) -> Enrollment:
    programme = db.session.scalar(select(Programme).where(Programme.code == "hte"))
    stage = db.session.scalar(
        select(Stage).where(Stage.programme_id == programme.id, Stage.code == "coaching")
    )
    enrollment = Enrollment(
        firm_id=firm.id, programme_id=programme.id, stage_id=stage.id, opened_on=date(2026, 1, 5)
    )
    db.session.add(enrollment)
    db.session.flush()
    return enrollment


def test_application_window_reaches_firms_in_coaching_and_their_manager(world):
    firm, manager = world["firm"], world["manager"]
    _coaching(firm)
    other = factories.make_firm(manager=manager)
    _coaching(other)
    factories.make_firm(manager=manager)  # not in coaching
    batch = factories.make_batch(2026)  # 21 May – 5 September
    check_dates(
        "application_window",
        {
            date(2026, 5, 20): set(),
            date(2026, 5, 21): {"open"},
            date(2026, 8, 21): set(),
            date(2026, 8, 22): {"d14"},
            date(2026, 9, 2): {"d3"},
        },
    )
    assert keys("application_window") == {
        ("d3", "firm", firm.id, firm.id),
        ("d3", "firm", other.id, other.id),
        ("d3", "user", manager.id, None),  # one per batch for the manager
    }
    db.session.add(
        CertificationApplication(firm_id=firm.id, batch_id=batch.id, submitted_on=date(2026, 9, 3))
    )
    run(date(2026, 9, 3))
    assert ("d3", "firm", firm.id, firm.id) not in keys("application_window")
    run(date(2026, 9, 6))  # the window has closed
    assert keys("application_window") == set()


# --- Coaching measures: 7 days before, on the due date, overdue ---------------------------------


def _plan(firm, manager) -> CoachingPlan:
    plan = CoachingPlan(firm_id=firm.id, year=2026, status="active", manager_id=manager.id)
    db.session.add(plan)
    db.session.flush()
    return plan


def test_coaching_measure_due_reaches_its_owner(world):
    firm, manager = world["firm"], world["manager"]
    owner = factories.make_user("manager")
    plan = _plan(firm, manager)
    measure = CoachingMeasure(
        plan_id=plan.id,
        firm_id=firm.id,
        title="归集研发费用",
        owner_id=owner.id,
        due_on=date(2026, 6, 10),
    )
    unowned = CoachingMeasure(
        plan_id=plan.id,
        firm_id=firm.id,
        title="申请发明专利",
        owner="企业技术部",
        due_on=date(2026, 6, 10),
    )
    db.session.add_all([measure, unowned])
    db.session.flush()
    check_dates(
        "measure_due",
        {
            date(2026, 6, 2): set(),
            date(2026, 6, 3): {"d7"},
            date(2026, 6, 9): set(),
            date(2026, 6, 10): {"d0"},
            date(2026, 6, 11): {"overdue"},
            date(2026, 6, 12): set(),
        },
    )
    by_record = {(r.record_id, r.recipient_id) for r in reminders("measure_due")}
    # A measure without a user as owner reaches the plan's manager.
    assert by_record == {(measure.id, owner.id), (unowned.id, manager.id)}
    measure.status = "done"
    unowned.due_on = date(2026, 7, 1)  # moved: the reminder of the old date no longer applies
    run(date(2026, 6, 12))
    assert reminders("measure_due") == []


# --- No contact for 90 days on an open enrollment ------------------------------------------------


def test_no_contact_after_ninety_days_and_closed_by_a_visit(world):
    firm, manager = world["firm"], world["manager"]
    _coaching(firm)
    db.session.add(Activity(firm_id=firm.id, kind="visit", occurred_on=date(2026, 2, 1)))
    db.session.flush()
    check_dates(
        "no_contact",
        {date(2026, 5, 1): set(), date(2026, 5, 2): {"2026-02-01"}, date(2026, 5, 3): set()},
    )
    assert keys("no_contact") == {("2026-02-01", "user", manager.id, firm.id)}
    db.session.add(Activity(firm_id=firm.id, kind="phone", occurred_on=date(2026, 5, 4)))
    run(date(2026, 5, 4))
    assert keys("no_contact") == set()
    check_dates("no_contact", {date(2026, 8, 1): set(), date(2026, 8, 2): {"2026-05-04"}})


def test_no_contact_is_not_asked_of_firms_outside_any_programme(world):
    assert run(date(2026, 12, 1))["no_contact"] == 0


# --- Change report: 30 days after a recorded change not reported ------------------------------


def test_change_report_thirty_days_after_the_change(world):
    change = ChangeReport(
        firm_id=world["firm"].id,
        kind="name",
        changed_on=date(2026, 3, 1),
        due_on=date(2026, 6, 1),
    )
    db.session.add(change)
    db.session.flush()
    check_dates(
        "change_report",
        {date(2026, 3, 30): set(), date(2026, 3, 31): {"d30"}, date(2026, 4, 1): set()},
    )
    change.reported_on = date(2026, 4, 2)
    run(date(2026, 4, 2))
    assert keys("change_report") == set()


# --- Tech-SME re-registration: when the year's window opens -----------------------------------


def test_tech_sme_registration_when_the_window_opens(world):
    firm = world["firm"]
    factories.make_qualification(firm, "tech_sme", 2025)
    factories.make_qualification(factories.make_firm(), "tech_sme", 2024)  # lapsed long ago
    check_dates(
        "tech_sme_registration",
        {date(2026, 2, 28): set(), date(2026, 3, 1): {"2026"}, date(2026, 3, 2): set()},
    )
    assert keys("tech_sme_registration") == {("2026", "firm", firm.id, firm.id)}
    factories.make_qualification(firm, "tech_sme", 2026)
    run(date(2026, 4, 1))
    assert keys("tech_sme_registration") == set()


# --- Listing subsidy claimable --------------------------------------------------------------------


def test_listing_subsidy_claimable_until_claimed(world):
    entry = SupportEntry(
        firm_id=world["firm"].id,
        kind="listing_subsidy",
        title="辅导备案",
        amount=Decimal(500000),
        granted_on=date(2026, 4, 10),
    )
    db.session.add(entry)
    db.session.flush()
    check_dates(
        "listing_subsidy",
        {date(2026, 4, 9): set(), date(2026, 4, 10): {"claimable"}, date(2026, 4, 11): set()},
    )
    entry.status = "applied"
    run(date(2026, 4, 12))
    assert keys("listing_subsidy") == set()


# --- Results not entered after the public notice ---------------------------------------------


def test_results_not_entered_after_the_publicity_period(world):
    head = factories.make_user("bureau_head")
    batch = factories.make_batch(2026)  # notice ends 21 November
    application = CertificationApplication(
        firm_id=world["firm"].id,
        batch_id=batch.id,
        submitted_on=date(2026, 6, 1),
        status="review",
    )
    db.session.add(application)
    db.session.flush()
    check_dates(
        "results_pending",
        {date(2026, 11, 21): set(), date(2026, 11, 22): {"d1"}, date(2026, 11, 23): set()},
    )
    recipients = {(kind, who) for _, kind, who, _ in keys("results_pending")}
    assert ("user", world["manager"].id) in recipients and ("user", head.id) in recipients
    application.status = "certified"
    run(date(2026, 11, 24))
    assert keys("results_pending") == set()


# --- Follow-up of a visit -------------------------------------------------------------------------


def test_follow_up_of_a_visit_reaches_its_owner_or_its_author(world):
    firm = world["firm"]
    author, owner = factories.make_user("manager"), factories.make_user("manager")
    named = Activity(
        firm_id=firm.id,
        kind="visit",
        occurred_on=date(2026, 6, 1),
        follow_up="送达申报指南",
        follow_up_due_on=date(2026, 6, 10),
        created_by_id=author.id,
        follow_up_owner_id=owner.id,
    )
    unnamed = Activity(
        firm_id=firm.id,
        kind="visit",
        occurred_on=date(2026, 6, 1),
        follow_up="核对研发台账",
        follow_up_due_on=date(2026, 6, 10),
        created_by_id=author.id,
    )
    db.session.add_all([named, unnamed])
    db.session.flush()
    check_dates(
        "follow_up_due",
        {
            date(2026, 6, 6): set(),
            date(2026, 6, 7): {"d3"},
            date(2026, 6, 10): {"d0"},
            date(2026, 6, 11): {"overdue"},
            date(2026, 6, 12): set(),
        },
    )
    assert {(r.record_id, r.recipient_id) for r in reminders("follow_up_due")} == {
        (named.id, owner.id),
        (unnamed.id, author.id),
    }
    named.follow_up_done = True
    run(date(2026, 6, 12))
    assert {r.record_id for r in reminders("follow_up_due")} == {unnamed.id}


# --- Reruns, settings, links ---------------------------------------------------------------------


def test_a_rerun_the_same_day_creates_nothing(world):
    firm = world["firm"]
    factories.make_certificate(firm, date(2023, 7, 16))
    _duty(firm, "annual_report", date(2026, 5, 31))
    _coaching(firm)
    first = run(date(2026, 5, 20))
    assert sum(first.values()) > 0
    count = db.session.query(Reminder).count()
    assert sum(run(date(2026, 5, 20)).values()) == 0
    assert db.session.query(Reminder).count() == count


def test_a_rule_switched_off_closes_its_reminders_and_makes_none(world):
    _duty(world["firm"], "annual_report", date(2026, 5, 31))
    run(date(2026, 5, 1))
    rule = db.session.scalar(select(ReminderRule).filter_by(code="annual_report"))
    current = rule_in_force(rule, date(2026, 5, 2)).settings
    off = rules.RuleSettings(**{**current.__dict__, "enabled": False})
    create_rule_version(rule, off, date(2026, 5, 2), "暂停", None)
    assert run(date(2026, 5, 20))["annual_report"] == 0
    assert {r.closed_reason for r in reminders("annual_report", False)} == {"disabled"}


def test_edited_offsets_and_recipients_apply_from_their_effective_date(world):
    _duty(world["firm"], "annual_report", date(2026, 5, 31))
    rule = db.session.scalar(select(ReminderRule).filter_by(code="annual_report"))
    edited = rules.RuleSettings(enabled=True, offsets=(15,), recipients=("manager",), overdue=False)
    create_rule_version(rule, edited, date(2026, 5, 10), "只提醒服务专员", None)
    check_dates(
        "annual_report",
        {date(2026, 5, 1): {"d30"}, date(2026, 5, 16): {"d15"}, date(2026, 6, 1): set()},
    )
    # The firm is no longer told: its earlier reminder closes; the manager's d30 is replaced.
    assert keys("annual_report") == {("d15", "user", world["manager"].id, world["firm"].id)}
    reasons = {(r.recipient_kind, r.closed_reason) for r in reminders("annual_report", False)}
    assert reasons == {("firm", "unaddressed"), ("user", "superseded"), ("user", None)}


def test_a_reminder_carries_its_link(app, world):
    factories.make_certificate(world["firm"], date(2023, 7, 16))
    run(date(2026, 1, 1))
    reminder = reminders("cert_expiring")[0]
    assert reminder.due_on == date(2026, 7, 15)
    assert reminder.link_endpoint == "firms.detail"
    assert reminder.url_arguments() == {"firm_id": world["firm"].id, "tab": "certification"}
    assert reminder.read_at is None and reminder.done_at is None and reminder.snoozed_until is None


# --- A recipient the rule no longer addresses: a new manager, a new owner, a head who left --------


def _version(code: str, on: date, **changes) -> None:
    rule = db.session.scalar(select(ReminderRule).filter_by(code=code))
    current = rule_in_force(rule, on).settings
    create_rule_version(
        rule, rules.RuleSettings(**{**current.__dict__, **changes}), on, "调整", None
    )


def _to_users(code: str) -> set[tuple]:
    """Return the open reminders of a rule to users as (period, user id)."""
    return {(period, who) for period, kind, who, _ in keys(code) if kind == "user"}


def _closed_as(code: str, reason: str) -> set[tuple]:
    return {
        (r.period, r.recipient_id)
        for r in reminders(code, open_only=False)
        if r.closed_reason == reason
    }


def test_a_new_manager_takes_over_the_reminder_the_same_day_and_the_old_one_closes(world):
    firm, old = world["firm"], world["manager"]
    new = factories.make_user("manager")
    _duty(firm, "annual_report", date(2026, 5, 31))
    run(date(2026, 5, 1))
    assert _to_users("annual_report") == {("d30", old.id)}

    firm.manager_id = new.id
    assert run(date(2026, 5, 5))["annual_report"] == 1  # not a day the rule fires

    assert _to_users("annual_report") == {("d30", new.id)}
    assert _closed_as("annual_report", "unaddressed") == {("d30", old.id)}
    assert ("d30", "firm", firm.id, firm.id) in keys("annual_report")  # the firm's is its own
    check_dates("annual_report", {date(2026, 5, 20): {"d11"}})
    assert _to_users("annual_report") == {("d11", new.id)}
    assert run(date(2026, 5, 21))["annual_report"] == 0


def test_a_reminder_past_its_last_occasion_moves_to_the_new_manager(world):
    firm, old = world["firm"], world["manager"]
    new = factories.make_user("manager")
    _version("annual_report", date(2026, 1, 1), overdue=False)
    _duty(firm, "annual_report", date(2026, 5, 31))
    run(date(2026, 5, 31))
    [before] = [r for r in reminders("annual_report") if r.recipient_kind == "user"]
    before.read_at = datetime(2026, 5, 31, 2, 0)
    assert run(date(2026, 6, 2))["annual_report"] == 0  # the rule says nothing more after 31 May

    firm.manager_id = new.id
    assert run(date(2026, 6, 3))["annual_report"] == 1

    [moved] = [r for r in reminders("annual_report") if r.recipient_kind == "user"]
    assert (moved.recipient_id, moved.period, moved.due_on) == (new.id, "d0", date(2026, 5, 31))
    assert moved.read_at is None and moved.firm_id == firm.id
    assert moved.link_args == {"tab": "certification"}
    db.session.refresh(before)
    assert (before.closed_reason, before.recipient_id) == ("unaddressed", old.id)
    assert run(date(2026, 6, 4))["annual_report"] == 0


def test_a_firm_handed_back_gives_the_first_manager_their_own_reminder_again(world):
    firm, first = world["firm"], world["manager"]
    second = factories.make_user("manager")
    _coaching(firm)
    db.session.add(Activity(firm_id=firm.id, kind="visit", occurred_on=date(2026, 2, 1)))
    run(date(2026, 5, 2))
    [own] = reminders("no_contact")

    firm.manager_id = second.id
    run(date(2026, 5, 3))
    assert _to_users("no_contact") == {("2026-02-01", second.id)}
    firm.manager_id = first.id  # a mistake put right
    run(date(2026, 5, 4))

    # The first manager's reminder of that occasion is theirs again, open: the key would refuse
    # a second one, and the rule will not fire for this firm again until it is visited.
    assert [r.id for r in reminders("no_contact")] == [own.id]
    assert _to_users("no_contact") == {("2026-02-01", first.id)}
    assert _closed_as("no_contact", "unaddressed") == {("2026-02-01", second.id)}


def test_a_firm_with_no_manager_left_keeps_no_reminder_to_its_old_one(world):
    firm = world["firm"]
    _duty(firm, "annual_report", date(2026, 5, 31))
    run(date(2026, 5, 1))
    firm.manager_id = None
    run(date(2026, 5, 2))
    assert _to_users("annual_report") == set()
    assert _closed_as("annual_report", "unaddressed") == {("d30", world["manager"].id)}


def test_a_measure_given_to_another_owner_and_then_to_nobody(world):
    firm, manager = world["firm"], world["manager"]
    first, second = factories.make_user("manager"), factories.make_user("manager")
    measure = CoachingMeasure(
        plan_id=_plan(firm, manager).id,
        firm_id=firm.id,
        title="归集研发费用",
        owner_id=first.id,
        due_on=date(2026, 6, 10),
    )
    db.session.add(measure)
    db.session.flush()
    run(date(2026, 6, 3))
    measure.owner_id = second.id
    run(date(2026, 6, 4))
    assert _to_users("measure_due") == {("d7", second.id)}
    measure.owner_id = None  # the owner falls back to the plan's manager
    run(date(2026, 6, 5))
    assert _to_users("measure_due") == {("d7", manager.id)}
    assert _closed_as("measure_due", "unaddressed") == {("d7", first.id), ("d7", second.id)}
    check_dates("measure_due", {date(2026, 6, 10): {"d0"}, date(2026, 6, 11): {"overdue"}})
    assert _to_users("measure_due") == {("overdue", manager.id)}


def test_a_follow_up_given_to_another_owner_moves_after_its_last_occasion(world):
    firm = world["firm"]
    author, other = factories.make_user("manager"), factories.make_user("manager")
    _version("follow_up_due", date(2026, 1, 1), overdue=False)
    visit = Activity(
        firm_id=firm.id,
        kind="visit",
        occurred_on=date(2026, 6, 1),
        follow_up="送达申报指南",
        follow_up_due_on=date(2026, 6, 10),
        created_by_id=author.id,
    )
    db.session.add(visit)
    db.session.flush()
    run(date(2026, 6, 10))
    visit.follow_up_owner_id = other.id
    assert run(date(2026, 6, 12))["follow_up_due"] == 1
    assert _to_users("follow_up_due") == {("d0", other.id)}
    assert _closed_as("follow_up_due", "unaddressed") == {("d0", author.id)}


def test_a_head_who_left_or_changed_role_is_no_longer_reminded(world):
    heads = [factories.make_user("bureau_head") for _ in range(3)]
    batch = factories.make_batch(2026)
    db.session.add(
        CertificationApplication(
            firm_id=world["firm"].id,
            batch_id=batch.id,
            submitted_on=date(2026, 6, 1),
            status="review",
        )
    )
    db.session.flush()
    run(date(2026, 11, 22))
    heads[0].is_active = False
    heads[1].role = "manager"
    run(date(2026, 11, 23))
    assert _to_users("results_pending") == {("d1", world["manager"].id), ("d1", heads[2].id)}
    assert _closed_as("results_pending", "unaddressed") == {
        ("d1", heads[0].id),
        ("d1", heads[1].id),
    }


def test_a_user_still_addressed_by_another_recipient_keeps_the_reminder(world):
    firm = world["firm"]
    admin = factories.make_user("admin")
    firm.manager_id = admin.id  # an administrator who looks after the firm themselves
    _version("annual_report", date(2026, 1, 1), recipients=("manager", "admins"))
    _duty(firm, "annual_report", date(2026, 5, 31))
    run(date(2026, 5, 1))
    assert _to_users("annual_report") == {("d30", admin.id)}
    firm.manager_id = world["manager"].id
    run(date(2026, 5, 2))
    # Still told as an administrator: the reminder stays; the new manager gets their own.
    assert _to_users("annual_report") == {("d30", admin.id), ("d30", world["manager"].id)}
    assert _closed_as("annual_report", "unaddressed") == set()


def test_a_manager_whose_firms_in_a_batch_went_to_another_loses_the_batch_reminder(world):
    firm, old = world["firm"], world["manager"]
    new, keeper = factories.make_user("manager"), factories.make_user("manager")
    _coaching(firm)
    _coaching(factories.make_firm(manager=keeper))
    factories.make_batch(2026)
    run(date(2026, 5, 21))
    assert _to_users("application_window") == {("open", old.id), ("open", keeper.id)}
    firm.manager_id = new.id
    run(date(2026, 5, 22))
    assert _to_users("application_window") == {("open", new.id), ("open", keeper.id)}
    assert _closed_as("application_window", "unaddressed") == {("open", old.id)}


# --- The command ---------------------------------------------------------------------------------


def test_the_command_prints_what_a_dry_run_would_create_and_saves_nothing(world, runner):
    _duty(world["firm"], "annual_report", date(2026, 5, 31))
    db.session.commit()
    result = runner.invoke(args=["crm", "remind", "--date", "2026-05-01", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "试运行" in result.output
    assert "高企年度发展情况报表：将新建 2 条" in result.output
    assert db.session.query(Reminder).count() == 0
    result = runner.invoke(args=["crm", "remind", "--date", "2026-05-01"])
    assert "高企年度发展情况报表：新建 2 条" in result.output
    assert db.session.query(Reminder).count() == 2
    result = runner.invoke(args=["crm", "remind", "--date", "2026-05-01"])
    assert "合计新建提醒 0 条" in result.output


def test_the_command_refuses_a_date_it_cannot_read(runner):
    result = runner.invoke(args=["crm", "remind", "--date", "2026-13-01"])
    assert result.exit_code != 0
    assert "不是日期" in result.output
