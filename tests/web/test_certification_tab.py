"""The firm's 高企认定 tab: certificate, applications, renames and change reports, by role."""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.certification.models import ChangeReport
from crm.core import clock
from crm.extensions import db
from crm.firms.models import Firm
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from tests import factories
from tests.conftest import make_app

NOW = datetime(2026, 11, 22, 2, 0)
TOKEN = r'name="[\w-]*csrf_token" type="hidden" value="([^"]+)"'


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


def at(day: date):
    return clock.frozen(datetime(day.year, day.month, day.day, 2, 0))


def certify(firm, batch, issued: date) -> None:
    """Take the firm through the 2023 batch to a certificate issued on `issued`."""
    with at(date(2023, 6, 20)):
        inputs = MoveInputs(entry_reason=4, moved_on=date(2023, 6, 1))
        enrollment = enroll_firm(firm, "hte", "reserve", inputs, None).enrollment
        move_firm(enrollment, "applied", MoveInputs(batch_id=batch.id), None)
    with at(issued):
        move_firm(enrollment, "review", MoveInputs(moved_on=date(2023, 11, 10)), None)
        number = f"GR20234500{firm.id:04d}"
        inputs = MoveInputs(certificate_number=number, certificate_issued_on=issued)
        move_firm(enrollment, "certified", inputs, None)


@pytest.fixture
def world(app):
    """Two certified firms, one in the manager's district, one elsewhere; an overdue report."""
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home, name="梧州本区高企有限公司")
    other = factories.make_firm(district=away, name="梧州外区高企有限公司")
    for firm in (own, other):
        for year in range(2020, 2023):
            factories.make_year(firm, year)
    batch = factories.make_batch(2023)
    db.session.commit()
    for firm in (own, other):
        certify(firm, batch, date(2023, 12, 8))
    reports = {}
    for key, firm in (("own", own), ("other", other)):
        report = ChangeReport(
            firm_id=firm.id,
            kind="business",
            changed_on=date(2026, 5, 1),
            description="新增经营范围",
            due_on=date(2026, 8, 1),
        )
        db.session.add(report)
        db.session.flush()
        reports[key] = report.id
    db.session.commit()
    return {"home": home, "own": own, "other": other, "reports": reports}


def user_for(role, world):
    if role == "manager":
        return factories.make_user("manager", districts=[world["home"]])
    if role == "enterprise":
        return factories.make_user("enterprise", firm_id=world["own"].id)
    return factories.make_user(role)


def tab(client, firm):
    return client.get(f"/firms/{firm.id}?tab=certification")


def html_of(response) -> str:
    return response.get_data(as_text=True)


def rename(client, firm, **fields):
    data = {f"rename-{k}": v for k, v in fields.items()}
    return client.post(f"/certification/firms/{firm.id}/rename", data=data)


def report_of(report_id) -> ChangeReport:
    db.session.expire_all()
    return db.session.get(ChangeReport, report_id)


# --- The tab -------------------------------------------------------------------------------------


def test_the_tab_shows_the_certificate_applications_and_reports(client, login_as, world):
    login_as(user=user_for("manager", world))
    response = tab(client, world["own"])
    assert response.status_code == 200
    html = html_of(response)
    assert f"GR20234500{world['own'].id:04d}" in html
    assert "2023-12-08" in html and "2026-12-07" in html
    assert "剩 15 天" in html
    assert "2023 年认定、2026 年到期" in html
    assert "2023 年第一批" in html and "已认定" in html and "首次认定" in html
    assert "新增经营范围" in html and "已逾期" in html
    assert "企业更名" in html and "登记其他重大变化" in html and "标记已报告" in html


def test_a_bureau_head_reads_the_tab_without_forms(client, login_as, world):
    login_as("bureau_head")
    html = html_of(tab(client, world["other"]))
    assert "2023 年认定、2026 年到期" in html
    assert "企业更名" not in html and "标记已报告" not in html
    assert "待报告" in html


def test_another_districts_firm_is_404_for_a_manager(client, login_as, world):
    login_as(user=user_for("manager", world))
    assert tab(client, world["other"]).status_code == 404


def test_an_enterprise_user_does_not_get_the_tab(client, login_as, world):
    login_as(user=user_for("enterprise", world))
    response = tab(client, world["own"])
    assert response.status_code == 404  # the bureau's firm page, its tabs included
    html = html_of(response)
    assert "高企认定" not in html
    assert "变更报告" not in html


