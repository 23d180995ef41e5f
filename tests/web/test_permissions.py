"""Role × route × own/other firm: who may read and change which firm, and what the others get.

A firm out of a user's reach answers 404 on every route, so its id does not leak; a firm the user
sees but may not change answers 403 on the routes that change it. These are the bureau's pages: to
an enterprise user (a firm's own) every one of them answers 404, its own firm's included; they
work on their firm in the portal (`crm/portal/access.py` lists the pages they may open).
"""

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.firms.models import Firm
from tests import factories

ROLES = ("admin", "bureau_head", "manager", "enterprise")

#: (method, path pattern, kind): "read" pages, "row" inline rows (a redirect to the tab outside
#: htmx), "write" changes, "admin" admin-only changes.
FIRM_ROUTES = [
    ("GET", "/firms/{firm}", "read"),
    ("GET", "/firms/{firm}?tab=years", "read"),
    ("GET", "/firms/{firm}?tab=ip", "read"),
    ("GET", "/firms/{firm}?tab=qualifications", "read"),
    ("GET", "/firms/{firm}?tab=history", "read"),
    ("GET", "/firms/{firm}/years/{year}", "row"),
    ("GET", "/firms/{firm}/ip/{ip}", "row"),
    ("GET", "/firms/{firm}/edit", "write"),
    ("POST", "/firms/{firm}/edit", "write"),
    ("POST", "/firms/{firm}/years", "write"),
    ("GET", "/firms/{firm}/years/{year}/edit", "write"),
    ("POST", "/firms/{firm}/years/{year}/edit", "write"),
    ("POST", "/firms/{firm}/years/{year}/delete", "write"),
    ("POST", "/firms/{firm}/ip", "write"),
    ("GET", "/firms/{firm}/ip/{ip}/edit", "write"),
    ("POST", "/firms/{firm}/ip/{ip}/edit", "write"),
    ("POST", "/firms/{firm}/ip/{ip}/delete", "write"),
    ("POST", "/firms/{firm}/contacts", "write"),
    ("POST", "/firms/{firm}/contacts/{contact}/delete", "write"),
    ("POST", "/firms/{firm}/qualifications", "write"),
    ("POST", "/firms/{firm}/qualifications/{qualification}/delete", "write"),
    ("POST", "/firms/{firm}/delete", "admin"),
]

#: What each role may do to its own firm (in its reach) and to another firm (outside it, except for
#: the roles that see every firm): the expected status, or "ok" for anything but 403 and 404.
EXPECTED = {
    ("admin", "own"): {"read": 200, "row": "ok", "write": "ok", "admin": "ok"},
    ("admin", "other"): {"read": 200, "row": "ok", "write": "ok", "admin": "ok"},
    ("bureau_head", "own"): {"read": 200, "row": "ok", "write": 403, "admin": 403},
    ("bureau_head", "other"): {"read": 200, "row": "ok", "write": 403, "admin": 403},
    ("manager", "own"): {"read": 200, "row": "ok", "write": "ok", "admin": 403},
    ("manager", "other"): {"read": 404, "row": 404, "write": 404, "admin": 403},
    ("enterprise", "own"): {"read": 404, "row": 404, "write": 404, "admin": 404},
    ("enterprise", "other"): {"read": 404, "row": 404, "write": 404, "admin": 404},
}


def _firm_with_records(district, **kwargs):
    firm = factories.make_firm(district=district, **kwargs)
    return {
        "firm": firm.id,
        "year": factories.make_year(firm, 2025).id,
        "ip": factories.make_ip(firm).id,
        "contact": _contact(firm).id,
        "qualification": factories.make_qualification(firm).id,
    }


def _contact(firm):
    from crm.firms.models import FirmContact

    contact = FirmContact(firm=firm, name="张三", role="总经理")
    db.session.add(contact)
    db.session.flush()
    return contact


@pytest.fixture
def world(app):
    """Two firms in two districts; a user of `role` whose reach includes only the first."""
    home, away = factories.district("450403"), factories.district("450405")
    own = _firm_with_records(home)
    other = _firm_with_records(away)
    db.session.commit()
    return {"home": home, "own": own, "other": other}


