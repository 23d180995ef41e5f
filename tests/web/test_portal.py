"""The portal over HTTP: what an enterprise user may open (its own firm's pages, nothing of the
bureau's), the firm filing requests, and the bureau's review writing them."""

import re
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import select

from crm.coaching import services as coaching
from crm.core.audit import AuditEntry
from crm.extensions import db
from crm.firms.models import FirmContact, FirmYear
from crm.portal import attachments, services
from crm.portal.access import ENTERPRISE_ENDPOINTS
from crm.portal.models import ChangeRequest
from tests import factories

#: The firm's own pages, each read by its enterprise user and by nobody on the staff.
OWN_PAGES = [
    "/portal/",
    "/portal/profile",
    "/portal/profile/edit",
    "/portal/contacts/new",
    "/portal/contacts/{contact}/edit",
    "/portal/years",
    "/portal/years/new",
    "/portal/years/{year}/edit",
    "/portal/ip",
    "/portal/ip/new",
    "/portal/ip/{ip}/edit",
    "/portal/requests",
    "/portal/requests/{request}",
]


@pytest.fixture
def world(app):
    home, away = factories.district("450403"), factories.district("450405")
    firm = factories.make_firm(district=home, notes="内部备注：老板难沟通")
    other = factories.make_firm(district=away)
    year = factories.make_year(firm, 2025)
    other_year = factories.make_year(other, 2025)
    ip = factories.make_ip(firm)
    contact = FirmContact(firm=firm, name="张三", role="总经理")
    db.session.add(contact)
    owner = factories.make_user("enterprise", firm_id=firm.id)
    stranger = factories.make_user("enterprise", firm_id=other.id)
    manager = factories.make_user("manager", districts=[home])
    db.session.flush()
    request = services.submit(firm, "contact", {"name": "李四"}, user=owner)
    other_request = services.submit(other, "contact", {"name": "王五"}, user=stranger)
    db.session.commit()
    return {
        "firm": firm,
        "other": other,
        "year": year,
        "other_year": other_year,
        "ip": ip,
        "contact": contact,
        "owner": owner,
        "stranger": stranger,
        "manager": manager,
        "request": request,
        "other_request": other_request,
    }


def _url(pattern, world):
    return pattern.format(
        contact=world["contact"].id,
        year=world["year"].id,
        ip=world["ip"].id,
        request=world["request"].id,
    )


@pytest.mark.parametrize("pattern", OWN_PAGES)
def test_the_firms_own_pages_open_for_its_user_and_for_no_one_on_the_staff(
    client, login_as, world, pattern
):
    url = _url(pattern, world)
    login_as(user=world["owner"])
    assert client.get(url).status_code == 200
    client.post("/logout")
    for role in ("admin", "bureau_head", "manager"):
        login_as(role)
        assert client.get(url).status_code == 404, (role, url)
        client.post("/logout")


def test_another_firms_rows_and_requests_answer_404(client, login_as, world):
    login_as(user=world["owner"])
    other_year, other_request = world["other_year"].id, world["other_request"].id
    assert client.get(f"/portal/years/{other_year}/edit").status_code == 404
    assert client.post(f"/portal/years/{other_year}/edit", data={}).status_code == 404
    assert client.get(f"/portal/requests/{other_request}").status_code == 404
    assert client.post(f"/portal/requests/{other_request}/withdraw").status_code == 404
    assert client.get(f"/portal/review/{other_request}").status_code == 404


def _fill(rule, world) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", str(world["firm"].id), rule.rule)


def test_every_page_not_listed_for_enterprises_answers_them_404(app, client, login_as, world):
    """The sweep over the whole URL map: whatever a page's own checks, an enterprise user
    asking for it gets 404, by GET and by POST."""
    login_as(user=world["owner"])
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ENTERPRISE_ENDPOINTS:
            continue
        url = _fill(rule, world)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked > 100


def test_the_index_sends_an_enterprise_user_home(client, login_as, world):
    login_as(user=world["owner"])
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")


def test_the_profile_shows_the_firm_but_not_the_bureaus_notes(client, login_as, world):
    login_as(user=world["owner"])
    page = client.get("/portal/profile").get_data(as_text=True)
    assert world["firm"].name in page
    assert "内部备注" not in page and "老板难沟通" not in page