def test_a_firm_without_a_certificate_says_so(client, login_as, world):
    bare = factories.make_firm()
    db.session.commit()
    login_as("admin")
    html = html_of(tab(client, bare))
    assert "该企业目前没有高新技术企业证书记录。" in html
    assert "暂无认定申报记录。" in html


# --- Rename --------------------------------------------------------------------------------------


def test_renaming_a_certified_firm_opens_a_report_and_keeps_the_old_name_searchable(
    client, login_as, world
):
    login_as(user=user_for("manager", world))
    response = rename(client, world["own"], name="梧州新名高企有限公司", changed_on="2026-11-30")
    assert "变更日期不能晚于今天" in html_of(response)
    response = rename(client, world["own"], name="梧州新名高企有限公司", changed_on="2026-11-20")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/firms/{world['own'].id}?tab=certification")
    db.session.expire_all()
    firm = db.session.get(Firm, world["own"].id)
    assert firm.name == "梧州新名高企有限公司"
    report = db.session.scalar(select(ChangeReport).filter_by(firm_id=firm.id, kind="name"))
    assert (report.due_on, report.description) == (
        date(2027, 2, 20),
        "梧州本区高企有限公司 → 梧州新名高企有限公司",
    )
    html = html_of(client.get(response.headers["Location"]))
    assert "须在 2027-02-20 前向认定机构报告名称变更" in html
    assert "名称变更" in html
    listing = html_of(client.get("/firms/", query_string={"q": "梧州本区高企"}))
    assert "梧州新名高企有限公司" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "", "changed_on": "2026-11-20"}, "请填写新名称"),
        ({"name": "梧州本区高企有限公司", "changed_on": "2026-11-20"}, "新名称与现名称相同"),
        ({"name": "新名称", "changed_on": ""}, "请填写变更日期"),
    ],
)
def test_rename_validation_messages(client, login_as, world, fields, message):
    login_as("admin")
    response = rename(client, world["own"], **fields)
    assert response.status_code == 200
    assert message in html_of(response)
    assert db.session.scalar(select(ChangeReport).filter_by(kind="name")) is None


# To an enterprise user the bureau's pages, its own firm's included, are not there.
@pytest.mark.parametrize(("role", "status"), [("bureau_head", 403), ("enterprise", 404)])
def test_read_only_roles_cannot_rename(client, login_as, world, role, status):
    login_as(user=user_for(role, world))
    response = rename(client, world["own"], name="越权改名有限公司", changed_on="2026-11-20")
    assert response.status_code == status
    db.session.expire_all()
    assert db.session.get(Firm, world["own"].id).name == "梧州本区高企有限公司"


def test_a_manager_cannot_rename_another_districts_firm(client, login_as, world):
    login_as(user=user_for("manager", world))
    response = rename(client, world["other"], name="越权改名有限公司", changed_on="2026-11-20")
    assert response.status_code == 404


def test_an_enterprise_user_cannot_reach_another_firm(client, login_as, world):
    login_as(user=user_for("enterprise", world))
    response = rename(client, world["other"], name="越权改名有限公司", changed_on="2026-11-20")
    assert response.status_code == 404
    data = {f"report-{world['reports']['other']}-reported_on": "2026-11-01"}
    assert (
        client.post(
            f"/certification/reports/{world['reports']['other']}/reported", data=data
        ).status_code
        == 404
    )


