"""The targets page: administrators set, clear and seed the targets the dashboard compares with."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from crm.core import clock
from crm.dashboard.models import Target
from crm.dashboard.targets import HTE_COUNT, set_target, target_values
from crm.extensions import db
from tests import factories
from tests.conftest import make_app

NOW = datetime(2026, 6, 15, 2, 0)
TOKEN = r'name="csrf_token" type="hidden" value="([^"]+)"'


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen(NOW):
        yield


def set_form(year=2026, indicator=HTE_COUNT, district=0, value="120", action="set") -> dict:
    return {
        "year": year,
        "indicator": indicator,
        "district": district,
        "value": value,
        "action": action,
    }


@pytest.mark.parametrize(("role", "status"), [("bureau_head", 403), ("manager", 403)])
def test_only_administrators_reach_the_targets(client, login_as, role, status):
    login_as(role)
    assert client.get("/dashboard/targets").status_code == status
    assert client.post("/dashboard/targets/set", data=set_form()).status_code == status
    assert client.post("/dashboard/targets/seed", data={"base_year": 2025}).status_code == status
    assert target_values(2026, HTE_COUNT) == {}


def test_the_grid_shows_each_indicator_for_the_city_and_the_districts(client, login_as):
    district = factories.district("450405")
    set_target(2026, HTE_COUNT, None, Decimal(150))
    set_target(2026, "rd_intensity", district.id, Decimal("3.5"))
    db.session.add(
        Target(year=2026, indicator=HTE_COUNT, district_id=district.id, value=40, placeholder=True)
    )
    db.session.commit()
    login_as("admin")
    html = client.get("/dashboard/targets?year=2026").get_data(as_text=True)
    assert "2026 年度目标" in html
    assert re.search(r'data-target="hte_count-city">\s*150\s*</td>', html)
    assert re.search(rf'data-target="rd_intensity-{district.id}">\s*3.50\s*</td>', html)
    assert re.search(
        rf'data-target="hte_count-{district.id}">\s*40\s*<span class="badge[^"]*">占位值', html
    )
    assert 'data-target="support_paid-city">\n          <span class="text-muted">—' in html
    # Linked from the administrators' navigation.
    assert 'href="/dashboard/targets">指标目标</a>' in html


def test_an_administrator_sets_and_clears_a_target(client, login_as):
    district = factories.district("450403")
    db.session.commit()
    login_as("admin")
    response = client.post(
        "/dashboard/targets/set",
        data=set_form(2027, district=district.id, value="1,234.5"),
        follow_redirects=True,
    )
    assert "已将2027 年万秀区「高新技术企业数」目标设为 1234.5 家。" in response.get_data(
        as_text=True
    )
    assert target_values(2027, HTE_COUNT) == {district.id: Decimal("1234.50")}
    assert response.request.path == "/dashboard/targets" and "year=2027" in response.request.url

    response = client.post(
        "/dashboard/targets/set",
        data=set_form(2027, district=district.id, value="", action="clear"),
        follow_redirects=True,
    )
    assert "已清除2027 年万秀区「高新技术企业数」目标。" in response.get_data(as_text=True)
    assert target_values(2027, HTE_COUNT) == {}
    response = client.post(
        "/dashboard/targets/set", data=set_form(action="clear"), follow_redirects=True
    )
    assert "本未设置，无需清除" in response.get_data(as_text=True)


def test_setting_replaces_a_placeholder_with_the_bureaus_value(client, login_as):
    db.session.add(Target(year=2026, indicator=HTE_COUNT, value=40, placeholder=True))
    db.session.commit()
    login_as("admin")
    client.post("/dashboard/targets/set", data=set_form(value="45"))
    [target] = db.session.scalars(db.select(Target)).all()
    assert (target.value, target.placeholder) == (Decimal(45), False)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": ""}, "请填写目标值"),
        ({"value": "一百"}, "目标值须为数字"),
        ({"value": "NaN"}, "目标值须为数字"),
        ({"value": "-1"}, "目标值不能为负数"),
        ({"value": "1.234"}, "目标值最多保留两位小数"),
        ({"value": "1e20"}, "目标值过大"),
        ({"indicator": "nonsense"}, "请选择指标"),
        ({"district": "999999"}, "请选择全市或一个县（市、区）"),
        ({"year": "1999"}, "请填写 2000 至 2100 之间的年度"),
    ],
)
def test_bad_input_is_refused_in_chinese(client, login_as, changes, message):
    login_as("admin")
    response = client.post("/dashboard/targets/set", data={**set_form(), **changes})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(db.select(Target)).all() == []


def test_seeding_makes_placeholders_from_the_base_year(client, login_as):
    district = factories.district("450403")
    for _ in range(10):
        factories.make_certificate(factories.make_firm(district=district), date(2024, 3, 1))
    set_target(2026, HTE_COUNT, None, Decimal(25))
    db.session.commit()
    login_as("admin")
    response = client.post(
        "/dashboard/targets/seed", data={"base_year": 2024}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    # Five years for the district, four for the city (2026 is the bureau's own).
    assert "已按倍增计划生成 9 项占位目标（2025—2029 年，以 2024 年末高企数为基数）" in html
    assert target_values(2026, HTE_COUNT) == {None: Decimal(25), district.id: Decimal(13)}
    assert target_values(2029, HTE_COUNT) == {None: Decimal(20), district.id: Decimal(20)}
    assert "占位值" in html and "year=2025" in response.request.url

    html = client.post(
        "/dashboard/targets/seed", data={"base_year": 2010}, follow_redirects=True
    ).get_data(as_text=True)
    assert "没有生成占位目标：2010 年末没有有效的高企证书" in html


@pytest.mark.parametrize(
    ("base_year", "message"), [("2027", "基准年度不能晚于今年"), ("", "请填写基准年度")]
)
def test_seeding_refuses_a_bad_base_year(client, login_as, base_year, message):
    login_as("admin")
    response = client.post("/dashboard/targets/seed", data={"base_year": base_year})
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(db.select(Target)).all() == []


def test_the_forms_need_the_csrf_token(app, database_url):
    admin = factories.make_user("admin")
    db.session.commit()
    username = admin.username
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        token = re.search(TOKEN, client.get("/login").get_data(as_text=True)).group(1)
        data = {"username": username, "password": factories.PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
        assert client.post("/dashboard/targets/set", data=set_form()).status_code == 400
        assert client.post("/dashboard/targets/seed", data={"base_year": 2025}).status_code == 400
        token = re.search(TOKEN, client.get("/dashboard/targets").get_data(as_text=True)).group(1)
        response = client.post("/dashboard/targets/set", data={**set_form(), "csrf_token": token})
        assert response.status_code == 302
        db.session.remove()
        db.engine.dispose()
    assert target_values(2026, HTE_COUNT) == {None: Decimal(120)}


@pytest.mark.parametrize(("role", "shown"), [("admin", True), ("bureau_head", False)])
def test_the_dashboard_links_administrators_to_the_targets(client, login_as, role, shown):
    login_as(role)
    html = client.get("/dashboard/?year=2025").get_data(as_text=True)
    assert ('href="/dashboard/targets?year=2025"' in html) is shown
    assert ('href="/dashboard/targets">指标目标</a>' in html) is shown
