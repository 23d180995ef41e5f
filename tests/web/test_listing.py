"""The listing case on the 培育进程 tab: who may save it, its checks, and the broker gate."""

import re
from datetime import date, datetime

import pytest

from crm.core import clock
from crm.extensions import db
from crm.listing.models import ListingCase
from crm.pipeline.models import Enrollment
from crm.pipeline.services import GateRefused, MoveInputs, enroll_firm, move_firm
from tests import factories
from tests.conftest import make_app

TOKEN = r'name="[\w-]*csrf_token" type="hidden" value="([^"]+)"'

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def world(app):
    """A listing-pool firm in the manager's district and one in another district."""
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home, is_above_scale=True)
    other = factories.make_firm(district=away, is_above_scale=True)
    db.session.commit()
    ids = {}
    for key, firm in (("own", own), ("other", other)):
        result = enroll_firm(firm, "listing", "pool", MoveInputs(moved_on=date(2026, 3, 1)), None)
        ids[key] = result.enrollment.id
    db.session.commit()
    return {"home": home, "own": own, "other": other, "enrollments": ids}


def save(client, enrollment_id, **fields):
    data = {f"case-{enrollment_id}-{k}": v for k, v in fields.items()}
    return client.post(f"/listing/enrollments/{enrollment_id}/case", data=data)


def case_of(enrollment_id):
    db.session.expire_all()
    return db.session.query(ListingCase).filter_by(enrollment_id=enrollment_id).one_or_none()


def test_a_manager_records_the_market_and_intermediaries(client, login_as, world):
    login_as("manager", districts=[world["home"]])
    enrollment_id = world["enrollments"]["own"]
    response = save(
        client,
        enrollment_id,
        target_market="bse",
        sponsor_broker="桂海证券股份有限公司",
        law_firm="广西正理律师事务所",
        audit_firm="大信华会计师事务所",
        stock_code="",
    )
    assert response.status_code == 302
    case = case_of(enrollment_id)
    assert (case.target_market, case.sponsor_broker, case.firm_id) == (
        "bse",
        "桂海证券股份有限公司",
        world["own"].id,
    )
    html = client.get(f"/firms/{world['own'].id}?tab=pipeline").get_data(as_text=True)
    assert "北交所" in html and "广西正理律师事务所" in html


def test_a_second_save_updates_the_same_case(client, login_as, world):
    login_as("manager", districts=[world["home"]])
    enrollment_id = world["enrollments"]["own"]
    save(client, enrollment_id, target_market="chinext", sponsor_broker="甲证券")
    save(client, enrollment_id, target_market="star", sponsor_broker="乙证券")
    assert db.session.query(ListingCase).count() == 1
    assert case_of(enrollment_id).target_market == "star"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stock_code": "83012"}, "证券代码应为 6 位数字"),
        ({"target_market": "bse", "neeq_tier": "innovation"}, "仅拟在新三板挂牌的企业需选择分层"),
    ],
)
def test_bad_case_input_is_refused_with_a_message(client, login_as, world, fields, message):
    login_as("manager", districts=[world["home"]])
    response = save(client, world["enrollments"]["own"], **fields)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert case_of(world["enrollments"]["own"]) is None


def test_signing_with_a_broker_needs_the_broker_on_the_case(app, world):
    enrollment = db.session.get(Enrollment, world["enrollments"]["own"])
    inputs = MoveInputs(document_number="梧金融〔2026〕3号", document_on=date(2026, 6, 1))
    with pytest.raises(GateRefused) as refused:
        move_firm(enrollment, "sign", inputs, None)
    assert refused.value.messages == ["转入「券商签约」需先在上市案卷中填写保荐券商"]
    db.session.rollback()
    enrollment = db.session.get(Enrollment, world["enrollments"]["own"])
    db.session.add(
        ListingCase(
            enrollment_id=enrollment.id, firm_id=enrollment.firm_id, sponsor_broker="甲证券"
        )
    )
    result = move_firm(enrollment, "sign", inputs, None)
    assert result.enrollment.stage.code == "sign"
    assert result.transition.document_number == "梧金融〔2026〕3号"


@pytest.mark.parametrize(
    ("role", "key", "status"),
    [
        ("manager", "other", 404),
        ("enterprise", "own", 404),  # the bureau's pages are not there for a firm's users
        ("bureau_head", "own", 403),
        ("admin", "other", 302),
    ],
)
def test_only_editors_of_the_firm_save_its_case(client, login_as, world, role, key, status):
    extra = {"districts": [world["home"]]} if role == "manager" else {}
    if role == "enterprise":
        extra = {"firm_id": world["own"].id}
    login_as(role, **extra)
    response = save(client, world["enrollments"][key], target_market="bse")
    assert response.status_code == status
    assert (case_of(world["enrollments"][key]) is not None) is (status == 302)


def test_a_high_tech_enrollment_has_no_listing_case(client, login_as, world):
    login_as("admin")
    firm = world["own"]
    hte = enroll_firm(firm, "hte", "prospect", MoveInputs(), None).enrollment
    db.session.commit()
    assert save(client, hte.id, target_market="bse").status_code == 404


def test_saving_a_case_needs_the_csrf_token(app, database_url, world):
    admin = factories.make_user("admin")
    db.session.commit()
    enrollment_id = world["enrollments"]["own"]
    # Read what the guarded app needs first: an expired row refreshed inside its context would
    # borrow a connection of the guarded engine for the outer session, and leave it open.
    username, firm_id = admin.username, world["own"].id
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(TOKEN, page).group(1)
        data = {"username": username, "password": factories.PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
        assert save(client, enrollment_id, target_market="bse").status_code == 400
        assert case_of(enrollment_id) is None
        page = client.get(f"/firms/{firm_id}?tab=pipeline").get_data(as_text=True)
        token = re.search(TOKEN, page).group(1)
        response = save(client, enrollment_id, target_market="bse", csrf_token=token)
        assert response.status_code == 302
        assert case_of(enrollment_id).target_market == "bse"
        db.session.remove()
        db.engine.dispose()