def test_renaming_needs_the_csrf_token(app, database_url, world):
    admin = factories.make_user("admin")
    db.session.commit()
    # Read what the guarded app needs first: an expired row refreshed inside its context would
    # borrow a connection of the guarded engine for the outer session.
    username = admin.username
    db.session.refresh(world["own"])
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        token = re.search(TOKEN, html_of(client.get("/login"))).group(1)
        data = {"username": username, "password": factories.PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
        fields = {"name": "令牌测试有限公司", "changed_on": "2026-11-20"}
        assert rename(client, world["own"], **fields).status_code == 400
        token = re.search(TOKEN, html_of(tab(client, world["own"]))).group(1)
        assert rename(client, world["own"], csrf_token=token, **fields).status_code == 302
        db.session.expire_all()
        assert db.session.get(Firm, world["own"].id).name == "令牌测试有限公司"
        db.session.remove()
        db.engine.dispose()


# --- Other changes and reports -------------------------------------------------------------------


def change(client, firm, **fields):
    data = {f"change-{k}": v for k, v in fields.items()}
    return client.post(f"/certification/firms/{firm.id}/changes", data=data)


def test_recording_a_merger(client, login_as, world):
    login_as(user=user_for("manager", world))
    response = change(
        client, world["own"], kind="merger", changed_on="2026-10-31", description="吸收合并"
    )
    assert response.status_code == 302
    report = db.session.scalar(select(ChangeReport).filter_by(kind="merger"))
    assert (report.firm_id, report.due_on) == (world["own"].id, date(2027, 1, 31))


def test_change_validation_messages(client, login_as, world):
    login_as("admin")
    response = change(client, world["own"], kind="merger", changed_on="2026-10-31", description="")
    assert "请填写变更内容" in html_of(response)
    bare = factories.make_firm()
    db.session.commit()
    response = change(client, bare, kind="business", changed_on="2026-10-31", description="调整")
    assert "企业在变更日期未持有有效的高新技术企业证书" in html_of(response)
    assert db.session.scalar(select(ChangeReport).filter_by(kind="merger")) is None


def test_recording_a_change_is_for_editors(client, login_as, world):
    login_as("bureau_head")
    fields = {"kind": "merger", "changed_on": "2026-10-31", "description": "吸收合并"}
    assert change(client, world["own"], **fields).status_code == 403


def mark(client, report_id, **fields):
    data = {f"report-{report_id}-{k}": v for k, v in fields.items()}
    return client.post(f"/certification/reports/{report_id}/reported", data=data)


def test_marking_a_report_as_made(client, login_as, world):
    login_as(user=user_for("manager", world))
    report_id = world["reports"]["own"]
    response = mark(client, report_id, reported_on="2026-04-30", document_number="")
    assert "报告日期不能早于变更日期" in html_of(response)
    assert report_of(report_id).reported_on is None
    response = mark(
        client, report_id, reported_on="2026-07-15", document_number="梧科函〔2026〕5号"
    )
    assert response.status_code == 302
    report = report_of(report_id)
    assert (report.reported_on, report.document_number) == (date(2026, 7, 15), "梧科函〔2026〕5号")
    html = html_of(client.get(response.headers["Location"]))
    assert "已报告" in html and "已逾期" not in html


def test_marking_reports_follows_the_firms_reach(client, login_as, world):
    login_as(user=user_for("manager", world))
    assert mark(client, world["reports"]["other"], reported_on="2026-07-15").status_code == 404
    assert mark(client, factories.MISSING_ID, reported_on="2026-07-15").status_code == 404
    client.post("/logout")
    login_as("bureau_head")
    assert mark(client, world["reports"]["own"], reported_on="2026-07-15").status_code == 403
    assert report_of(world["reports"]["own"]).reported_on is None


def test_an_administrator_records_a_certificate_from_a_document(client, login_as, world):
    login_as("admin")
    firm = factories.make_firm(name="梧州存量高企有限公司")
    db.session.commit()
    page = client.get(f"/firms/{firm.id}?tab=certification").get_data(as_text=True)
    assert "录入证书" in page and "没有高新技术企业证书记录" in page

    missing = client.post(
        f"/certification/firms/{firm.id}/certificates",
        data={"issued_on": "2024-12-08", "number": "GR202445000321"},
    )
    assert "请填写依据文件" in missing.get_data(as_text=True)
    response = client.post(
        f"/certification/firms/{firm.id}/certificates",
        data={"issued_on": "2024-12-08", "number": "GR2024", "document": "桂科高字〔2024〕9号"},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert "有效期至 2027-12-07" in body and "不符合常见格式" in body
    [certificate] = firm.certificates
    assert (certificate.source, certificate.document, certificate.number) == (
        "manual",
        "桂科高字〔2024〕9号",
        "GR2024",
    )


def test_only_an_administrator_records_a_certificate_by_hand(client, login_as, world):
    login_as("manager", districts=[factories.district("450403")])
    own = world["own"]
    page = client.get(f"/firms/{own.id}?tab=certification").get_data(as_text=True)
    assert "录入证书" not in page
    data = {"issued_on": "2024-12-08", "document": "文件"}
    assert client.post(f"/certification/firms/{own.id}/certificates", data=data).status_code == 403
