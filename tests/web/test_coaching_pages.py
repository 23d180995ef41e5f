"""Coaching pages: who reaches which route, in-place measures and activities, the print view.

Plans and visits are the bureau's working notes: staff read them within their reach (404 outside
it), read-only roles get 403 on changes, and to enterprise users these pages are not there
(404), even for their own firm: they see the measures assigned to them in the portal.
"""

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.coaching import services
from crm.coaching.models import Activity, CoachingMeasure, CoachingPlan
from crm.core import clock
from crm.extensions import db
from tests import factories

ROLES = ("admin", "bureau_head", "manager", "enterprise")
HTMX = {"HX-Request": "true"}

#: (method, path pattern, kind) as in tests/web/test_permissions.py.
ROUTES = [
    ("GET", "/coaching/plans/{plan}", "read"),
    ("GET", "/coaching/plans/{plan}/print", "read"),
    ("GET", "/coaching/plans/{plan}/measures/{measure}", "row"),
    ("GET", "/coaching/firms/{firm}/activities/{activity}", "row"),
    ("POST", "/coaching/firms/{firm}/plans", "write"),
    ("GET", "/coaching/plans/{plan}/edit", "write"),
    ("POST", "/coaching/plans/{plan}/edit", "write"),
    ("POST", "/coaching/plans/{plan}/activate", "write"),
    ("POST", "/coaching/plans/{plan}/close", "write"),
    ("POST", "/coaching/plans/{plan}/measures", "write"),
    ("GET", "/coaching/plans/{plan}/measures/{measure}/edit", "write"),
    ("POST", "/coaching/plans/{plan}/measures/{measure}/edit", "write"),
    ("POST", "/coaching/plans/{plan}/measures/{measure}/delete", "write"),
    ("POST", "/coaching/plans/{plan}/milestones", "write"),
    ("POST", "/coaching/plans/{plan}/milestones/{milestone}/toggle", "write"),
    ("POST", "/coaching/plans/{plan}/milestones/{milestone}/delete", "write"),
    ("POST", "/coaching/firms/{firm}/activities", "write"),
    ("GET", "/coaching/firms/{firm}/activities/{activity}/edit", "write"),
    ("POST", "/coaching/firms/{firm}/activities/{activity}/edit", "write"),
    ("POST", "/coaching/firms/{firm}/activities/{activity}/follow-up", "write"),
    ("POST", "/coaching/firms/{firm}/activities/{activity}/delete", "write"),
]

EXPECTED = {
    ("admin", "own"): {"read": 200, "row": "ok", "write": "ok"},
    ("admin", "other"): {"read": 200, "row": "ok", "write": "ok"},
    ("bureau_head", "own"): {"read": 200, "row": "ok", "write": 403},
    ("bureau_head", "other"): {"read": 200, "row": "ok", "write": 403},
    ("manager", "own"): {"read": 200, "row": "ok", "write": "ok"},
    ("manager", "other"): {"read": 404, "row": 404, "write": 404},
    ("enterprise", "own"): {"read": 404, "row": 404, "write": 404},
    ("enterprise", "other"): {"read": 404, "row": 404, "write": 404},
}


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock._frozen = datetime(2026, 5, 10, 4, 0)


def _firm_with_plan(district, **kwargs):
    firm = factories.make_firm(district=district, **kwargs)
    plan = services.create_plan(firm, 2026)
    measure = services.add_measure(plan, {"title": "规范研发费用辅助账", "owner": "财务部"})
    milestone = services.add_milestone(plan, {"title": "提交申报", "due_on": date(2026, 6, 30)})
    activity = services.log_activity(
        firm,
        {"kind": "visit", "occurred_on": date(2026, 5, 8), "follow_up": "送达政策指引"},
    )
    return {
        "firm": firm.id,
        "plan": plan.id,
        "measure": measure.id,
        "milestone": milestone.id,
        "activity": activity.id,
    }


@pytest.fixture
def world(app):
    """Two firms with a plan each in two districts; users' reach includes only the first."""
    home, away = factories.district("450403"), factories.district("450405")
    world = {"home": home, "own": _firm_with_plan(home), "other": _firm_with_plan(away)}
    db.session.commit()
    return world


def _user_for(role, world):
    if role == "manager":
        return factories.make_user("manager", districts=[world["home"]])
    if role == "enterprise":
        return factories.make_user("enterprise", firm_id=world["own"]["firm"])
    return factories.make_user(role)


def _login(login_as, role, world):
    user = _user_for(role, world)
    db.session.commit()
    return login_as(user=user)


CASES = [
    (role, which, method, path, kind)
    for role in ROLES
    for which in ("own", "other")
    for method, path, kind in ROUTES
]