def _user_for(role, world):
    if role == "manager":
        return factories.make_user("manager", districts=[world["home"]])
    if role == "enterprise":
        return factories.make_user("enterprise", firm_id=world["own"]["firm"])
    return factories.make_user(role)


CASES = [
    (role, which, method, path, kind)
    for role in ROLES
    for which in ("own", "other")
    for method, path, kind in FIRM_ROUTES
]


@pytest.mark.parametrize(("role", "which", "method", "path", "kind"), CASES)
def test_role_route_firm_matrix(client, login_as, world, role, which, method, path, kind):
    user = _user_for(role, world)
    db.session.commit()
    login_as(user=user)
    url = path.format(**world[which])
    response = client.open(url, method=method, data={})
    expected = EXPECTED[(role, which)][kind]
    if expected == "ok":
        assert response.status_code not in (403, 404), (url, response.status_code)
        assert response.status_code < 500
    else:
        assert response.status_code == expected, (url, response.status_code)


def test_a_manager_also_reaches_firms_assigned_to_them_outside_their_districts(
    client, login_as, world
):
    manager = factories.make_user("manager", districts=[world["home"]])
    away_firm = factories.make_firm(district=factories.district("450481"), manager=manager)
    db.session.commit()
    login_as(user=manager)
    assert client.get(f"/firms/{away_firm.id}").status_code == 200
    assert client.get(f"/firms/{away_firm.id}/edit").status_code == 200
    assert client.get(f"/firms/{world['other']['firm']}").status_code == 404


def test_enterprise_cannot_open_another_firm_by_any_url(app, client, login_as, world):
    """Walk every firm route with the other firm's ids, then with its own: all 404, none 200,
    403 or 500 (its own firm is in the portal, not on these pages)."""
    user = _user_for("enterprise", world)
    db.session.commit()
    login_as(user=user)
    checked = 0
    for firm in (world["other"], world["own"]):
        for rule in app.url_map.iter_rules():
            if "firm_id" not in rule.arguments:
                continue
            url = rule.rule.replace("<int:firm_id>", str(firm["firm"]))
            url = url.replace("<int:row_id>", str(firm["year"]))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                response = client.open(url, method=method, data={})
                assert response.status_code == 404, (method, url, response.status_code)
                checked += 1
    assert checked >= 2 * 19
    db.session.expire_all()
    assert db.session.get(Firm, world["own"]["firm"]).deleted_at is None


def test_enterprise_sees_only_its_own_firm_in_the_list(client, login_as, world):
    user = _user_for("enterprise", world)
    db.session.commit()
    login_as(user=user)
    # The staff's list of firms is not there for them: not even their own firm is listed.
    response = client.get("/firms/")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert f"/firms/{world['own']['firm']}" not in page
    assert f"/firms/{world['other']['firm']}" not in page
    # Their own firm, and only it, is shown in the portal.
    own, other = (db.session.get(Firm, world[key]["firm"]) for key in ("own", "other"))
    response = client.get("/portal/profile")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert own.name in page and other.name not in page


@pytest.mark.parametrize("role", ["bureau_head", "manager", "enterprise"])
def test_only_admins_reach_the_user_pages(client, login_as, role):
    extra = {"firm": factories.make_firm()} if role == "enterprise" else {}
    login_as(role, **extra)
    refused = 404 if role == "enterprise" else 403  # no bureau page exists for a firm's users
    assert client.get("/admin/users").status_code == refused
    assert client.get("/admin/users/new").status_code == refused


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("manager", 200)])
def test_who_may_register_firms(client, login_as, role, status):
    login_as(role)
    assert client.get("/firms/new").status_code == status


@pytest.mark.parametrize("role", ["bureau_head", "enterprise"])
def test_readers_may_not_register_firms(client, login_as, role, world):
    user = _user_for(role, world)
    db.session.commit()
    login_as(user=user)
    refused = 404 if role == "enterprise" else 403  # no bureau page exists for a firm's users
    assert client.get("/firms/new").status_code == refused
    assert client.post("/firms/new", data={"name": "不应创建有限公司"}).status_code == refused
    assert db.session.scalar(select(Firm).filter_by(name="不应创建有限公司")) is None