def test_an_enterprise_user_without_a_live_firm_gets_404(client, login_as, world):
    login_as(user=world["owner"])
    world["firm"].deleted_at = world["firm"].created_at
    db.session.commit()
    assert client.get("/portal/").status_code == 404


def _year_form(row, **changes):
    fields = services.changes.KINDS["year"].fields
    data = {}
    for name in fields:
        value = getattr(row, name)
        if isinstance(value, Decimal):
            value = value / 10000
        data[name] = "" if value is None else str(value)
    data.update({k: str(v) for k, v in changes.items()})
    return data


def test_editing_figures_files_a_request_and_leaves_the_record(client, login_as, world):
    login_as(user=world["owner"])
    row = world["year"]
    response = client.post(
        f"/portal/years/{row.id}/edit", data=_year_form(row, rd_expense="200", note="按审计报告")
    )
    assert response.status_code == 302
    request = db.session.scalars(
        select(ChangeRequest).where(ChangeRequest.kind == "year").order_by(ChangeRequest.id.desc())
    ).first()
    assert [(i.field, i.new_value) for i in request.items] == [("rd_expense", "2000000")]
    assert request.note == "按审计报告"
    assert response.headers["Location"].endswith(f"/portal/requests/{request.id}")
    db.session.expire_all()
    assert db.session.get(FirmYear, row.id).rd_expense == Decimal("1600000")


def test_a_form_that_breaks_a_rule_says_so_in_chinese(client, login_as, world):
    login_as(user=world["owner"])
    row = world["year"]
    response = client.post(f"/portal/years/{row.id}/edit", data=_year_form(row, tech_staff="500"))
    assert response.status_code == 200
    assert "科技人员数不能超过职工总数" in response.get_data(as_text=True)
    assert "提交申请" in response.get_data(as_text=True)


def test_the_manager_approves_part_and_the_firm_sees_it(client, login_as, world):
    owner, manager = world["owner"], world["manager"]
    row = world["year"]
    proposed = {f: getattr(row, f) for f in services.changes.KINDS["year"].fields}
    proposed.update(rd_expense=Decimal("2000000"), tech_staff=20)
    request = services.submit(world["firm"], "year", proposed, user=owner, row=row)
    db.session.commit()

    login_as(user=manager)
    queue = client.get("/portal/review").get_data(as_text=True)
    assert request.title in queue
    detail = client.get(f"/portal/review/{request.id}").get_data(as_text=True)
    assert "研发费用" in detail and "160.00 万元" in detail and "200.00 万元" in detail
    refused = client.post(f"/portal/review/{request.id}", data={"approve": ["tech_staff"]})
    assert refused.status_code == 200 and "请填写审核意见" in refused.get_data(as_text=True)
    response = client.post(
        f"/portal/review/{request.id}",
        data={"approve": ["tech_staff"], "reason": "研发费用请补充审计报告"},
    )
    assert response.status_code == 302
    client.post("/logout")

    db.session.expire_all()
    assert db.session.get(FirmYear, row.id).tech_staff == 20
    assert db.session.get(FirmYear, row.id).rd_expense == Decimal("1600000")
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.source == f"portal:{request.id}")
    ).all()
    assert [(e.field, e.actor_id) for e in entries] == [("tech_staff", manager.id)]

    login_as(user=owner)
    home = client.get("/portal/").get_data(as_text=True)
    assert "已审核：部分通过" in home
    page = client.get(f"/portal/requests/{request.id}").get_data(as_text=True)
    assert "研发费用请补充审计报告" in page
    assert "已审核" not in client.get("/portal/").get_data(as_text=True).split("待办事项")[0]


def test_the_review_is_for_the_staff_who_reach_the_firm(client, login_as, world):
    request = world["request"]
    login_as("manager", districts=[world["other"].district])
    assert client.get(f"/portal/review/{request.id}").status_code == 404
    assert request.title not in client.get("/portal/review").get_data(as_text=True)
    client.post("/logout")
    login_as("bureau_head")
    assert client.get(f"/portal/review/{request.id}").status_code == 200
    assert (
        client.post(f"/portal/review/{request.id}", data={"approve": ["name"]}).status_code == 403
    )
    client.post("/logout")
    login_as("admin")
    assert (
        client.post(f"/portal/review/{request.id}", data={"approve": ["name"]}).status_code == 302
    )
    assert db.session.get(ChangeRequest, request.id).status == "approved"


