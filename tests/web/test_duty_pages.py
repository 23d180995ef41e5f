"""The yearly reports pages: the list by year, marking in bulk and from the firm tab, the
deadline, the firms at risk, each by role."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.certification import duties
from crm.certification.models import Duty
from crm.core import clock
from crm.extensions import db
from tests import factories

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def world(app):
    """Two firms certified in December 2023, one in the manager's district; their reports."""
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home, name="梧州本区年报企业")
    other = factories.make_firm(district=away, name="梧州外区年报企业")
    for firm in (own, other):
        factories.make_certificate(firm, date(2023, 12, 8))
    for year in (2023, 2024, 2025):
        duties.open_duties(year, date(year + 1, 1, 2))
    db.session.commit()
    return {"home": home, "own": own, "other": other}


def duty_of(firm, year=2025, kind="annual_report") -> Duty:
    db.session.expire_all()
    return db.session.scalar(select(Duty).filter_by(firm_id=firm.id, year=year, kind=kind))


def manager(world):
    return factories.make_user("manager", districts=[world["home"]])


def test_staff_see_the_year_s_reports_with_their_status_and_counts(client, login_as, world):
    login_as("bureau_head")
    response = client.get("/certification/duties?year=2025&kind=annual_report")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "梧州本区年报企业" in html and "梧州外区年报企业" in html
    assert "2026-05-31" in html and "逾期未报" in html
    assert 'data-count="overdue">2<' in html
    assert 'name="duty"' not in html  # a bureau head reads, without marking


def test_a_manager_sees_and_marks_only_the_firms_in_reach(client, login_as, world):
    login_as(user=manager(world))
    html = client.get("/certification/duties?year=2025").get_data(as_text=True)
    assert "梧州本区年报企业" in html and "梧州外区年报企业" not in html
    own, other = duty_of(world["own"]), duty_of(world["other"])
    form = {"year": "2025", "kind": "annual_report", "filed_on": "2026-05-20"}
    response = client.post("/certification/duties/filed", data={**form, "duty": [own.id]})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        "/certification/duties?year=2025&kind=annual_report"
    )
    assert duty_of(world["own"]).filed_on == date(2026, 5, 20)
    # With every report shown filed, the list offers nothing to tick or submit.
    html = client.get("/certification/duties?year=2025").get_data(as_text=True)
    assert "data-check-all" not in html and "将勾选的企业标记为已填报" not in html
    # A report of a firm out of reach refuses the whole marking.
    response = client.post("/certification/duties/filed", data={**form, "duty": [other.id]})
    assert response.status_code == 404
    assert duty_of(world["other"]).filed_on is None


def test_marking_refuses_a_future_date_and_an_empty_choice(client, login_as, world):
    login_as("admin")
    own = duty_of(world["own"])
    data = {"year": "2025", "filed_on": "2026-07-01", "duty": [own.id]}
    page = client.post("/certification/duties/filed", data=data, follow_redirects=True)
    assert "填报日期不能晚于今天" in page.get_data(as_text=True)
    assert duty_of(world["own"]).filed_on is None
    page = client.post(
        "/certification/duties/filed", data={"filed_on": "2026-06-01"}, follow_redirects=True
    )
    assert "请先勾选要标记为已填报的企业" in page.get_data(as_text=True)


def test_a_bureau_head_cannot_mark(client, login_as, world):
    own = duty_of(world["own"])
    login_as("bureau_head")
    data = {"filed_on": "2026-06-01", "duty": [own.id]}
    assert client.post("/certification/duties/filed", data=data).status_code == 403
    assert client.post(f"/certification/duties/{own.id}/filed", data={}).status_code == 403


def test_an_enterprise_user_neither_reads_nor_marks(client, login_as, world):
    own = duty_of(world["own"])
    login_as("enterprise", firm_id=world["own"].id)
    # The bureau's pages are not there for a firm's users, its own firm's report included.
    assert client.get("/certification/duties").status_code == 404
    assert client.post(f"/certification/duties/{own.id}/filed", data={}).status_code == 404
    data = {"filed_on": "2026-06-01", "duty": [own.id]}
    assert client.post("/certification/duties/filed", data=data).status_code == 404
    assert duty_of(world["own"]).filed_on is None


