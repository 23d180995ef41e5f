"""Support ledger pages: who reaches which route, the tab's rows in place, the ledger, the rules.

The ledger is bureau staff's record: staff read it within their reach (404 outside it), read-only
roles get 403 on changes, and to enterprise users these pages are not there (404), even for
their own firm.
"""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.support import services
from crm.support.models import SubsidyRule, SupportEntry
from tests import factories

ROLES = ("admin", "bureau_head", "manager", "enterprise")
HTMX = {"HX-Request": "true"}
TOKEN = r'name="[\w-]*csrf_token" type="hidden" value="([^"]+)"'
PAID = {"status": "paid", "document_number": "梧科字〔2026〕3号", "paid_on": date(2026, 3, 1)}

ROUTES = [
    ("GET", "/support/firms/{firm}/entries/{entry}", "row"),
    ("POST", "/support/firms/{firm}/entries", "write"),
    ("GET", "/support/firms/{firm}/entries/{entry}/edit", "write"),
    ("POST", "/support/firms/{firm}/entries/{entry}/edit", "write"),
    ("POST", "/support/firms/{firm}/entries/{entry}/apply", "write"),
    ("GET", "/support/firms/{firm}/entries/{entry}/pay", "write"),
    ("POST", "/support/firms/{firm}/entries/{entry}/pay", "write"),
    ("POST", "/support/firms/{firm}/entries/{entry}/delete", "write"),
]

EXPECTED = {
    ("admin", "own"): {"row": "ok", "write": "ok"},
    ("admin", "other"): {"row": "ok", "write": "ok"},
    ("bureau_head", "own"): {"row": "ok", "write": 403},
    ("bureau_head", "other"): {"row": "ok", "write": 403},
    ("manager", "own"): {"row": "ok", "write": "ok"},
    ("manager", "other"): {"row": 404, "write": 404},
    ("enterprise", "own"): {"row": 404, "write": 404},
    ("enterprise", "other"): {"row": 404, "write": 404},
}


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(datetime(2026, 6, 15, 2, 0)):
        yield


def _entry(firm, **values) -> SupportEntry:
    base = {
        "kind": "rd_subsidy",
        "title": "研发经费投入后补助",
        "amount": Decimal("120000"),
        "granted_on": date(2026, 4, 1),
    }
    return services.add_entry(firm, {**base, **values})


def _rule_made(firm, title="辅导备案补助", granted_on=date(2026, 5, 1)) -> SupportEntry:
    rule = services.rule_for("listing:tutor", granted_on)
    entry = SupportEntry(
        firm_id=firm.id,
        kind=rule.kind,
        title=title,
        amount=rule.amount,
        granted_on=granted_on,
        status="claimable",
        rule_id=rule.id,
        trigger_key=f"transition:{firm.id}",
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@pytest.fixture
def world(app):
    """A firm with ledger entries in the manager's district, and one in another district."""
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home, name="梧州本区科技有限公司")
    other = factories.make_firm(district=away, name="长洲外区科技有限公司")
    world = {"home": home, "away": away, "own_firm": own, "other_firm": other}
    for key, firm in (("own", own), ("other", other)):
        world[key] = {"firm": firm.id, "entry": _entry(firm).id}
    world["own"]["rule_entry"] = _rule_made(own).id
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
        entry = db.session.get(SupportEntry, world[which]["entry"])
        assert (entry.status, entry.amount) == ("claimable", Decimal("120000.00"))


@pytest.mark.parametrize("action", ["edit", "apply", "pay", "delete"])
def test_an_entry_of_another_firm_answers_404_through_this_firms_address(
    client, login_as, world, action
):
    login_as("admin")
    url = f"/support/firms/{world['own']['firm']}/entries/{world['other']['entry']}/{action}"
    assert client.post(url, data={}).status_code == 404
    assert db.session.get(SupportEntry, world["other"]["entry"]).status == "claimable"


def test_an_unknown_entry_answers_404(client, login_as, world):
    login_as("admin")
    assert client.get(f"/support/firms/{world['own']['firm']}/entries/999999").status_code == 404


# --- The firm's tab ------------------------------------------------------------------------------


def _tab(client, world):
    return client.get(f"/firms/{world['own']['firm']}?tab=support").get_data(as_text=True)


def test_the_tab_shows_entries_and_totals_without_inline_scripts_or_styles(client, login_as, world):
    _login(login_as, "manager", world)
    page = _tab(client, world)
    for text in (
        "扶持台账",
        "研发经费投入后补助",
        "辅导备案补助",
        "登记扶持",
        "标记已申请",
        "规则",
    ):
        assert text in page
    assert "620,000.00" in page  # 120,000 by hand + 500,000 from the listing rule, both claimable
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page