def test_a_decided_request_cannot_be_decided_again(client, login_as, world):
    request = world["request"]
    services.decide(request, reviewer=world["manager"], approved={"name"})
    db.session.commit()
    login_as(user=world["manager"])
    response = client.post(
        f"/portal/review/{request.id}", data={"reason": "x"}, follow_redirects=True
    )
    assert "该申请已审核或已撤回" in response.get_data(as_text=True)
    assert db.session.get(ChangeRequest, request.id).status == "approved"


def test_the_firm_marks_an_assigned_measure_done(client, login_as, world):
    plan = coaching.create_plan(world["firm"], 2026, world["manager"])
    measure = coaching.add_measure(plan, {"title": "规范研发费用辅助账"})
    draft = coaching.create_plan(world["other"], 2026, world["manager"])
    plan.status = "active"
    db.session.commit()
    login_as(user=world["owner"])
    assert "规范研发费用辅助账" in client.get("/portal/").get_data(as_text=True)
    refused = client.post(
        f"/portal/measures/{measure.id}/done", data={"note": ""}, follow_redirects=True
    )
    assert "请简要说明完成情况" in refused.get_data(as_text=True)
    response = client.post(f"/portal/measures/{measure.id}/done", data={"note": "已建立辅助账"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (measure.status, measure.result) == ("done", "已建立辅助账")
    entry = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "coaching_measures", AuditEntry.field == "status"
        )
    ).one()
    assert (entry.source, entry.actor_id) == ("portal", world["owner"].id)
    other_measure = coaching.add_measure(draft, {"title": "别家的措施"})
    db.session.commit()
    assert (
        client.post(f"/portal/measures/{other_measure.id}/done", data={"note": "x"}).status_code
        == 404
    )


def test_a_supporting_file_goes_with_the_request_and_a_bad_one_files_nothing(
    client, login_as, world
):
    login_as(user=world["owner"])
    data = {"name": "赵六", "role": "财务负责人", "note": "新任财务负责人"}
    fake = {**data, "attachment": (BytesIO(b"MZ\x90\x00 not a pdf"), "任命书.pdf")}
    refused = client.post("/portal/contacts/new", data=fake, content_type="multipart/form-data")
    assert refused.status_code == 200
    assert "与文件内容" in refused.get_data(as_text=True) or "不支持该文件类型" in refused.get_data(
        as_text=True
    )
    assert (
        db.session.scalar(select(ChangeRequest).filter(ChangeRequest.title.contains("赵六")))
        is None
    )

    good = {**data, "attachment": (BytesIO(b"%PDF-1.4 appointment"), "任命书.pdf")}
    response = client.post("/portal/contacts/new", data=good, content_type="multipart/form-data")
    assert response.status_code == 302
    request = db.session.scalar(select(ChangeRequest).filter(ChangeRequest.title.contains("赵六")))
    [file] = attachments.attachments_of("request", [request.id])[request.id]
    assert file.filename == "任命书.pdf" and file.firm_id == world["firm"].id
    client.post("/logout")

    login_as(user=world["manager"])
    page = client.get(f"/portal/review/{request.id}").get_data(as_text=True)
    assert f"/portal/attachments/{file.id}" in page
    download = client.get(f"/portal/attachments/{file.id}")
    assert download.data == b"%PDF-1.4 appointment"
    download.close()
    client.post("/logout")
    login_as(user=world["stranger"])
    assert client.get(f"/portal/attachments/{file.id}").status_code == 404


def test_a_measure_reported_done_keeps_its_file(client, login_as, world):
    plan = coaching.create_plan(world["firm"], 2026, world["manager"])
    measure = coaching.add_measure(plan, {"title": "建立研发辅助账"})
    plan.status = "active"
    db.session.commit()
    login_as(user=world["owner"])
    data = {"note": "已建立", "attachment": (BytesIO(b"\x89PNG\r\n\x1a\n....."), "辅助账.png")}
    response = client.post(
        f"/portal/measures/{measure.id}/done", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    [file] = attachments.attachments_of("measure", [measure.id])[measure.id]
    assert file.content_type == "image/png"
    assert f"/portal/attachments/{file.id}" in client.get("/portal/").get_data(as_text=True)