@pytest.mark.parametrize(("role", "which", "method", "path", "kind"), CASES)
def test_role_route_firm_matrix(client, login_as, world, role, which, method, path, kind):
    _login(login_as, role, world)
    url = path.format(**world[which])
    response = client.open(url, method=method, data={})
    expected = EXPECTED[(role, which)][kind]
    if expected == "ok":
        assert response.status_code not in (403, 404), (url, response.status_code)
        assert response.status_code < 500
    else:
        assert response.status_code == expected, (url, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "/coaching/plans/{plan}/measures/{other_measure}/edit",
        "/coaching/plans/{plan}/measures/{other_measure}/delete",
        "/coaching/plans/{plan}/milestones/{other_milestone}/toggle",
        "/coaching/plans/{plan}/milestones/{other_milestone}/delete",
        "/coaching/firms/{firm}/activities/{other_activity}/edit",
        "/coaching/firms/{firm}/activities/{other_activity}/follow-up",
        "/coaching/firms/{firm}/activities/{other_activity}/delete",
    ],
)
def test_rows_of_another_plan_or_firm_answer_404(client, login_as, world, path):
    login_as("admin")
    other = world["other"]
    ids = {**world["own"], **{f"other_{k}": v for k, v in other.items()}}
    assert client.post(path.format(**ids), data={}).status_code == 404
    assert db.session.get(CoachingMeasure, other["measure"]) is not None
    assert db.session.get(Activity, other["activity"]).follow_up_done is False


def test_unknown_plan_answers_404(client, login_as, world):
    login_as("admin")
    assert client.get("/coaching/plans/999999").status_code == 404


# --- Firm tabs ------------------------------------------------------------------------------------


def test_staff_see_both_tabs_and_editors_may_start_a_plan(client, login_as, world):
    _login(login_as, "manager", world)
    firm = world["own"]["firm"]
    page = client.get(f"/firms/{firm}?tab=coaching").get_data(as_text=True)
    assert "一企一策" in page and "走访记录" in page
    assert "2026 年度方案" in page and "新建 2027 年度方案" in page
    page = client.get(f"/firms/{firm}?tab=activities").get_data(as_text=True)
    assert "送达政策指引" in page and "添加走访记录" in page


def test_a_bureau_head_reads_the_tabs_without_edit_buttons(client, login_as, world):
    _login(login_as, "bureau_head", world)
    firm = world["own"]["firm"]
    page = client.get(f"/firms/{firm}?tab=coaching").get_data(as_text=True)
    assert "2026 年度方案" in page and "新建" not in page
    page = client.get(f"/firms/{firm}?tab=activities").get_data(as_text=True)
    assert "送达政策指引" in page and "添加走访记录" not in page and "标记办结" not in page


def test_enterprise_users_see_neither_tab(client, login_as, world):
    _login(login_as, "enterprise", world)
    firm = world["own"]["firm"]
    for tab in ("coaching", "activities"):
        response = client.get(f"/firms/{firm}?tab={tab}")
        assert response.status_code == 404  # the bureau's firm page is not theirs
        page = response.get_data(as_text=True)
        assert "一企一策" not in page and "走访记录" not in page
        assert "送达政策指引" not in page


# --- Plans ----------------------------------------------------------------------------------------


def test_a_manager_creates_a_plan_once_per_year(client, login_as, world):
    _login(login_as, "manager", world)
    firm = world["own"]["firm"]
    response = client.post(f"/coaching/firms/{firm}/plans", data={"year": "2027"})
    plan = db.session.scalar(select(CoachingPlan).where(CoachingPlan.year == 2027))
    assert response.headers["Location"].endswith(f"/coaching/plans/{plan.id}")
    assert "缺少数据" in plan.diagnosis  # the firm's stored gap list
    response = client.post(
        f"/coaching/firms/{firm}/plans", data={"year": "2027"}, follow_redirects=True
    )
    assert "2027 年度的一企一策方案已存在" in response.get_data(as_text=True)


def test_the_plan_page_shows_the_plan_without_inline_scripts_or_styles(client, login_as, world):
    _login(login_as, "manager", world)
    page = client.get(f"/coaching/plans/{world['own']['plan']}").get_data(as_text=True)
    for text in ("2026 年度一企一策方案", "规范研发费用辅助账", "提交申报", "启动实施", "草拟"):
        assert text in page
    assert "请指定负责的服务专员" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page


