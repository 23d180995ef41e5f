"""Renames and the three-month change-report duty of a certified firm, on a real database."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.certification import changes, queries
from crm.certification.certificates import end_current_certificate, record_certificate
from crm.certification.models import CertificationApplication, ChangeReport
from crm.core import clock
from crm.extensions import db
from crm.firms import services as firm_services
from crm.firms.models import Certificate, FirmFormerName
from crm.firms.rules import certificate_expiry
from tests import factories

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(datetime(2026, 11, 22, 2, 0)):
        yield


def certificate(firm, issued: date, status: str = "certified", **values):
    """Record an application that earned a certificate issued on `issued`, and the certificate
    as certification records it (a cancelled one ends on the application's `result_on`)."""
    batch = queries.batch_named(issued.year, "第一批") or factories.make_batch(issued.year)
    application = CertificationApplication(
        firm_id=firm.id,
        batch_id=batch.id,
        submitted_on=date(issued.year, 6, 20),
        status=status,
        issued_on=issued,
        expires_on=certificate_expiry(issued),
        certificate_number=f"GR{issued.year}45000123",
        **values,
    )
    db.session.add(application)
    db.session.flush()
    record_certificate(
        firm.id, issued, application.certificate_number, "batch", application_id=application.id
    )
    if status in ("lapsed", "cancelled"):
        end_current_certificate(firm.id, status, values.get("result_on") or TODAY)
    return application


def test_renaming_a_certified_firm_keeps_the_old_name_and_opens_a_report(app):
    firm = factories.make_firm(name="梧州旧名科技有限公司")
    certificate(firm, date(2024, 12, 9))
    report = changes.rename_firm(firm, " 梧州新名科技有限公司 ", date(2026, 11, 20), TODAY)
    db.session.commit()
    assert firm.name == "梧州新名科技有限公司"
    [former] = db.session.scalars(select(FirmFormerName)).all()
    assert (former.name, former.changed_on) == ("梧州旧名科技有限公司", date(2026, 11, 20))
    assert (report.kind, report.changed_on, report.due_on) == (
        "name",
        date(2026, 11, 20),
        date(2027, 2, 20),
    )
    assert report.description == "梧州旧名科技有限公司 → 梧州新名科技有限公司"
    assert report.reported_on is None


def test_renaming_a_certified_firm_on_its_own_form_opens_a_report_too(app):
    firm = factories.make_firm(name="梧州表单旧名有限公司")
    certificate(firm, date(2024, 12, 9))
    firm_services.update_firm(firm, {"name": "梧州表单新名有限公司"})
    db.session.commit()
    [report] = db.session.scalars(select(ChangeReport)).all()
    assert (report.kind, report.changed_on, report.due_on) == ("name", TODAY, date(2027, 2, 22))
    assert report.description == "梧州表单旧名有限公司 → 梧州表单新名有限公司"


def test_the_report_deadline_clamps_to_the_month_end(app):
    firm = factories.make_firm()
    certificate(firm, date(2024, 12, 9))
    report = changes.rename_firm(firm, "新名称有限公司", date(2026, 8, 31), TODAY)
    assert report.due_on == date(2026, 11, 30)


def test_renaming_a_firm_without_a_valid_certificate_opens_no_report(app):
    firm = factories.make_firm(name="未认定企业有限公司")
    certificate(firm, date(2022, 12, 8), status="lapsed")
    assert changes.rename_firm(firm, "改名企业有限公司", date(2026, 3, 1), TODAY) is None
    assert firm.name == "改名企业有限公司"
    assert db.session.scalar(select(ChangeReport)) is None


def test_a_cancelled_certificate_stops_counting_from_the_cancellation(app):
    firm = factories.make_firm()
    certificate(firm, date(2024, 12, 9), status="cancelled", result_on=date(2026, 3, 1))
    assert changes.holds_certificate_on(firm.id, date(2026, 2, 28))
    assert not changes.holds_certificate_on(firm.id, date(2026, 3, 1))


def test_a_certificate_known_only_by_its_year_counts_until_a_dated_record_corrects_it(app):
    firm = factories.make_firm()
    db.session.add(
        Certificate(
            firm_id=firm.id,
            number="GR202445000001",
            issued_on=date(2024, 1, 1),
            issued_on_estimated=True,
            expires_on=date(2026, 12, 31),
            source="migrated",
            status="valid",
        )
    )
    db.session.flush()
    assert changes.holds_certificate_on(firm.id, date(2026, 6, 1))
    assert not changes.holds_certificate_on(firm.id, date(2027, 6, 1))
    # Once the certificate is recorded with its date, the date decides.
    certificate(firm, date(2024, 12, 9))
    assert not changes.holds_certificate_on(firm.id, date(2024, 6, 1))


@pytest.mark.parametrize(
    ("name", "changed_on", "field", "message"),
    [
        ("", date(2026, 11, 1), "name", "请填写新名称"),
        ("现名称有限公司", date(2026, 11, 1), "name", "新名称与现名称相同"),
        ("新名称有限公司", date(2026, 11, 23), "changed_on", "变更日期不能晚于今天"),
    ],
)
def test_a_rename_is_refused_when(app, name, changed_on, field, message):
    firm = factories.make_firm(name="现名称有限公司")
    with pytest.raises(changes.ChangeError) as refused:
        changes.rename_firm(firm, name, changed_on, TODAY)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert firm.name == "现名称有限公司"


def test_a_merger_of_a_certified_firm_is_recorded_and_then_reported(app):
    firm = factories.make_firm()
    certificate(firm, date(2024, 12, 9))
    report = changes.record_change(firm, "merger", date(2026, 7, 1), "吸收合并梧州某公司", TODAY)
    assert (report.kind_label, report.due_on) == ("合并/分立", date(2026, 10, 1))
    with pytest.raises(changes.ChangeError, match="报告日期不能早于变更日期"):
        changes.mark_reported(report, date(2026, 6, 30), "", TODAY)
    with pytest.raises(changes.ChangeError, match="报告日期不能晚于今天"):
        changes.mark_reported(report, date(2026, 11, 23), "", TODAY)
    changes.mark_reported(report, date(2026, 9, 1), " 桂科高字〔2026〕8号 ", TODAY)
    db.session.commit()
    assert (report.reported_on, report.document_number) == (date(2026, 9, 1), "桂科高字〔2026〕8号")


def test_a_change_of_an_uncertified_firm_is_refused(app):
    firm = factories.make_firm()
    with pytest.raises(changes.ChangeError) as refused:
        changes.record_change(firm, "business", date(2026, 7, 1), "经营范围调整", TODAY)
    assert refused.value.field == "changed_on"
    with pytest.raises(changes.ChangeError, match="名称变更请使用"):
        changes.record_change(firm, "name", date(2026, 7, 1), "改名", TODAY)
