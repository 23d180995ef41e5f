"""The 培育进程 tab: enroll and move forms, refusals, the bureau head's override, who may post."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.pipeline.models import Enrollment, StageTransition
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from tests import factories

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def world(app):
    """Two firms in two districts; the first has figures and is in the HTE reserve pool."""
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home)
    other = factories.make_firm(district=away)
    for firm in (own, other):
        for year in (2023, 2024, 2025):
            factories.make_year(firm, year)
    db.session.commit()
    enrollments = {
        key: enroll_firm(
            firm, "hte", "reserve", MoveInputs(entry_reason=4, moved_on=date(2026, 5, 1)), None
        ).enrollment.id
        for key, firm in (("own", own), ("other", other))
    }
    db.session.commit()
    return {"home": home, "own": own, "other": other, "enrollments": enrollments}


def user_for(role, world):
    if role == "manager":
        return factories.make_user("manager", districts=[world["home"]])
    if role == "enterprise":
        return factories.make_user("enterprise", firm_id=world["own"].id)
    return factories.make_user(role)


def tab(client, firm) -> str:
    response = client.get(f"/firms/{firm.id}?tab=pipeline")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def move(client, enrollment_id, **fields):
    data = {f"move-{enrollment_id}-{k}": v for k, v in fields.items()}
    return client.post(f"/pipeline/enrollments/{enrollment_id}/move", data=data)


def current_stage(enrollment_id) -> str:
    db.session.expire_all()
    return db.session.get(Enrollment, enrollment_id).stage.code


# --- The tab -------------------------------------------------------------------------------------


def test_the_tab_shows_the_stage_days_history_and_the_move_form(client, login_as, world):
    login_as(user=user_for("manager", world))
    html = tab(client, world["own"])
    assert "培育进程" in html
    assert "高企后备库（45 天）" in html
    assert "4. 已入库科技型中小企业（非高企）" in html
    assert "入库 → 高企后备库" in html
    assert "变更阶段" in html
    assert '<option value="coaching"' in html and '<option value="certified"' not in html
    assert "加入上市后备" in html
    assert "越过门槛（需填写理由）" not in html
    assert "<script>" not in html and "style=" not in html


def test_a_bureau_head_sees_only_the_override_form(client, login_as, world):
    login_as("bureau_head")
    html = tab(client, world["other"])
    assert "越过门槛（需填写理由）" in html
    assert "该企业尚未加入上市后备" in html
    assert '/enroll"' not in html


def test_enterprise_users_do_not_see_the_tab(client, login_as, world):
    login_as(user=user_for("enterprise", world))
    response = client.get(f"/firms/{world['own'].id}?tab=pipeline")
    assert response.status_code == 404  # the bureau's firm page, its tabs included
    assert "培育进程" not in response.get_data(as_text=True)


# --- Enroll and move -----------------------------------------------------------------------------


def test_a_manager_enrolls_a_firm_in_the_listing_pool(client, login_as, world):
    login_as(user=user_for("manager", world))
    response = client.post(
        f"/pipeline/firms/{world['own'].id}/enroll",
        data={"programme": "listing", "enroll-listing-stage": "pool"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "已加入上市后备（入库培育）" in html
    assert "入库 → 入库培育" in html


def test_enrolling_twice_is_refused_on_the_page(client, login_as, world):
    login_as("admin")
    response = client.post(
        f"/pipeline/firms/{world['own'].id}/enroll",
        data={"programme": "hte", "enroll-hte-stage": "prospect"},
    )
    assert response.status_code == 200
    assert "该企业已在「高企培育」中（当前阶段：高企后备库）" in response.get_data(as_text=True)


def test_a_move_through_the_form(client, login_as, world):
    login_as(user=user_for("manager", world))
    eid = world["enrollments"]["own"]
    response = move(client, eid, target="moved", reason="迁往南宁", moved_on="2026-06-10")
    assert response.status_code == 302
    assert current_stage(eid) == "moved"
    transition = db.session.scalars(
        select(StageTransition).order_by(StageTransition.id.desc())
    ).first()
    assert (transition.reason, transition.moved_on) == ("迁往南宁", date(2026, 6, 10))


def test_a_cancellation_through_the_form_takes_one_of_the_grounds(client, login_as, world):
    own, eid = world["own"], world["enrollments"]["own"]
    enrollment = db.session.get(Enrollment, eid)
    head = factories.make_user("bureau_head")
    certified = MoveInputs(certificate_number="GR202645000555", certificate_issued_on=NOW.date())
    for target, inputs in (
        ("applied", MoveInputs()),
        ("review", MoveInputs()),
        ("certified", certified),
    ):
        move_firm(enrollment, target, inputs, head, override_reason="补录省厅认定")
    db.session.commit()
    login_as(user=user_for("manager", world))
    html = tab(client, own)
    assert 'data-need="cancel_ground"' in html and "累计两年未填报年度发展情况报表" in html

    refused = move(client, eid, target="cancelled", reason="未报年报").get_data(as_text=True)
    assert "取消资格需选择取消依据" in refused
    done = move(client, eid, target="cancelled", reason="未报年报", cancel_ground="missed_reports")
    assert done.status_code == 302
    db.session.expire_all()
    [certificate] = db.session.get(Enrollment, eid).firm.certificates
    assert (certificate.status, certificate.ended_on, certificate.cancel_ground) == (
        "cancelled",
        NOW.date(),
        "missed_reports",
    )


def test_a_refused_move_lists_the_unmet_requirements(client, login_as, world):
    login_as(user=user_for("manager", world))
    eid = world["enrollments"]["own"]
    response = move(client, eid, target="coaching")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "未能变更阶段" in html
    assert "进入一企一策辅导需先制定本年度辅导方案" in html
    assert "请局领导越过门槛" in html
    assert current_stage(eid) == "reserve"


def test_a_manager_posting_an_override_is_refused(client, login_as, world):
    login_as(user=user_for("manager", world))
    eid = world["enrollments"]["own"]
    response = move(client, eid, target="applied", override_reason="试试")
    assert "只有局领导可以越过门槛要求" in response.get_data(as_text=True)
    assert current_stage(eid) == "reserve"


def test_a_bureau_head_overrides_a_refused_move(client, login_as, world):
    head = login_as("bureau_head")
    eid = world["enrollments"]["other"]
    response = move(client, eid, target="applied", override_reason="市重点项目，先行申报")
    assert response.status_code == 302
    assert current_stage(eid) == "applied"
    html = tab(client, world["other"])
    assert "已越过门槛转入「已申报」，理由已记录。" in html
    assert "越过门槛</span> 市重点项目，先行申报" in html
    transition = db.session.scalars(
        select(StageTransition).order_by(StageTransition.id.desc())
    ).first()
    assert transition.is_override and transition.by_id == head.id


def test_a_bureau_head_cannot_override_the_graph(client, login_as, world):
    login_as("bureau_head")
    eid = world["enrollments"]["other"]
    response = move(client, eid, target="certified", override_reason="特批")
    assert response.status_code == 200
    assert current_stage(eid) == "reserve"


def test_the_move_form_suggests_reason_1_after_a_lapse(client, login_as, world):
    login_as("admin")
    eid = world["enrollments"]["own"]
    enrollment = db.session.get(Enrollment, eid)
    enrollment.stage = db.session.scalars(
        select(type(enrollment.stage)).filter_by(
            programme_id=enrollment.programme_id, code="lapsed"
        )
    ).one()
    db.session.commit()
    html = tab(client, world["own"])
    assert '<option selected value="1">' in html or '<option value="1" selected>' in html


# --- Who may post --------------------------------------------------------------------------------

#: role → (own firm, other firm) statuses: the tab, an empty enroll, an empty move, an override.
EXPECTED = {
    "admin": {"tab": (200, 200), "enroll": (400, 400), "move": (200, 200), "override": (200, 200)},
    "bureau_head": {
        "tab": (200, 200),
        "enroll": (403, 403),
        "move": (403, 403),
        "override": (302, 302),
    },
    "manager": {
        "tab": (200, 404),
        "enroll": (400, 404),
        "move": (200, 404),
        "override": (200, 404),
    },
    # The bureau's pages are not there for a firm's users, their own firm's included.
    "enterprise": {
        "tab": (404, 404),
        "enroll": (404, 404),
        "move": (404, 404),
        "override": (404, 404),
    },
}
CASES = [
    (role, which, action)
    for role in EXPECTED
    for which in ("own", "other")
    for action in ("tab", "enroll", "move", "override")
]


@pytest.mark.parametrize(("role", "which", "action"), CASES)
def test_role_route_statuses(client, login_as, world, role, which, action):
    login_as(user=user_for(role, world))
    firm, eid = world[which], world["enrollments"][which]
    if action == "tab":
        response = client.get(f"/firms/{firm.id}?tab=pipeline")
    elif action == "enroll":
        response = client.post(f"/pipeline/firms/{firm.id}/enroll", data={})
    elif action == "move":
        response = move(client, eid)
    else:
        response = move(client, eid, target="applied", override_reason="局领导决定")
    expected = EXPECTED[role][action][0 if which == "own" else 1]
    assert response.status_code == expected, (role, which, action, response.status_code)


def test_an_unknown_enrollment_is_404(client, login_as, world):
    login_as("admin")
    assert move(client, 999999, target="moved").status_code == 404


def test_the_change_history_names_the_stages_of_a_move(client, login_as, world):
    login_as(user=user_for("manager", world))
    move(client, world["enrollments"]["own"], target="closed", reason="企业注销")
    response = client.get(f"/firms/{world['own'].id}?tab=history")
    html = response.get_data(as_text=True)
    assert "培育记录" in html
    assert "高企后备库" in html and "注销" in html
    assert "#" + str(db.session.get(Enrollment, world["enrollments"]["own"]).stage_id) not in html