DEADLINE = {"year": "2025", "kind": "torch", "due_on": "2026-04-30"}


def test_a_manager_cannot_set_a_deadline(client, login_as, world):
    login_as(user=manager(world))
    assert client.post("/certification/duties/deadline", data=DEADLINE).status_code == 403


def test_an_administrator_sets_a_year_s_deadline(client, login_as, world):
    data = DEADLINE
    login_as("admin")
    assert client.post("/certification/duties/deadline", data=data).status_code == 302
    assert duty_of(world["other"], kind="torch").due_on == date(2026, 4, 30)
    assert duty_of(world["other"], kind="annual_report").due_on == date(2026, 5, 31)


def test_the_firm_tab_warns_of_missed_reports_and_marks_one(client, login_as, world):
    login_as(user=manager(world))
    firm = world["own"]
    html = client.get(f"/firms/{firm.id}?tab=certification").get_data(as_text=True)
    assert "2023、2024、2025 年度的年度发展情况报表未按时填报" in html
    assert "有被取消高企资格的风险" in html
    duty = duty_of(firm, 2024)
    response = client.post(
        f"/certification/duties/{duty.id}/filed", data={f"duty-{duty.id}-filed_on": "2025-05-30"}
    )
    assert response.status_code == 302
    assert duty_of(firm, 2024).filed_on == date(2025, 5, 30)
    assert client.post(f"/certification/duties/{duty.id}/unfiled").status_code == 302
    assert duty_of(firm, 2024).filed_on is None
    other = duty_of(world["other"])
    assert client.post(f"/certification/duties/{other.id}/unfiled").status_code == 404


def test_the_at_risk_list_names_the_firms_and_their_missed_years(client, login_as, world):
    duties.mark_filed([duty_of(world["own"], 2023)], date(2024, 5, 1), None)
    duties.mark_filed([duty_of(world["own"], 2024)], date(2025, 5, 1), None)
    db.session.commit()
    login_as("bureau_head")
    html = client.get("/certification/duties/at-risk").get_data(as_text=True)
    assert "梧州外区年报企业" in html and "2023、2024、2025 年度" in html
    assert "有取消资格风险" in html
    assert "梧州本区年报企业" in html and "再有 1 年未报将被取消" in html


def test_the_at_risk_list_comes_in_pages_most_missed_first(app, client, login_as, world):
    duties.mark_filed([duty_of(world["own"], 2023)], date(2024, 5, 1), None)
    db.session.commit()
    app.config["DUTIES_RISK_PER_PAGE"] = 1
    login_as("bureau_head")
    first = client.get("/certification/duties/at-risk").get_data(as_text=True)
    second = client.get("/certification/duties/at-risk?page=2").get_data(as_text=True)
    # The firm that missed three years comes before the one that missed two.
    assert "梧州外区年报企业" in first and "梧州本区年报企业" not in first
    assert "梧州本区年报企业" in second and "梧州外区年报企业" not in second
    assert "2024、2025 年度" in second
    assert "下一页" in first and "第 2 页" in second
    district = client.get(f"/certification/duties/at-risk?district={world['home'].id}")
    html = district.get_data(as_text=True)
    assert "梧州本区年报企业" in html and "梧州外区年报企业" not in html
    assert "下一页" not in html


def test_the_reports_list_comes_in_pages_with_counts_of_the_whole_year(
    app, client, login_as, world
):
    app.config["DUTIES_PER_PAGE"] = 1
    login_as("bureau_head")
    first = client.get("/certification/duties?year=2025").get_data(as_text=True)
    second = client.get("/certification/duties?year=2025&page=2").get_data(as_text=True)
    # By firm name: 外 comes before 本.
    assert "梧州外区年报企业" in first and "梧州本区年报企业" not in first
    assert "梧州本区年报企业" in second and "梧州外区年报企业" not in second
    assert "下一页" in first and "第 2 页" in second
    assert 'data-count="overdue">2<' in first and 'data-count="overdue">2<' in second
