"""Certification pages: batches, the bulk result form and the cohort, by role and by firm."""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.certification.models import CertificationApplication, CertificationBatch
from crm.core import clock
from crm.extensions import db
from crm.pipeline.models import Enrollment
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


def certified_and_reapplied(firm, batches) -> Enrollment:
    """Certify the firm on 2023-12-08 and let it re-apply in the 2026 batch."""
    with at(date(2023, 6, 20)):
        inputs = MoveInputs(entry_reason=4, moved_on=date(2023, 6, 1))
        enrollment = enroll_firm(firm, "hte", "reserve", inputs, None).enrollment
        move_firm(enrollment, "applied", MoveInputs(batch_id=batches[2023].id), None)
    with at(date(2023, 12, 8)):
        move_firm(enrollment, "review", MoveInputs(moved_on=date(2023, 11, 10)), None)
        certificate = MoveInputs(
            certificate_number=f"GR2023450{firm.id:05d}", certificate_issued_on=date(2023, 12, 8)
        )
        move_firm(enrollment, "certified", certificate, None)
    with at(date(2026, 6, 20)):
        move_firm(enrollment, "applied", MoveInputs(batch_id=batches[2026].id), None)
    return enrollment


@pytest.fixture
def world(app):
    """A certified firm in the manager's district and one elsewhere, both re-applying in 2026."""
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home, name="本区认定企业有限公司")
    other = factories.make_firm(district=away, name="外区认定企业有限公司")
    for firm in (own, other):
        for year in range(2020, 2026):
            factories.make_year(firm, year)
    batches = {year: factories.make_batch(year) for year in (2023, 2026)}
    db.session.commit()
    enrollments = {
        key: certified_and_reapplied(f, batches) for key, f in (("own", own), ("other", other))
    }
    db.session.commit()
    apps = {
        key: db.session.scalar(
            select(CertificationApplication.id).filter_by(
                firm_id=firm.id, batch_id=batches[2026].id
            )
        )
        for key, firm in (("own", own), ("other", other))
    }
    return {
        "home": home,
        "away": away,
        "own": own,
        "other": other,
        "batches": batches,
        "enrollments": {k: e.id for k, e in enrollments.items()},
        "apps": apps,
    }


def user_for(role, world):
    if role == "manager":
        return factories.make_user("manager", districts=[world["home"]])
    if role == "enterprise":
        return factories.make_user("enterprise", firm_id=world["own"].id)
    return factories.make_user(role)


def html_of(response) -> str:
    return response.get_data(as_text=True)


def batch_form(**changes):
    data = {
        "year": "2027",
        "name": "第一批",
        "opens_on": "2027-05-21",
        "closes_on": "2027-09-05",
        "notice_from": "2027-11-10",
        "notice_to": "2027-11-21",
    }
    data.update(changes)
    return data


def application(app_id) -> CertificationApplication:
    db.session.expire_all()
    return db.session.get(CertificationApplication, app_id)


# --- Batches -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "can_create"),
    [
        ("admin", 200, True),
        ("bureau_head", 200, False),
        ("manager", 200, False),
        ("enterprise", 404, False),  # the bureau's pages are not there for a firm's users
    ],
)
def test_the_batch_list_by_role(client, login_as, world, role, status, can_create):
    login_as(user=user_for(role, world))
    response = client.get("/certification/")
    assert response.status_code == status
    if status == 200:
        html = html_of(response)
        assert "2026 年第一批" in html and "2023 年第一批" in html
        assert ("新建批次" in html) is can_create
        assert "已截止" in html


def test_the_batch_list_counts_only_visible_applications(client, login_as, world):
    login_as(user=user_for("manager", world))
    html = html_of(client.get("/certification/"))
    row = re.search(r"2026 年第一批.*?</tr>", html, re.S).group(0)
    assert '<td class="num">1</td>' in row


