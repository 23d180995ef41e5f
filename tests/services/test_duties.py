"""The yearly reports of certified firms: who owes them, by when, and two missed years."""

from datetime import date, datetime

from sqlalchemy import select

from crm.certification import duties
from crm.certification.jobs import open_duties_daily
from crm.certification.models import Duty
from crm.core import clock
from crm.core.audit import AuditEntry
from crm.extensions import db
from tests import factories


def _owed(year: int) -> dict[tuple[int, str], date]:
    rows = db.session.scalars(select(Duty).filter_by(year=year))
    return {(duty.firm_id, duty.kind): duty.due_on for duty in rows}


def test_a_year_s_reports_are_owed_by_the_firms_certified_at_its_end_and_opened_once(app):
    december = factories.make_firm(name="十二月发证企业")
    expired = factories.make_firm(name="年中到期企业")
    cancelled = factories.make_firm(name="年中取消企业")
    new = factories.make_firm(name="年底新认定企业")
    factories.make_certificate(december, date(2023, 12, 8))
    factories.make_certificate(expired, date(2022, 3, 1))
    factories.make_certificate(
        cancelled, date(2024, 5, 1), status="cancelled", ended_on=date(2025, 6, 1)
    )
    factories.make_certificate(new, date(2025, 12, 20))

    assert duties.open_duties(2025, date(2025, 12, 31)) == 0
    assert duties.open_duties(2025, date(2026, 1, 2)) == 4
    assert _owed(2025) == {
        (december.id, "annual_report"): date(2026, 5, 31),
        (december.id, "torch"): date(2026, 3, 31),
        (new.id, "annual_report"): date(2026, 5, 31),
        (new.id, "torch"): date(2026, 3, 31),
    }
    assert duties.open_duties(2025, date(2026, 1, 3)) == 0


def test_the_daily_run_opens_the_year_just_ended(app):
    firm = factories.make_firm()
    factories.make_certificate(firm, date(2024, 4, 1))
    with clock.frozen(datetime(2026, 1, 1, 1, 0)):
        assert open_duties_daily() == 2
        assert open_duties_daily() == 0
    assert set(_owed(2025)) == {(firm.id, "annual_report"), (firm.id, "torch")}


def test_an_annual_report_is_due_until_31_may_and_overdue_on_1_june(app):
    firm = factories.make_firm()
    factories.make_certificate(firm, date(2024, 4, 1))
    duties.open_duties(2025, date(2026, 1, 2))
    report = db.session.scalar(select(Duty).filter_by(firm_id=firm.id, kind="annual_report"))
    assert report.status(date(2026, 5, 31)) == "due"
    assert report.status(date(2026, 6, 1)) == "overdue"
    assert report.status_label(date(2026, 6, 1)) == "逾期未报"
    filters = duties.DutyFilters(2025, status="overdue")
    admin = factories.make_user("admin")
    assert duties.duty_page(admin, filters, date(2026, 6, 1), 1, 50).items == [report]
    assert duties.duty_page(admin, filters, date(2026, 5, 31), 1, 50).items == []

    duties.mark_filed([report], date(2026, 6, 3), admin)
    assert report.status(date(2026, 6, 5)) == "late"
    entry = db.session.scalar(
        select(AuditEntry).filter_by(entity="certification_duties", field="filed_on")
    )
    assert (entry.entity_id, entry.new_value) == (report.id, "2026-06-03")


def test_a_deadline_set_for_a_year_moves_the_open_reports_and_the_ones_to_open(app):
    first, later = factories.make_firm(), factories.make_firm()
    factories.make_certificate(first, date(2024, 4, 1))
    duties.open_duties(2025, date(2026, 1, 2))
    assert duties.set_deadline("torch", 2025, date(2026, 4, 15)) == 1
    factories.make_certificate(later, date(2025, 2, 1))
    duties.open_duties(2025, date(2026, 2, 1))
    owed = _owed(2025)
    assert owed[(first.id, "torch")] == owed[(later.id, "torch")] == date(2026, 4, 15)
    assert owed[(later.id, "annual_report")] == date(2026, 5, 31)


def test_two_missed_annual_reports_under_the_current_certificate_put_a_firm_at_risk(app):
    risky = factories.make_firm(name="两年未报企业")
    renewed = factories.make_firm(name="重新认定企业")
    factories.make_certificate(risky, date(2023, 3, 1))
    factories.make_certificate(renewed, date(2020, 3, 1))
    factories.make_certificate(renewed, date(2023, 2, 1))
    for year in (2021, 2022, 2023, 2024):
        duties.open_duties(year, date(year + 1, 1, 2))
    admin = factories.make_user("admin")
    # The renewed firm missed 2021 and 2022 under its old certificate, and filed since.
    for report in db.session.scalars(
        select(Duty).filter_by(firm_id=renewed.id).where(Duty.year >= 2023)
    ):
        duties.mark_filed([report], date(report.year + 1, 4, 1), admin)
    today = date(2025, 6, 15)
    assert duties.missed_years(risky.id, today) == [2023, 2024]
    assert duties.missed_years(renewed.id, today) == []
    [row] = duties.missing_reports_page(admin, today, 1, 50).items
    assert (row.firm, row.missed, row.years, row.at_risk) == (risky, 2, [2023, 2024], True)
    # A manager sees only the firms of their districts.
    other = factories.make_user("manager", districts=[factories.district("450405")])
    assert duties.missing_reports_page(other, today, 1, 50).items == []


def test_the_firms_that_missed_reports_come_most_missed_first_then_by_name_in_pages(app):
    # Certified in December 2023, each firm owes the annual reports of 2023 to 2025; it filed
    # the first `filed` of them on time and missed the rest.
    filed_by_name = {"企业D": 0, "企业B": 1, "企业A": 1, "企业C": 2, "企业E": 3}
    firms = {}
    for name in filed_by_name:
        firms[name] = factories.make_firm(name=name)
        factories.make_certificate(firms[name], date(2023, 12, 8))
    for year in (2023, 2024, 2025):
        duties.open_duties(year, date(year + 1, 1, 2))
    admin = factories.make_user("admin")
    for name, filed in filed_by_name.items():
        for report in db.session.scalars(
            select(Duty).filter_by(firm_id=firms[name].id, kind=duties.ANNUAL).order_by(Duty.year)
        ).all()[:filed]:
            duties.mark_filed([report], date(report.year + 1, 4, 1), admin)
    today = date(2026, 6, 15)

    pages = [duties.missing_reports_page(admin, today, number, 2) for number in (1, 2)]
    rows = [row for page in pages for row in page.items]
    assert [(row.firm.name, row.missed, row.at_risk) for row in rows] == [
        ("企业D", 3, True),
        ("企业A", 2, True),
        ("企业B", 2, True),
        ("企业C", 1, False),
    ]
    assert rows[0].years == [2023, 2024, 2025] and rows[3].years == [2025]
    assert [(page.has_prev, page.has_next) for page in pages] == [(False, True), (True, False)]
    assert duties.missing_reports_page(admin, today, 3, 2).items == []
