"""The 预评估 tab, the manager's assessment form and the readiness list, by role."""

import re

import pytest
from sqlalchemy import delete, func, select

from crm.core import clock
from crm.eligibility.models import Assessment, ExpertAssessment, SettingsVersion
from crm.extensions import db
from tests import factories
from tests.web.eligibility_world import NOW, make_world


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def world(app):
    """The three firms in the manager's home district, plus one elsewhere, never assessed."""
    home, away = factories.district("450403"), factories.district("450405")
    firms = make_world(district=home)
    elsewhere = factories.make_firm(name="丁级外区科技有限公司", district=away)
    db.session.commit()
    db.session.execute(delete(Assessment).where(Assessment.firm_id == elsewhere.id))
    db.session.commit()
    return {**firms, "home": home, "elsewhere": elsewhere}


def defaults_number() -> int:
    """Return the number of the only settings version, the national defaults, once created."""
    return db.session.scalars(select(SettingsVersion)).one().id


def user_for(role: str, world):
    """Return a user of `role` whose reach is the home district (or the passing firm)."""
    if role == "manager":
        return factories.make_user("manager", districts=[world["home"]])
    if role == "enterprise":
        return factories.make_user("enterprise", firm_id=world["pass"].id)
    return factories.make_user(role)


def tab(client, firm) -> str:
    response = client.get(f"/firms/{firm.id}?tab=assessment")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def names_in_order(html: str) -> list[str]:
    return re.findall(r'tab=assessment">([^<]+)</a>', html)


# --- Who may open what ---------------------------------------------------------------------------

#: role → (own firm, other firm) statuses for the tab, the expert form and the refresh button.
EXPECTED = {
    "admin": {"tab": (200, 200), "expert": (200, 200), "refresh": (302, 302)},
    "bureau_head": {"tab": (200, 200), "expert": (403, 403), "refresh": (403, 403)},
    "manager": {"tab": (200, 404), "expert": (200, 404), "refresh": (302, 404)},
    # The bureau's pages are not there for a firm's users, their own firm's included.
    "enterprise": {"tab": (404, 404), "expert": (404, 404), "refresh": (404, 404)},
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_firm_routes_answer_by_role_and_reach(client, login_as, world, role):
    login_as(user=user_for(role, world))
    db.session.commit()
    for which, firm in enumerate((world["pass"], world["elsewhere"])):
        routes = {
            "tab": ("GET", f"/firms/{firm.id}?tab=assessment"),
            "expert": ("GET", f"/eligibility/firms/{firm.id}/expert"),
            "refresh": ("POST", f"/eligibility/firms/{firm.id}/refresh"),
        }
        for kind, (method, url) in routes.items():
            response = client.open(url, method=method, data={})
            assert response.status_code == EXPECTED[role][kind][which], (method, url)
        response = client.post(f"/eligibility/firms/{firm.id}/expert", data={})
        assert (
            response.status_code == {200: 302, 403: 403, 404: 404}[EXPECTED[role]["expert"][which]]
        )


def test_an_enterprise_user_does_not_get_the_assessment_tab(client, login_as, world):
    login_as(user=user_for("enterprise", world))
    response = client.get(f"/firms/{world['pass'].id}?tab=assessment")
    assert response.status_code == 404  # the bureau's firm page, its tabs included
    html = response.get_data(as_text=True)
    assert "预评估" not in html and "创新能力评价" not in html
    # Their own firm's profile is in the portal.
    response = client.get("/portal/profile")
    assert response.status_code == 200
    assert world["pass"].name in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("bureau_head", 200), ("manager", 200), ("enterprise", 404)],
)
def test_the_readiness_list_is_for_staff(client, login_as, world, role, status):
    login_as(user=user_for(role, world))
    assert client.get("/eligibility/").status_code == status


def test_a_bureau_head_sees_no_edit_buttons_on_the_tab(client, login_as, world):
    login_as("bureau_head")
    html = tab(client, world["pass"])
    assert "/expert" not in html and "/refresh" not in html


# --- The tab -------------------------------------------------------------------------------------


def test_the_tab_shows_a_passing_firm(client, login_as, world):
    login_as("admin")
    html = tab(client, world["pass"])
    assert "text-bg-success" in html and "预计通过" in html
    assert "按 2026-06-01 申报评估" in html
    assert f"评估参数第 {defaults_number()} 版，自 2016-01-01 起施行" in html
    assert html.count("<tr>") >= 8 and "研究开发费用占比" in html and "境内研发 ≥ 60%" in html
    assert "暂无差距" in html
    # The score bar: range 93–100 filled, pass line at 71.
    assert 'class="score-range score-range-pass" x="930"' in html and 'width="70"' in html
    assert 'x1="710"' in html and "通过线 71" in html
    assert "专员评估" in html and "数据计算" in html
    assert "科技型中小企业评价（2026 年度）" in html and "96 / 100" in html
    assert 'style="' not in html and "<script>" not in html


def test_the_tab_lists_the_rd_gap_of_a_firm_just_short(client, login_as, world):
    login_as("admin")
    html = tab(client, world["fail"])
    assert "暂不符合" in html and "text-bg-danger" in html
    assert "研发费用占比 4.6%，需达到 5%：近三年研发投入还差" in html
    assert "暂无差距" not in html