def test_anonymous_users_are_sent_to_login(client, world):
    response = client.get("/certification/cohort")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_admin_creates_a_batch(client, login_as, world):
    login_as("admin")
    assert client.get("/certification/batches/new").status_code == 200
    response = client.post("/certification/batches/new", data=batch_form())
    batch = db.session.scalar(select(CertificationBatch).filter_by(year=2027))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/certification/batches/{batch.id}")
    assert (batch.opens_on, batch.closes_on, batch.notice_to) == (
        date(2027, 5, 21),
        date(2027, 9, 5),
        date(2027, 11, 21),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"closes_on": "2027-05-01"}, "申报截止日期不能早于申报开始日期"),
        ({"notice_to": "2027-11-01"}, "公示结束日期不能早于公示开始日期"),
        ({"year": "2026"}, "年度应与申报开始日期的年份（2027）一致"),
        (
            {
                "year": "2026",
                "opens_on": "2026-05-21",
                "closes_on": "2026-09-05",
                "notice_from": "",
                "notice_to": "",
            },
            "2026 年已有名为“第一批”的批次",
        ),
        ({"year": ""}, "请填写年度"),
        ({"name": " "}, "请填写批次名称"),
        ({"opens_on": "21/05/2027"}, "申报开始"),
    ],
)
def test_batch_validation_messages(client, login_as, world, changes, message):
    login_as("admin")
    response = client.post("/certification/batches/new", data=batch_form(**changes))
    assert response.status_code == 200
    assert message in html_of(response)
    assert db.session.scalar(select(CertificationBatch).filter_by(year=2027)) is None


@pytest.mark.parametrize("role", ["bureau_head", "manager", "enterprise"])
def test_only_admins_create_or_edit_batches(client, login_as, world, role):
    login_as(user=user_for(role, world))
    batch_id = world["batches"][2026].id
    refused = 404 if role == "enterprise" else 403  # an enterprise user sees no bureau page
    assert client.get("/certification/batches/new").status_code == refused
    assert client.post("/certification/batches/new", data=batch_form()).status_code == refused
    assert client.get(f"/certification/batches/{batch_id}/edit").status_code == refused
    edited = batch_form(year="2026", opens_on="2026-05-21", closes_on="2026-09-05", name="改名")
    assert (
        client.post(f"/certification/batches/{batch_id}/edit", data=edited).status_code == refused
    )
    assert db.session.get(CertificationBatch, batch_id).name == "第一批"


def test_an_admin_edits_a_batch(client, login_as, world):
    login_as("admin")
    batch_id = world["batches"][2026].id
    page = client.get(f"/certification/batches/{batch_id}/edit")
    assert 'value="2026-05-21"' in html_of(page)
    data = batch_form(
        year="2026",
        opens_on="2026-05-21",
        closes_on="2026-09-05",
        notice_from="",
        notice_to="",
        filed_on="2026-12-08",
        notes="备案名单待发布",
    )
    assert client.post(f"/certification/batches/{batch_id}/edit", data=data).status_code == 302
    db.session.expire_all()
    batch = db.session.get(CertificationBatch, batch_id)
    assert (batch.filed_on, batch.notes) == (date(2026, 12, 8), "备案名单待发布")
    assert client.get(f"/certification/batches/{factories.MISSING_ID}/edit").status_code == 404


# --- A batch's page and its result form ---------------------------------------------------------


def test_a_manager_sees_and_records_only_the_firms_in_reach(client, login_as, world):
    login_as(user=user_for("manager", world))
    html = html_of(client.get(f"/certification/batches/{world['batches'][2026].id}"))
    assert "本区认定企业有限公司" in html
    assert "外区认定企业有限公司" not in html
    assert "录入评审结果" in html
    assert f'name="app-{world["apps"]["own"]}-result"' in html
    assert f'name="app-{world["apps"]["other"]}-result"' not in html
    assert "已申报 1" in html and "重新认定" in html


