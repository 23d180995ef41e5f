"""The eligibility-settings admin pages: who sees them, validation, and new versions."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.core import clock
from crm.eligibility import services
from crm.eligibility.models import Assessment, SettingsVersion
from crm.eligibility.settings_forms import SettingsForm
from crm.extensions import db
from tests.web.eligibility_world import NOW, TODAY, make_candidate


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


def formdata(app, **changes) -> dict[str, str]:
    """Return what the new-version form posts unchanged from the version in force, plus changes."""
    with app.test_request_context():
        settings = services.settings_in_force(TODAY).settings
        db.session.commit()
        form = SettingsForm.prefilled(settings, TODAY, meta={"csrf": False})
        data = {}

        def walk(fields):
            for f in fields:
                if f.type in ("FormField", "FieldList"):
                    walk(f)
                else:
                    data[f.name] = f._value()

        walk(form)
    data["note"] = "测试调整"
    data.update(changes)
    return data


def version_count() -> int:
    return db.session.scalar(select(func.count(SettingsVersion.id)))


def versions() -> list[SettingsVersion]:
    return db.session.scalars(select(SettingsVersion).order_by(SettingsVersion.id)).all()


@pytest.mark.parametrize(
    ("role", "list_status", "new_status"),
    [
        ("admin", 200, 200),
        ("bureau_head", 200, 403),
        ("manager", 403, 403),
        ("enterprise", 404, 404),  # the bureau's pages are not there for a firm's users
    ],
)
def test_who_may_see_and_add_settings_versions(client, login_as, role, list_status, new_status):
    login_as(role)
    assert client.get("/admin/eligibility-settings").status_code == list_status
    assert client.get("/admin/eligibility-settings/new").status_code == new_status
    if role != "admin":
        assert client.post("/admin/eligibility-settings/new", data={}).status_code == new_status


def test_the_version_in_force_is_shown_in_readable_chinese(client, login_as):
    login_as("bureau_head")
    html = client.get("/admin/eligibility-settings").get_data(as_text=True)
    [defaults] = versions()
    assert f"第 {defaults.id} 版" in html and "当前施行" in html and "2016-01-01" in html
    assert "≤ 5,000 万元" in html and "≥ 5%" in html and "不设上限" in html
    assert "20,000 万元" in html and "≥ 35%" in html and "9–10 分" in html
    assert "新建版本" not in html


def value_of(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]* name="{re.escape(name)}"[^>]* value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_the_new_form_is_prefilled_in_percent_and_wan(client, login_as):
    login_as("admin")
    html = client.get("/admin/eligibility-settings/new").get_data(as_text=True)
    assert value_of(html, "hte_rd_tiers-0-max_sales") == "5000"
    assert value_of(html, "hte_rd_tiers-0-min_ratio") == "5"
    assert value_of(html, "hte_rd_tiers-2-max_sales") == ""
    assert value_of(html, "hte_growth_bands-0-at_least") == "35"
    assert value_of(html, "tech_sme_max_sales") == "20000"
    assert value_of(html, "effective_on") == "2026-06-01"
    assert 'style="' not in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hte_tech_staff_min": "120"}, "比例应在 0%–100% 之间"),
        ({"hte_growth_bands-1-at_least": "40"}, "各档门槛应从高到低排列"),
        ({"hte_ip_class1_band-low": "8", "hte_ip_class1_band-high": "7"}, "最高分不能低于最低分"),
        ({"hte_transformation_bands-0-high": "31"}, "不能超过 30 分"),
        ({"hte_rd_rules_max": "8"}, "超过 20 分"),
        ({"hte_ip_advancement_max": "10"}, "超过 30 分"),
        ({"tech_sme_rd_sales_steps-0-points": "60"}, "不能超过 50 分"),
        ({"hte_rd_tiers-2-max_sales": "90000"}, "最后一档应留空"),
        ({"hte_rd_tiers-1-max_sales": "3000"}, "销售收入上限应从低到高递增"),
        ({"note": ""}, "请说明本次调整的依据"),
        ({"effective_on": ""}, "请填写施行日期"),
    ],
)
def test_the_new_form_refuses_bad_settings_in_chinese(app, client, login_as, changes, message):
    login_as("admin")
    data = formdata(app, **changes)
    before = version_count()
    response = client.post("/admin/eligibility-settings/new", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert version_count() == before


def test_saving_unchanged_settings_stores_the_same_values(app, client, login_as):
    login_as("admin")
    response = client.post("/admin/eligibility-settings/new", data=formdata(app))
    assert response.status_code == 302
    defaults, saved = versions()
    assert saved.settings == defaults.settings


def test_a_new_version_changes_new_assessments_and_keeps_the_old_ones(app, client, login_as):
    firm = make_candidate("刚好通过科技有限公司", rd_ratio=Decimal("0.055"))
    old = services.current_assessment(firm.id)
    [defaults] = versions()
    assert old.verdict == "pass" and old.settings_id == defaults.id
    admin = login_as("admin")
    response = client.post(
        "/admin/eligibility-settings/new",
        data=formdata(app, **{"hte_rd_tiers-0-min_ratio": "6", "note": "小微企业研发占比调至 6%"}),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    _, version = versions()
    assert f"已保存为第 {version.id} 版" in html and "小微企业研发占比调至 6%" in html
    assert version.settings.hte.rd_tiers[0].min_ratio == Decimal("0.06")
    assert version.effective_on == TODAY and version.created_by_id == admin.id

    db.session.expire_all()
    new = services.current_assessment(firm.id)
    assert new.settings_id == version.id and new.verdict == "fail"
    assert new.hte.condition("rd_intensity").status == "unmet"
    assert db.session.get(Assessment, old.id).settings_id == defaults.id
    tab = client.get(f"/firms/{firm.id}?tab=assessment").get_data(as_text=True)
    assert f"评估参数第 {version.id} 版，自 2026-06-01 起施行" in tab and "需达到 6%" in tab


def test_a_version_effective_later_leaves_todays_assessments_alone(app, client, login_as):
    firm = make_candidate("未来施行科技有限公司", rd_ratio=Decimal("0.055"))
    login_as("admin")
    data = formdata(app, **{"hte_rd_tiers-0-min_ratio": "6", "effective_on": "2027-01-01"})
    [defaults] = versions()
    assert client.post("/admin/eligibility-settings/new", data=data).status_code == 302
    assert services.current_assessment(firm.id).settings_id == defaults.id
    html = client.get("/admin/eligibility-settings").get_data(as_text=True)
    assert "待施行" in html