def test_rule_made_rows_offer_no_delete(client, login_as, world):
    _login(login_as, "manager", world)
    page = _tab(client, world)
    own = world["own"]
    assert f"/entries/{own['entry']}/delete" in page
    assert f"/entries/{own['rule_entry']}/delete" not in page
    assert f"/entries/{own['rule_entry']}/edit" in page


def test_a_bureau_head_reads_the_tab_without_edit_controls(client, login_as, world):
    _login(login_as, "bureau_head", world)
    page = _tab(client, world)
    assert "研发经费投入后补助" in page
    for text in ("登记扶持</button>", "标记已申请", "登记拨付", "编辑"):
        assert text not in page


def test_enterprise_users_do_not_get_the_tab(client, login_as, world):
    _login(login_as, "enterprise", world)
    response = client.get(f"/firms/{world['own']['firm']}?tab=support")
    assert response.status_code == 404  # the bureau's firm page, its tabs included
    page = response.get_data(as_text=True)
    assert "扶持台账" not in page and "研发经费投入后补助" not in page


def test_htmx_adds_an_entry_typed_in_wan_and_refreshes_the_panel(client, login_as, world):
    _login(login_as, "manager", world)
    firm = world["own"]["firm"]
    response = client.post(
        f"/support/firms/{firm}/entries",
        data={
            "new-kind": "voucher",
            "new-title": "创新券（检验检测）",
            "new-amount": "５万",
            "new-granted_on": "2026-06-01",
            "new-status": "claimable",
        },
        headers=HTMX,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.lstrip().startswith('<div id="support-panel">')
    assert "创新券（检验检测）" in page and "50,000.00" in page
    entry = db.session.scalar(select(SupportEntry).filter_by(kind="voucher"))
    assert (entry.amount, entry.granted_on, entry.firm_id) == (
        Decimal("50000.00"),
        date(2026, 6, 1),
        firm,
    )


def test_a_bad_amount_is_explained_and_nothing_is_added(client, login_as, world):
    _login(login_as, "manager", world)
    before = db.session.query(SupportEntry).count()
    response = client.post(
        f"/support/firms/{world['own']['firm']}/entries",
        data={"new-kind": "other", "new-title": "奖励", "new-amount": "12.345",
              "new-granted_on": "2026-06-01", "new-status": "claimable"},
        headers=HTMX,
    )  # fmt: skip
    assert "金额最多精确到分（元以下两位小数）" in response.get_data(as_text=True)
    response = client.post(
        f"/support/firms/{world['own']['firm']}/entries",
        data={"new-kind": "other", "new-title": "奖励", "new-amount": "-5",
              "new-granted_on": "2026-06-01", "new-status": "claimable"},
    )  # fmt: skip
    assert response.status_code == 200 and "金额不能为负数" in response.get_data(as_text=True)
    assert db.session.query(SupportEntry).count() == before


def test_adding_a_paid_entry_needs_the_document_number_and_date(client, login_as, world):
    _login(login_as, "manager", world)
    data = {"new-kind": "rd_subsidy", "new-title": "研发后补助", "new-amount": "80000",
            "new-granted_on": "2026-03-01", "new-status": "paid"}  # fmt: skip
    page = client.post(
        f"/support/firms/{world['own']['firm']}/entries", data=data, headers=HTMX
    ).get_data(as_text=True)
    assert "已拨付的扶持需填写拨付文号" in page and "已拨付的扶持需填写拨付日期" in page
    data |= {"new-document_number": "梧科字〔2026〕9号", "new-paid_on": "2026-03-20"}
    response = client.post(f"/support/firms/{world['own']['firm']}/entries", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/firms/{world['own']['firm']}?tab=support")
    entry = db.session.scalar(select(SupportEntry).filter_by(title="研发后补助"))
    assert (entry.status, entry.paid_on) == ("paid", date(2026, 3, 20))


def test_htmx_edits_a_rule_made_row_in_place_and_keeps_its_kind(client, login_as, world):
    _login(login_as, "manager", world)
    firm, entry_id = world["own"]["firm"], world["own"]["rule_entry"]
    url = f"/support/firms/{firm}/entries/{entry_id}/edit"
    form = client.get(url, headers=HTMX).get_data(as_text=True)
    assert form.lstrip().startswith(f'<tr id="entry-{entry_id}"') and "500,000.00" in form
    assert f'name="row{entry_id}-kind"' not in form and "由扶持规则“辅导备案补助”生成" in form
    response = client.post(
        url,
        data={
            f"row{entry_id}-kind": "other",
            f"row{entry_id}-title": "辅导备案补助",
            f"row{entry_id}-amount": "450,000",
            f"row{entry_id}-granted_on": "2026-05-01",
            f"row{entry_id}-status": "claimable",
            f"row{entry_id}-notes": "按核定金额",
        },
        headers=HTMX,
    )
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith(f'<tr id="entry-{entry_id}"')
    assert 'id="support-totals"' in page and 'hx-swap-oob="true"' in page
    assert "570,000.00" in page  # the refreshed claimable total
    entry = db.session.get(SupportEntry, entry_id)
    assert (entry.kind, entry.amount, entry.notes) == (
        "listing_subsidy",
        Decimal("450000.00"),
        "按核定金额",
    )


def test_the_cancel_of_an_inline_form_returns_the_row(client, login_as, world):
    _login(login_as, "bureau_head", world)
    url = f"/support/firms/{world['own']['firm']}/entries/{world['own']['entry']}"
    page = client.get(url, headers=HTMX).get_data(as_text=True)
    assert (
        page.lstrip().startswith(f'<tr id="entry-{world["own"]["entry"]}"')
        and "研发经费投入后补助" in page
    )
    assert client.get(url).status_code == 302


def test_marking_applied_then_paid_in_place(client, login_as, world):
    _login(login_as, "manager", world)
    firm, entry_id = world["own"]["firm"], world["own"]["entry"]
    base = f"/support/firms/{firm}/entries/{entry_id}"
    page = client.post(f"{base}/apply", headers=HTMX).get_data(as_text=True)
    assert "已申请" in page and "标记已申请" not in page.split("support-totals")[0]
    again = client.post(f"{base}/apply", headers=HTMX)
    assert again.status_code == 400 and "只有可申领的扶持" in again.get_json()["message"]
    form = client.get(f"{base}/pay", headers=HTMX).get_data(as_text=True)
    assert "确认已拨付" in form and 'value="2026-06-15"' in form
    refused = client.post(
        f"{base}/pay",
        data={f"pay{entry_id}-document_number": "", f"pay{entry_id}-paid_on": "2026-06-20"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert "请填写拨付文号" in refused and "拨付日期不能晚于今天" in refused
    assert db.session.get(SupportEntry, entry_id).status == "applied"
    page = client.post(
        f"{base}/pay",
        data={
            f"pay{entry_id}-document_number": "梧科字〔2026〕15号",
            f"pay{entry_id}-paid_on": "2026-06-10",
        },
        headers=HTMX,
    ).get_data(as_text=True)
    assert "已拨付" in page and "梧科字〔2026〕15号" in page and "2026-06-10" in page
    entry = db.session.get(SupportEntry, entry_id)
    assert (entry.status, entry.document_number, entry.paid_on) == (
        "paid",
        "梧科字〔2026〕15号",
        date(2026, 6, 10),
    )


def test_deleting_a_hand_made_entry_refreshes_the_totals(client, login_as, world):
    _login(login_as, "manager", world)
    firm, entry_id = world["own"]["firm"], world["own"]["entry"]
    response = client.post(f"/support/firms/{firm}/entries/{entry_id}/delete", headers=HTMX)
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="support-totals"') and "500,000.00" in page
    assert db.session.get(SupportEntry, entry_id) is None


def test_a_rule_made_entry_cannot_be_deleted(client, login_as, world):
    _login(login_as, "manager", world)
    firm, entry_id = world["own"]["firm"], world["own"]["rule_entry"]
    url = f"/support/firms/{firm}/entries/{entry_id}/delete"
    response = client.post(url, headers=HTMX)
    assert response.status_code == 400
    assert "由扶持规则生成的记录不能删除" in response.get_json()["message"]
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "由扶持规则生成的记录不能删除" in page
    assert db.session.get(SupportEntry, entry_id) is not None


def test_posts_need_the_csrf_token(app, client, login_as, world):
    login_as("admin")
    # Flask-WTF reads the setting on every request, so the test app can turn the check back on.
    app.config["WTF_CSRF_ENABLED"] = True
    firm = world["own"]["firm"]
    url = f"/support/firms/{firm}/entries"
    data = {"new-kind": "other", "new-title": "CSRF 测试", "new-amount": "1000",
            "new-granted_on": "2026-06-01", "new-status": "claimable"}  # fmt: skip
    assert client.post(url, data=data).status_code == 400
    assert client.post(f"{url}/{world['own']['entry']}/apply").status_code == 400
    rule = db.session.scalar(select(SubsidyRule).filter_by(event="listing:listed"))
    assert client.post(f"/support/rules/{rule.id}/toggle").status_code == 400
    assert db.session.scalar(select(SupportEntry).filter_by(title="CSRF 测试")) is None
    assert db.session.get(SupportEntry, world["own"]["entry"]).status == "claimable"
    assert rule.is_active
    page = client.get(f"/firms/{firm}?tab=support").get_data(as_text=True)
    token = re.search(TOKEN, page).group(1)
    assert client.post(url, data={**data, "new-csrf_token": token}).status_code == 302
    assert db.session.scalar(select(SupportEntry).filter_by(title="CSRF 测试")) is not None


# --- The ledger ----------------------------------------------------------------------------------


@pytest.fixture
def ledger(world):
    """More entries: paid and older ones, a voucher, and an entry of a deleted firm."""
    own, other = world["own_firm"], world["other_firm"]
    _entry(own, title="2024 年研发后补助", granted_on=date(2024, 5, 1), **PAID)
    _entry(other, kind="voucher", title="创新券", amount=Decimal("30000"), **PAID)
    gone = factories.make_firm(district=world["home"], deleted_at=datetime(2026, 1, 1))
    _entry(gone, title="已删除企业的补助")
    db.session.commit()
    return world


def _ledger(client, query=""):
    response = client.get(f"/support/?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("bureau_head", 200), ("manager", 200), ("enterprise", 404)],
)
def test_the_ledger_is_for_staff(client, login_as, world, role, status):
    _login(login_as, role, world)
    assert client.get("/support/").status_code == status


def test_the_ledger_lists_the_entries_in_reach_with_totals(client, login_as, ledger):
    login_as("bureau_head")
    page = _ledger(client)
    assert "梧州本区科技有限公司" in page and "长洲外区科技有限公司" in page
    assert "已删除企业的补助" not in page
    # claimable: 120,000 + 120,000 + 500,000; paid: 120,000 + 30,000
    assert "740,000.00" in page and "150,000.00" in page and "890,000.00" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page


def test_a_manager_sees_only_the_ledger_of_their_firms(client, login_as, ledger):
    _login(login_as, "manager", ledger)
    page = _ledger(client)
    assert "梧州本区科技有限公司" in page and "长洲外区科技有限公司" not in page
    assert "创新券" not in page.split("<tbody>")[1]
    assert "620,000.00" in page and "120,000.00" in page


def test_the_ledger_filters_by_year_district_kind_status_and_name(client, login_as, ledger):
    login_as("admin")
    page = _ledger(client, "year=2024")
    assert "2024 年研发后补助" in page and "辅导备案补助" not in page
    page = _ledger(client, f"district={ledger['away'].id}")
    assert "长洲外区科技有限公司" in page and "梧州本区科技有限公司" not in page
    body = _ledger(client, "kind=listing_subsidy").split("<tbody>")[1]
    assert "辅导备案补助" in body and "研发经费投入后补助" not in body
    page = _ledger(client, "status=paid")
    body = page.split("<tbody>")[1]
    assert "创新券" in body and "2024 年研发后补助" in body and "辅导备案补助" not in body
    page = _ledger(client, "q=外区")
    body = page.split("<tbody>")[1]
    assert "长洲外区科技有限公司" in body and "梧州本区科技有限公司" not in body
    assert "120,000.00" in page and "30,000.00" in page and "150,000.00" in page


def test_the_ledger_totals_cover_the_whole_filtered_set_not_the_page(app, client, login_as, ledger):
    app.config["SUPPORT_PER_PAGE"] = 2
    login_as("admin")
    first = _ledger(client)
    assert "第 1 页" in first and "890,000.00" in first
    rows = first.split("<tbody>")[1].count("<tr>")
    assert rows == 2
    second = _ledger(client, "page=3")
    assert second.split("<tbody>")[1].count("<tr>") == 1 and "890,000.00" in second


# --- The rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "list_status", "new_status"),
    [
        ("admin", 200, 200),
        ("bureau_head", 200, 403),
        ("manager", 403, 403),
        ("enterprise", 404, 404),  # the bureau's pages are not there for a firm's users
    ],
)
def test_rules_are_read_by_heads_and_changed_by_admins(
    client, login_as, world, role, list_status, new_status
):
    _login(login_as, role, world)
    rule = db.session.scalar(select(SubsidyRule.id).filter_by(event="listing:tutor"))
    assert client.get("/support/rules").status_code == list_status
    assert client.get("/support/rules/new").status_code == new_status
    assert client.get(f"/support/rules/{rule}/revise").status_code == new_status
    assert client.post(f"/support/rules/{rule}/toggle").status_code in (
        (302,) if new_status == 200 else (new_status,)
    )


def test_the_rules_page_shows_each_events_versions_and_the_one_in_force(client, login_as, app):
    login_as("bureau_head")
    page = client.get("/support/rules").get_data(as_text=True)
    for text in ("上市后备：辅导备案", "辅导备案补助", "500,000.00", "2,000,000.00", "当前施行"):
        assert text in page
    assert "高企：首次认定" in page and "待定" in page
    assert "修订为新版本" not in page and "新增规则" not in page


def test_an_admin_revises_a_rule_as_a_new_version(client, login_as, world):
    login_as("admin")
    rule = db.session.scalar(select(SubsidyRule).filter_by(event="listing:tutor"))
    url = f"/support/rules/{rule.id}/revise"
    form = client.get(url).get_data(as_text=True)
    assert 'value="500,000.00"' in form and 'value="2026-06-15"' in form
    data = {
        "name": "辅导备案补助",
        "kind": "listing_subsidy",
        "amount": "80万",
        "effective_from": "2017-01-01",
        "basis": "梧政办发〔2026〕1号",
        "is_active": "y",
    }
    page = client.post(url, data=data).get_data(as_text=True)
    assert "新版本的生效日期须晚于原版本的生效日期 2017-01-01" in page
    response = client.post(url, data={**data, "effective_from": "2026-07-01"})
    assert response.status_code == 302
    versions = db.session.scalars(
        select(SubsidyRule).filter_by(event="listing:tutor").order_by(SubsidyRule.id)
    ).all()
    assert [(v.amount, v.effective_from) for v in versions] == [
        (Decimal("500000.00"), date(2017, 1, 1)),
        (Decimal("800000.00"), date(2026, 7, 1)),
    ]
    page = client.get("/support/rules").get_data(as_text=True)
    assert "待施行" in page and "800,000.00" in page
    entry = db.session.get(SupportEntry, world["own"]["rule_entry"])
    assert entry.amount == Decimal("500000.00")


def test_an_admin_adds_a_rule_with_an_undecided_amount(client, login_as, app):
    login_as("admin")
    form = client.get("/support/rules/new?event=listing:regional").get_data(as_text=True)
    assert '<option selected value="listing:regional">' in form
    assert '<option selected value="listing_subsidy">' in form
    page = client.post("/support/rules/new", data={"name": "", "event": "listing:regional",
                       "kind": "listing_subsidy", "amount": "五万",
                       "effective_from": "2026-01-01"}).get_data(as_text=True)  # fmt: skip
    assert "请填写规则名称" in page and "请输入金额" in page
    response = client.post(
        "/support/rules/new",
        data={
            "name": "北部湾股权交易所挂牌奖励",
            "event": "listing:regional",
            "kind": "listing_subsidy",
            "amount": "",
            "effective_from": "2026-01-01",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    rule = db.session.scalar(select(SubsidyRule).filter_by(event="listing:regional"))
    assert (rule.name, rule.amount, rule.is_active) == ("北部湾股权交易所挂牌奖励", None, True)
    assert services.rule_for("listing:regional", date(2026, 6, 15)).id == rule.id


def test_an_admin_switches_a_rule_off_and_on(client, login_as, app):
    login_as("admin")
    rule = db.session.scalar(select(SubsidyRule).filter_by(event="listing:listed"))
    response = client.post(f"/support/rules/{rule.id}/toggle", follow_redirects=True)
    assert "已停用扶持规则“上市奖励”" in response.get_data(as_text=True)
    db.session.refresh(rule)
    assert rule.is_active is False
    client.post(f"/support/rules/{rule.id}/toggle")
    db.session.refresh(rule)
    assert rule.is_active is True
    assert client.post("/support/rules/999999/toggle").status_code == 404


def test_the_nav_links_the_ledger_and_the_rules_by_role(client, login_as, world):
    _login(login_as, "manager", world)
    page = client.get("/support/").get_data(as_text=True)
    assert 'href="/support/"' in page and 'href="/support/rules"' not in page
    client.post("/logout")
    login_as("bureau_head")
    page = client.get("/support/").get_data(as_text=True)
    assert 'href="/support/"' in page and 'href="/support/rules"' in page