def test_a_bureau_head_sees_every_application_but_no_result_form(client, login_as, world):
    login_as("bureau_head")
    html = html_of(client.get(f"/certification/batches/{world['batches'][2026].id}"))
    assert "本区认定企业有限公司" in html and "外区认定企业有限公司" in html
    assert "已申报 2" in html
    assert "录入评审结果" not in html


@pytest.mark.parametrize(("role", "status"), [("enterprise", 404)])
def test_enterprise_users_cannot_open_a_batch(client, login_as, world, role, status):
    login_as(user=user_for(role, world))
    assert client.get(f"/certification/batches/{world['batches'][2026].id}").status_code == status
    assert client.get(f"/certification/batches/{factories.MISSING_ID}").status_code == status


def test_a_missing_batch_is_404(client, login_as, world):
    login_as("bureau_head")
    assert client.get(f"/certification/batches/{factories.MISSING_ID}").status_code == 404


def results(client, world, lines, **top):
    data = {"result_on": "2026-11-21", **top}
    for key, fields in lines.items():
        for name, value in fields.items():
            data[f"app-{world['apps'][key]}-{name}"] = value
    return client.post(f"/certification/batches/{world['batches'][2026].id}/results", data=data)


def test_recording_results_reports_each_firm(client, login_as, world):
    login_as(user=user_for("manager", world))
    response = results(
        client,
        world,
        {
            "own": {"result": "certified", "certificate_number": "GR2026-1"},
            # Another district's application: not the manager's to record, ignored.
            "other": {"result": "not_certified", "reason": "未达标"},
        },
        issued_on="2026-11-20",
    )
    assert response.status_code == 200
    html = html_of(response)
    assert "已记录 1 家企业的结果，0 家未能记录。" in html
    assert "本区认定企业有限公司：已认定" in html
    assert "证书编号“GR2026-1”不符合常见格式" in html
    own = application(world["apps"]["own"])
    assert (own.status, own.issued_on, own.expires_on) == (
        "certified",
        date(2026, 11, 20),
        date(2029, 11, 19),
    )
    assert application(world["apps"]["other"]).status == "submitted"


def test_a_refused_result_is_listed_with_its_reason_and_stays_in_the_form(client, login_as, world):
    login_as("admin")
    response = results(
        client,
        world,
        {
            "own": {"result": "certified", "certificate_number": "GR202645000001"},
            "other": {"result": "not_certified"},
        },
        issued_on="2026-11-20",
    )
    html = html_of(response)
    assert "已记录 1 家企业的结果，1 家未能记录。" in html
    assert "外区认定企业有限公司：转入「未通过」需填写原因" in html
    assert f'name="app-{world["apps"]["own"]}-result"' not in html
    assert f'name="app-{world["apps"]["other"]}-result"' in html
    assert application(world["apps"]["other"]).status == "submitted"


def test_result_form_validation_records_nothing(client, login_as, world):
    login_as("admin")
    response = results(
        client,
        world,
        {
            "own": {"result": "certified", "issued_on": "2026-13-01"},
            "other": {"result": "not_certified", "reason": "未达标"},
        },
    )
    assert response.status_code == 200
    assert "不是有效的日期值" in html_of(response)
    assert application(world["apps"]["other"]).status == "submitted"
    response = results(client, world, {"own": {"result": "review"}}, result_on="")
    assert "请填写结果日期" in html_of(response)
    response = results(client, world, {"own": {"result": "review"}}, result_on="2026-11-23")
    assert "结果日期不能晚于今天" in html_of(response)
    assert application(world["apps"]["own"]).status == "submitted"


def test_an_empty_result_form_changes_nothing(client, login_as, world):
    login_as("admin")
    response = results(client, world, {"own": {"result": ""}})
    assert response.status_code == 302
    client.get(response.headers["Location"])
    assert application(world["apps"]["own"]).status == "submitted"


