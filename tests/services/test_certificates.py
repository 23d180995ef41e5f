"""The certificate record against a real database: recorded, replaced, re-recorded, ended."""

from datetime import date

from sqlalchemy import func, select

from crm.certification.certificates import end_current_certificate, record_certificate
from crm.certification.queries import current_certificate
from crm.extensions import db
from crm.firms.models import Certificate
from tests import factories


def test_a_certificate_runs_three_years_less_a_day_and_warns_of_an_odd_number(app):
    firm = factories.make_firm()
    certificate, warnings = record_certificate(firm.id, date(2024, 2, 29), "GR2024-1", "import")
    assert (certificate.issued_on, certificate.expires_on) == (date(2024, 2, 29), date(2027, 2, 28))
    assert (certificate.status, certificate.source, certificate.kind) == ("valid", "import", "hte")
    assert warnings == ["证书编号“GR2024-1”不符合常见格式（GR + 年份 + 45 + 6 位数字），请核对"]
    assert record_certificate(firm.id, date(2024, 2, 29), "GR202445000123", "import")[1] == []


def test_a_re_certification_replaces_the_old_certificate_on_its_issue_date(app):
    firm = factories.make_firm()
    old, _ = record_certificate(firm.id, date(2023, 12, 8), "GR202345000001", "batch")
    new, _ = record_certificate(firm.id, date(2026, 11, 20), "GR202645000002", "batch")
    assert (old.status, old.ended_on) == ("replaced", date(2026, 11, 20))
    assert old.is_valid_on(date(2026, 11, 19)) and not old.is_valid_on(date(2026, 11, 20))
    assert new.is_valid_on(date(2026, 11, 20))
    assert current_certificate(firm.id) is new


def test_a_re_certification_after_the_expiry_replaces_without_cutting_the_old_one_short(app):
    firm = factories.make_firm()
    old, _ = record_certificate(firm.id, date(2023, 12, 8), "GR202345000001", "batch")
    record_certificate(firm.id, date(2026, 12, 8), "GR202645000002", "batch")
    assert (old.status, old.ended_on) == ("replaced", None)
    assert old.is_valid_on(date(2026, 12, 7))


def test_recording_the_same_list_twice_changes_nothing(app):
    firm = factories.make_firm()
    first, _ = record_certificate(firm.id, date(2024, 12, 8), "GR202445000001", "batch")
    again, _ = record_certificate(
        firm.id, date(2024, 12, 8), "GR202445000001", "import", document="2024年名单.xlsx"
    )
    assert again is first
    assert (again.source, again.status) == ("batch", "valid")
    count = db.session.scalar(select(func.count(Certificate.id)))
    assert count == 1


def test_a_certificate_known_by_its_year_takes_the_real_date_from_a_list(app):
    firm = factories.make_firm()
    estimated = Certificate(
        firm_id=firm.id,
        issued_on=date(2024, 1, 1),
        issued_on_estimated=True,
        expires_on=date(2026, 12, 31),
        source="migrated",
        status="valid",
    )
    db.session.add(estimated)
    db.session.flush()
    dated, _ = record_certificate(firm.id, date(2024, 12, 8), "GR202445000001", "import")
    assert dated is estimated
    assert (dated.issued_on, dated.expires_on, dated.issued_on_estimated, dated.source) == (
        date(2024, 12, 8),
        date(2027, 12, 7),
        False,
        "import",
    )


def test_a_cancellation_ends_the_current_certificate_on_its_day(app):
    firm = factories.make_firm()
    record_certificate(firm.id, date(2024, 12, 8), "GR202445000001", "batch")
    ended = end_current_certificate(
        firm.id, "cancelled", date(2025, 9, 1), reason="连续两年未填报", ground="missed_reports"
    )
    assert (ended.status, ended.ended_on, ended.cancel_ground) == (
        "cancelled",
        date(2025, 9, 1),
        "missed_reports",
    )
    assert ended.is_valid_on(date(2025, 8, 31)) and not ended.is_valid_on(date(2025, 9, 1))
    assert current_certificate(firm.id) is None
    assert end_current_certificate(firm.id, "lapsed", date(2027, 12, 8)) is None


def test_a_lapse_keeps_the_certificate_valid_to_its_expiry(app):
    firm = factories.make_firm()
    record_certificate(firm.id, date(2023, 12, 8), "GR202345000001", "batch")
    lapsed = end_current_certificate(firm.id, "lapsed", date(2026, 12, 8))
    assert (lapsed.status, lapsed.ended_on) == ("lapsed", None)
    assert lapsed.is_valid_on(date(2026, 12, 7)) and not lapsed.is_valid_on(date(2026, 12, 8))