def test_editing_the_plan_and_starting_it(client, login_as, world):
    manager = _login(login_as, "manager", world)
    plan_id = world["own"]["plan"]
    refused = client.post(f"/coaching/plans/{plan_id}/activate", follow_redirects=True)
    assert "无法启动实施：请指定负责的服务专员。" in refused.get_data(as_text=True)
    response = client.post(
        f"/coaching/plans/{plan_id}/edit",
        data={"goal": "年内通过认定", "manager_id": str(manager.id), "liaison_leader": "李局长"},
    )
    assert response.status_code == 302
    client.post(f"/coaching/plans/{plan_id}/activate")
    plan = db.session.get(CoachingPlan, plan_id)
    assert (plan.goal, plan.manager_id, plan.status) == ("年内通过认定", manager.id, "active")


def test_closing_needs_an_outcome(client, login_as, world):
    manager = _login(login_as, "manager", world)
    plan = db.session.get(CoachingPlan, world["own"]["plan"])
    plan.manager_id = manager.id
    services.activate_plan(plan)
    db.session.commit()
    page = client.post(f"/coaching/plans/{plan.id}/close", data={"outcome": ""})
    assert page.status_code == 200 and "请填写方案成效" in page.get_data(as_text=True)
    client.post(f"/coaching/plans/{plan.id}/close", data={"outcome": "已提交认定申报"})
    db.session.refresh(plan)
    assert (plan.status, plan.outcome) == ("closed", "已提交认定申报")


def test_the_print_view_fits_the_plan_on_a_page_with_the_print_stylesheet(
    app, client, login_as, world
):
    _login(login_as, "bureau_head", world)
    page = client.get(f"/coaching/plans/{world['own']['plan']}/print").get_data(as_text=True)
    assert "2026 年度“一企一策”培育方案" in page
    assert "规范研发费用辅助账" in page and "财务部" in page and "提交申报" in page
    assert 'href="/static/css/app.css"' in page
    assert "<nav" not in page and "print-sheet" in page
    css = (Path(app.static_folder) / "css" / "app.css").read_text(encoding="utf-8")
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", css)


# --- Measures in place ----------------------------------------------------------------------------