@pytest.mark.parametrize("role", ["bureau_head", "enterprise"])
def test_read_only_roles_cannot_record_results(client, login_as, world, role):
    login_as(user=user_for(role, world))
    response = results(client, world, {"own": {"result": "review"}})
    assert response.status_code == (404 if role == "enterprise" else 403)
    assert application(world["apps"]["own"]).status == "submitted"


def test_recording_results_needs_the_csrf_token(app, database_url, world):
    admin = factories.make_user("admin")
    db.session.commit()
    # Read what the guarded app needs first: an expired row refreshed inside its context would
    # borrow a connection of the guarded engine for the outer session.
    username = admin.username
    db.session.refresh(world["batches"][2026])
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        token = re.search(TOKEN, html_of(client.get("/login"))).group(1)
        data = {"username": username, "password": factories.PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
        assert results(client, world, {"own": {"result": "review"}}).status_code == 400
        assert application(world["apps"]["own"]).status == "submitted"
        page = html_of(client.get(f"/certification/batches/{world['batches'][2026].id}"))
        token = re.search(TOKEN, page).group(1)
        response = results(client, world, {"own": {"result": "review"}}, csrf_token=token)
        assert response.status_code == 200
        assert application(world["apps"]["own"]).status == "review"
        db.session.remove()
        db.engine.dispose()


# --- The re-certification cohort ---------------------------------------------------------------


def test_the_cohort_lists_the_years_certificates_a_manager_may_see(client, login_as, world):
    login_as(user=user_for("manager", world))
    html = html_of(client.get("/certification/cohort"))
    assert "2023 年认定、2026 年到期（1 家）" in html
    assert "本区认定企业有限公司" in html and "外区认定企业有限公司" not in html
    assert "2026-12-07" in html and "剩 15 天" in html
    assert "已申报" in html and "2026 年第一批 · 已申报" in html


def test_the_cohort_filters_by_year_district_and_manager(client, login_as, world):
    manager = factories.make_user("manager")
    world["other"].manager = manager
    db.session.commit()
    login_as("bureau_head")
    html = html_of(client.get("/certification/cohort"))
    assert "2023 年认定、2026 年到期（2 家）" in html
    html = html_of(client.get(f"/certification/cohort?district={world['away'].id}"))
    assert "外区认定企业有限公司" in html and "本区认定企业有限公司" not in html
    html = html_of(client.get(f"/certification/cohort?manager={manager.id}"))
    assert "外区认定企业有限公司" in html and "本区认定企业有限公司" not in html
    html = html_of(client.get("/certification/cohort?year=2027"))
    assert "没有 2027 年到期、您可查看的高企证书。" in html


def test_the_cohort_comes_in_pages(app, client, login_as, world):
    app.config["COHORT_PER_PAGE"] = 1
    login_as("bureau_head")
    first = html_of(client.get("/certification/cohort"))
    second = html_of(client.get("/certification/cohort?page=2"))
    shown = [
        [name in html for name in ("本区认定企业有限公司", "外区认定企业有限公司")]
        for html in (first, second)
    ]
    assert sorted(shown) == [[False, True], [True, False]]
    assert "2023 年认定、2026 年到期（本页 1 家）" in first and "下一页" in first
    assert "第 2 页" in second and "上一页" in second


def test_enterprise_users_cannot_open_the_cohort(client, login_as, world):
    login_as(user=user_for("enterprise", world))
    assert client.get("/certification/cohort").status_code == 404


def test_the_nav_links_the_batches_and_the_cohort_for_staff_only(client, login_as, world):
    login_as(user=user_for("manager", world))
    html = html_of(client.get("/certification/cohort"))
    assert 'href="/certification/"' in html and 'href="/certification/cohort"' in html
    client.post("/logout")
    login_as(user=user_for("enterprise", world))
    response = client.get("/portal/profile")  # an enterprise user's pages: the portal's
    assert response.status_code == 200
    html = html_of(response)
    assert 'href="/certification/cohort"' not in html and 'href="/certification/"' not in html