def test_an_unassessed_firm_offers_an_assessment_now(client, login_as, world):
    login_as("admin")
    firm = world["elsewhere"]
    html = tab(client, firm)
    assert "尚未进行高新技术企业认定预评估" in html and "立即评估" in html
    response = client.post(f"/eligibility/firms/{firm.id}/refresh")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/firms/{firm.id}?tab=assessment")
    html = tab(client, firm)
    assert f"评估参数第 {defaults_number()} 版" in html and "缺少数据" in html


# --- The manager's assessment --------------------------------------------------------------------


def test_the_expert_form_refuses_points_out_of_range(client, login_as, world):
    manager = login_as(user=user_for("manager", world))
    db.session.commit()
    firm = world["uncertain"]
    response = client.post(
        f"/eligibility/firms/{firm.id}/expert",
        data={"tech_advancement": "9", "rd_rules": "5", "clean_record": "1"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "应在 0–8 分之间" in html and "is-invalid" in html
    assert (
        manager.id
        and db.session.scalar(
            select(func.count(ExpertAssessment.id)).where(ExpertAssessment.firm_id == firm.id)
        )
        == 0
    )


def test_the_expert_form_saves_and_the_tab_shows_the_assessed_items(client, login_as, world):
    login_as(user=user_for("manager", world))
    db.session.commit()
    firm = world["uncertain"]
    page = client.get(f"/eligibility/firms/{firm.id}/expert").get_data(as_text=True)
    assert "0–8 分" in page and "自主研发 1–6 分" in page and "未确认" in page
    response = client.post(
        f"/eligibility/firms/{firm.id}/expert",
        data={
            "tech_advancement": "7",
            "core_support": "7",
            "acquisition": "5",
            "standards": "",
            "rd_rules": "5",
            "rd_institution": "5",
            "rd_incentives": "3",
            "rd_talent": "3",
            "clean_record": "1",
            "led_standard": "y",
            "notes": "走访核实",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/firms/{firm.id}?tab=assessment")
    stored = db.session.scalar(select(ExpertAssessment).where(ExpertAssessment.firm_id == firm.id))
    assert (stored.tech_advancement, stored.standards, stored.clean_record) == (7, None, True)
    assert stored.led_standard is True and stored.notes == "走访核实"
    html = tab(client, firm)
    assert html.count(">专员评估</span>") == 7 and ">待评估</span>" in html
    assert "预计通过" in html
    again = client.get(f"/eligibility/firms/{firm.id}/expert").get_data(as_text=True)
    assert 'value="7"' in again and '<option selected value="1">是</option>' in again


# --- The readiness list --------------------------------------------------------------------------


def test_the_readiness_list_puts_the_nearest_to_passing_first(client, login_as, world):
    login_as("admin")
    html = client.get("/eligibility/").get_data(as_text=True)
    assert names_in_order(html) == [
        "甲级通过科技有限公司",
        "乙级待定科技有限公司",
        "丙级差距科技有限公司",
        "丁级外区科技有限公司",
    ]
    assert "研发费用占比 4.6%" in html and "8.0%" in html and "尚未评估" in html


def test_the_readiness_list_sorts_by_the_columns(client, login_as, world):
    login_as("admin")
    html = client.get("/eligibility/?sort=score_min").get_data(as_text=True)
    assert names_in_order(html)[0] == "乙级待定科技有限公司"
    html = client.get("/eligibility/?sort=-largest_gap").get_data(as_text=True)
    assert names_in_order(html)[0] == "丙级差距科技有限公司"
    assert names_in_order(html)[-1] == "丁级外区科技有限公司"  # not assessed: always last
    html = client.get("/eligibility/?sort=-verdict").get_data(as_text=True)
    assert names_in_order(html)[:3] == [
        "丙级差距科技有限公司",
        "乙级待定科技有限公司",
        "甲级通过科技有限公司",
    ]
    assert client.get("/eligibility/?sort=drop table").status_code == 200


def test_the_readiness_list_filters_like_the_firm_list(client, login_as, world):
    login_as("admin")
    html = client.get("/eligibility/?verdict=fail").get_data(as_text=True)
    assert names_in_order(html) == ["丙级差距科技有限公司"]
    html = client.get("/eligibility/?verdict=none").get_data(as_text=True)
    assert names_in_order(html) == ["丁级外区科技有限公司"]
    html = client.get(f"/eligibility/?district={world['home'].id}&q=乙级").get_data(as_text=True)
    assert names_in_order(html) == ["乙级待定科技有限公司"]


def test_a_manager_sees_only_their_firms_in_the_readiness_list(client, login_as, world):
    login_as(user=user_for("manager", world))
    html = client.get("/eligibility/").get_data(as_text=True)
    assert "丁级外区科技有限公司" not in html
    assert len(names_in_order(html)) == 3


def test_the_readiness_list_pages_without_counting(app, client, login_as, world):
    app.config["FIRMS_PER_PAGE"] = 2
    login_as("admin")
    first = client.get("/eligibility/").get_data(as_text=True)
    second = client.get("/eligibility/?page=2").get_data(as_text=True)
    assert names_in_order(first) == ["甲级通过科技有限公司", "乙级待定科技有限公司"]
    assert names_in_order(second) == ["丙级差距科技有限公司", "丁级外区科技有限公司"]
    assert "下一页" in first