def test_htmx_adds_a_measure_and_refreshes_the_status_actions(client, login_as, world):
    _login(login_as, "manager", world)
    plan_id = world["own"]["plan"]
    response = client.post(
        f"/coaching/plans/{plan_id}/measures",
        data={"new-title": "申请发明专利 2 件", "new-owner": "技术部", "new-status": "planned"},
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="measures-panel">')
    assert "申请发明专利 2 件" in body and "规范研发费用辅助账" in body
    assert 'id="plan-actions"' in body and 'hx-swap-oob="true"' in body
    assert "<html" not in body


def test_htmx_shows_errors_of_a_new_measure_in_the_panel(client, login_as, world):
    _login(login_as, "manager", world)
    response = client.post(
        f"/coaching/plans/{world['own']['plan']}/measures",
        data={"new-title": "", "new-status": "planned"},
        headers=HTMX,
    )
    assert "请填写措施" in response.get_data(as_text=True)
    assert db.session.scalars(select(CoachingMeasure)).all().__len__() == 2


def test_htmx_edits_a_measure_in_place(client, login_as, world):
    _login(login_as, "manager", world)
    plan_id, measure_id = world["own"]["plan"], world["own"]["measure"]
    url = f"/coaching/plans/{plan_id}/measures/{measure_id}/edit"
    form = client.get(url, headers=HTMX).get_data(as_text=True)
    assert form.lstrip().startswith(f'<tr id="measure-{measure_id}"') and "<form" in form
    row = client.post(
        url,
        data={f"row{measure_id}-title": "建立研发辅助账", f"row{measure_id}-status": "done"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="measure-{measure_id}"')
    assert "建立研发辅助账" in row and "已完成" in row and "2026-05-10" in row
    cancel = client.get(f"/coaching/plans/{plan_id}/measures/{measure_id}", headers=HTMX)
    assert "<form" not in cancel.get_data(as_text=True).split("</td>", 1)[0]


def test_htmx_deletes_a_measure_and_returns_the_status_actions(client, login_as, world):
    _login(login_as, "manager", world)
    plan_id, measure_id = world["own"]["plan"], world["own"]["measure"]
    body = client.post(
        f"/coaching/plans/{plan_id}/measures/{measure_id}/delete", headers=HTMX
    ).get_data(as_text=True)
    assert 'hx-swap-oob="true"' in body and "请至少添加一项辅导措施" in body
    assert db.session.get(CoachingMeasure, measure_id) is None


def test_milestones_are_added_and_ticked_off_with_htmx(client, login_as, world):
    _login(login_as, "manager", world)
    plan_id, milestone_id = world["own"]["plan"], world["own"]["milestone"]
    body = client.post(
        f"/coaching/plans/{plan_id}/milestones",
        data={"milestone-title": "完成专项审计", "milestone-due_on": "2026-05-31"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert body.lstrip().startswith('<div id="milestones-panel">') and "完成专项审计" in body
    body = client.post(
        f"/coaching/plans/{plan_id}/milestones/{milestone_id}/toggle", headers=HTMX
    ).get_data(as_text=True)
    assert "2026-05-10 完成" in body


# --- Activities -----------------------------------------------------------------------------------


def test_htmx_logs_an_activity_newest_first(client, login_as, world):
    manager = _login(login_as, "manager", world)
    firm = world["own"]["firm"]
    body = client.post(
        f"/coaching/firms/{firm}/activities",
        data={
            "new-kind": "phone",
            "new-occurred_on": "2026-05-09",
            "new-notes": "电话了解申报意向",
            "new-follow_up": "寄送申报指南",
            "new-follow_up_due_on": "2026-05-15",
        },
        headers=HTMX,
    ).get_data(as_text=True)
    assert body.lstrip().startswith('<div id="activities-panel">')
    assert body.index("电话了解申报意向") < body.index("送达政策指引")
    assert "2026-05-15 前" in body and manager.name in body
    assert services.last_contact_on(firm) == date(2026, 5, 9)


def test_an_activity_in_the_future_is_refused(client, login_as, world):
    _login(login_as, "manager", world)
    body = client.post(
        f"/coaching/firms/{world['own']['firm']}/activities",
        data={"new-kind": "visit", "new-occurred_on": "2026-06-01"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert "日期不能晚于今天" in body


def test_follow_up_toggle_and_in_place_edit_of_an_activity(client, login_as, world):
    _login(login_as, "manager", world)
    firm, activity_id = world["own"]["firm"], world["own"]["activity"]
    row = client.post(
        f"/coaching/firms/{firm}/activities/{activity_id}/follow-up", headers=HTMX
    ).get_data(as_text=True)
    assert "已办结" in row and "重新打开" in row
    url = f"/coaching/firms/{firm}/activities/{activity_id}/edit"
    assert "<form" in client.get(url, headers=HTMX).get_data(as_text=True)
    prefix = f"row{activity_id}-"
    row = client.post(
        url,
        data={prefix + "kind": "meeting", prefix + "occurred_on": "2026-05-08"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="activity-{activity_id}"') and "座谈/培训" in row
    assert db.session.get(Activity, activity_id).follow_up_done is False  # unticked in the form


def test_the_firms_history_tab_describes_coaching_changes(client, login_as, world):
    manager = _login(login_as, "manager", world)
    plan_id = world["own"]["plan"]
    client.post(f"/coaching/plans/{plan_id}/edit", data={"manager_id": str(manager.id)})
    client.post(f"/coaching/plans/{plan_id}/activate")
    page = client.get(f"/firms/{world['own']['firm']}?tab=history").get_data(as_text=True)
    assert "一企一策方案" in page and "2026 年度方案" in page
    assert "实施中" in page and "草拟" in page and manager.name in page
    assert "辅导措施" in page and "走访记录" in page


# --- Whom reminders reach -------------------------------------------------------------------------


def test_a_measure_names_a_user_its_reminders_reach(client, login_as, world):
    manager = _login(login_as, "manager", world)
    colleague = factories.make_user("manager", name="李专员")
    db.session.commit()
    plan_id = world["own"]["plan"]
    form = client.get(f"/coaching/plans/{plan_id}").get_data(as_text=True)
    assert "提醒对象" in form and "李专员" in form
    client.post(
        f"/coaching/plans/{plan_id}/measures",
        data={
            "new-title": "准备专项审计报告",
            "new-owner": "企业财务部",
            "new-owner_id": str(colleague.id),
            "new-status": "planned",
        },
        headers=HTMX,
    )
    measure = db.session.scalar(select(CoachingMeasure).filter_by(title="准备专项审计报告"))
    assert measure.owner == "企业财务部" and measure.owner_id == colleague.id
    assert measure.owner_label == "李专员"
    assert manager.id != colleague.id


def test_a_follow_up_names_a_user_its_reminders_reach(client, login_as, world):
    _login(login_as, "manager", world)
    colleague = factories.make_user("manager", name="赵专员")
    db.session.commit()
    firm = world["own"]["firm"]
    client.post(
        f"/coaching/firms/{firm}/activities",
        data={
            "new-kind": "visit",
            "new-occurred_on": "2026-05-09",
            "new-follow_up": "送达申报指南",
            "new-follow_up_due_on": "2026-05-20",
            "new-follow_up_owner_id": str(colleague.id),
        },
        headers=HTMX,
    )
    activity = db.session.scalar(select(Activity).filter_by(follow_up="送达申报指南"))
    assert activity.follow_up_owner_id == colleague.id
