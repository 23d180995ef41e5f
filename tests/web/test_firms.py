"""The firm pages through the test client: list, detail tabs, create, edit, delete, restore."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from crm.coaching.models import Activity
from crm.core import clock
from crm.extensions import db
from crm.firms.models import Firm, FirmFormerName
from tests import factories


def firm_form(**overrides):
    """Return the posted fields of a valid firm form."""
    data = {
        "name": "梧州云帆科技有限公司",
        "uscc": factories.make_uscc(serial=987654),
        "legal_representative": "张三",
        "established_on": "2018-04-01",
        "registered_capital": "500",
        "address": "梧州市万秀区",
        "district_id": str(factories.district().id),
        "notes": "",
    }
    data.update(overrides)
    return data


def page_text(response) -> str:
    return response.get_data(as_text=True)


# The list -----------------------------------------------------------------------------------


def test_list_shows_firms_with_their_current_tiers(client, login_as):
    login_as("admin")
    firm = factories.make_firm(name="梧州列表科技有限公司")
    factories.make_qualification(firm, "tech_sme", clock.today().year)
    db.session.commit()
    body = page_text(client.get("/firms/"))
    assert "梧州列表科技有限公司" in body
    assert firm.uscc in body
    assert "科技型中小企业" in body
    assert "新建企业" in body
    assert "data-autosubmit" in body


def test_list_filters_narrow_by_district_and_tier(client, login_as):
    login_as("admin")
    other = factories.district("450405")
    hte = factories.make_firm(name="高企甲公司")
    factories.make_certificate(hte, clock.today())
    factories.make_firm(name="长洲乙公司", district=other)
    db.session.commit()
    body = page_text(client.get(f"/firms/?district={other.id}"))
    assert "长洲乙公司" in body and "高企甲公司" not in body
    body = page_text(client.get("/firms/?tier=hte"))
    assert "高企甲公司" in body and "长洲乙公司" not in body
    body = page_text(client.get("/firms/?district=junk&tier=junk"))
    assert "高企甲公司" in body and "长洲乙公司" in body


def test_search_finds_a_firm_by_uscc_typed_in_full_width_lower_case(client, login_as):
    login_as("admin")
    firm = factories.make_firm(name="梧州全角检索有限公司")
    factories.make_firm(name="梧州无关有限公司")
    db.session.commit()
    typed = "".join(chr(ord(c) + 0xFEE0) for c in firm.uscc.lower())
    body = page_text(client.get("/firms/", query_string={"q": f" {typed} "}))
    assert "梧州全角检索有限公司" in body
    assert "梧州无关有限公司" not in body


def test_list_sorts_by_whitelisted_columns_only(client, login_as):
    login_as("admin")
    factories.make_firm(name="Alpha 公司")
    factories.make_firm(name="Beta 公司")
    db.session.commit()
    body = page_text(client.get("/firms/?sort=-name"))
    assert body.index("Beta 公司") < body.index("Alpha 公司")
    body = page_text(client.get("/firms/?sort=password"))
    assert body.index("Alpha 公司") < body.index("Beta 公司")


def test_list_pages_by_fifty_and_knows_there_is_a_next_page(client, login_as):
    login_as("admin")
    for n in range(51):
        factories.make_firm(name=f"分页企业{n:03d}")
    db.session.commit()
    first = page_text(client.get("/firms/"))
    assert "分页企业049" in first and "分页企业050" not in first
    assert "page=2" in first
    second = page_text(client.get("/firms/?page=2"))
    assert "分页企业050" in second and "分页企业049" not in second
    assert "page=3" not in second


def test_manager_sees_firms_of_their_districts_and_assigned_to_them_only(client, login_as):
    mine, other = factories.district("450403"), factories.district("450405")
    manager = login_as("manager", districts=[mine])
    own = factories.make_firm(name="本区企业", district=mine)
    assigned = factories.make_firm(name="指派企业", district=other, manager=manager)
    foreign = factories.make_firm(name="他区企业", district=other)
    db.session.commit()
    body = page_text(client.get("/firms/"))
    assert "本区企业" in body and "指派企业" in body and "他区企业" not in body
    assert client.get(f"/firms/{own.id}").status_code == 200
    assert client.get(f"/firms/{assigned.id}").status_code == 200
    assert client.get(f"/firms/{foreign.id}").status_code == 404
    assert client.get(f"/firms/{foreign.id}/edit").status_code == 404


def test_enterprise_user_sees_only_their_own_firm_and_404_elsewhere(client, login_as):
    own = factories.make_firm(name="本企业")
    other = factories.make_firm(name="别家企业")
    year = factories.make_year(other, 2024)
    item = factories.make_ip(other)
    db.session.commit()
    login_as("enterprise", firm_id=own.id)
    # Their own firm is shown in the portal; the staff's firm pages are not there for them.
    response = client.get("/portal/profile")
    assert response.status_code == 200
    body = page_text(response)
    assert "本企业" in body and "别家企业" not in body
    assert client.get(f"/firms/{own.id}").status_code == 404
    response = client.get("/firms/")
    assert response.status_code == 404 and "别家企业" not in page_text(response)
    gets = [f"/firms/{other.id}", f"/firms/{other.id}/edit"]
    gets += [f"/firms/{other.id}?tab={t}" for t in ("profile", "years", "ip", "qualifications")]
    gets += [f"/firms/{other.id}?tab=history"]
    gets += [f"/firms/{other.id}/years/{year.id}", f"/firms/{other.id}/years/{year.id}/edit"]
    gets += [f"/firms/{other.id}/ip/{item.id}", f"/firms/{other.id}/ip/{item.id}/edit"]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        f"/firms/{other.id}/edit",
        f"/firms/{other.id}/years",
        f"/firms/{other.id}/years/{year.id}/edit",
        f"/firms/{other.id}/years/{year.id}/delete",
        f"/firms/{other.id}/ip",
        f"/firms/{other.id}/ip/{item.id}/edit",
        f"/firms/{other.id}/ip/{item.id}/delete",
        f"/firms/{other.id}/contacts",
        f"/firms/{other.id}/qualifications",
    ]
    for url in posts:
        assert client.post(url, data={}).status_code == 404, url
    assert client.get("/firms/new").status_code == 404


def test_enterprise_user_cannot_edit_their_own_firm_here(client, login_as):
    own = factories.make_firm()
    db.session.commit()
    login_as("enterprise", firm_id=own.id)
    # The staff's edit pages are not there for them: they propose changes in the portal.
    assert client.get(f"/firms/{own.id}/edit").status_code == 404
    assert client.post(f"/firms/{own.id}/edit", data=firm_form()).status_code == 404
    assert client.post(f"/firms/{own.id}/years", data={"new-year": "2024"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Firm, own.id).name != firm_form()["name"]
    assert db.session.get(Firm, own.id).years == []


def test_bureau_head_reads_everything_but_edit_routes_answer_403(client, login_as):
    login_as("bureau_head")
    firm = factories.make_firm(name="局领导查看企业")
    year = factories.make_year(firm, 2024)
    db.session.commit()
    body = page_text(client.get(f"/firms/{firm.id}?tab=years"))
    assert "局领导查看企业" in body
    assert "编辑企业信息" not in body and "添加年度" not in body
    assert f"/years/{year.id}/edit" not in body
    assert client.get(f"/firms/{firm.id}/edit").status_code == 403
    assert client.post(f"/firms/{firm.id}/edit", data=firm_form()).status_code == 403
    assert client.post(f"/firms/{firm.id}/years", data={"new-year": "2023"}).status_code == 403
    assert client.get(f"/firms/{firm.id}/years/{year.id}/edit").status_code == 403
    assert client.get("/firms/new").status_code == 403
    assert client.post(f"/firms/{firm.id}/delete").status_code == 403


# Create and edit ----------------------------------------------------------------------------


def test_admin_creates_a_firm_with_a_valid_uscc_stored_normalised(client, login_as):
    login_as("admin")
    code = factories.make_uscc(serial=13579)
    typed = " " + "".join(chr(ord(c) + 0xFEE0) for c in code.lower()) + " "
    response = client.post("/firms/new", data=firm_form(uscc=typed))
    assert response.status_code == 302
    firm = db.session.scalar(select(Firm).filter_by(name="梧州云帆科技有限公司"))
    assert response.headers["Location"].endswith(f"/firms/{firm.id}")
    assert firm.uscc == code
    assert firm.uscc_check_accepted is False
    assert firm.registered_capital == Decimal("5000000.00")


def test_uscc_of_wrong_length_or_characters_is_refused_in_chinese(client, login_as):
    login_as("admin")
    body = page_text(client.post("/firms/new", data=firm_form(uscc="91450403123")))
    assert "统一社会信用代码应为 18 位，当前为 11 位" in body
    body = page_text(client.post("/firms/new", data=firm_form(uscc="91450403MA5KXXXXXO")))
    assert "不允许的字符" in body and "O" in body
    assert db.session.scalars(select(Firm)).all() == []


def test_wrong_check_character_needs_explicit_acceptance(client, login_as):
    login_as("admin")
    good = factories.make_uscc(serial=24680)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    body = page_text(client.post("/firms/new", data=firm_form(uscc=bad)))
    assert "校验位不符" in body
    assert "我已核对，确认使用该代码" in body
    assert 'name="accept_uscc_warning"' in body
    assert db.session.scalars(select(Firm)).all() == []
    response = client.post("/firms/new", data=firm_form(uscc=bad, accept_uscc_warning="y"))
    assert response.status_code == 302
    firm = db.session.scalar(select(Firm))
    assert firm.uscc == bad and firm.uscc_check_accepted is True


def test_an_accepted_check_warning_is_not_asked_again_and_clears_when_fixed(client, login_as):
    login_as("admin")
    good = factories.make_uscc(serial=11223)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    firm = factories.make_firm(name="梧州校验位有限公司", uscc=bad, uscc_check_accepted=True)
    db.session.commit()
    data = firm_form(name=firm.name, uscc=bad, notes="再次保存")
    assert client.post(f"/firms/{firm.id}/edit", data=data).status_code == 302
    assert firm.uscc_check_accepted is True
    data = firm_form(name=firm.name, uscc=good)
    assert client.post(f"/firms/{firm.id}/edit", data=data).status_code == 302
    assert (firm.uscc, firm.uscc_check_accepted) == (good, False)


def test_duplicate_uscc_is_refused_with_a_link_to_the_existing_firm(client, login_as):
    login_as("admin")
    existing = factories.make_firm(name="已登记企业", deleted_at=datetime(2026, 1, 1))
    db.session.commit()
    body = page_text(client.post("/firms/new", data=firm_form(uscc=existing.uscc.lower())))
    assert "该统一社会信用代码已被其他企业使用" in body
    assert f'href="/firms/{existing.id}"' in body
    assert "已登记企业" in body
    assert len(db.session.scalars(select(Firm)).all()) == 1


def test_duplicate_uscc_of_an_unseen_firm_is_named_without_a_link(client, login_as):
    mine, other = factories.district("450403"), factories.district("450405")
    login_as("manager", districts=[mine])
    existing = factories.make_firm(name="看不见的企业", district=other)
    db.session.commit()
    body = page_text(client.post("/firms/new", data=firm_form(uscc=existing.uscc)))
    assert "该统一社会信用代码已被其他企业使用" in body
    assert f'href="/firms/{existing.id}"' not in body
    assert "看不见的企业" not in body


def test_manager_creating_a_firm_is_its_manager_by_default(client, login_as):
    mine = factories.district("450403")
    manager = login_as("manager", districts=[mine])
    body = page_text(client.get("/firms/new"))
    assert f'<option selected value="{manager.id}">' in body
    data = firm_form(manager_id=str(manager.id), district_id=str(mine.id))
    assert client.post("/firms/new", data=data).status_code == 302
    assert db.session.scalar(select(Firm)).manager_id == manager.id


def test_manager_cannot_create_a_firm_they_could_not_see(client, login_as):
    mine, other = factories.district("450403"), factories.district("450405")
    login_as("manager", districts=[mine])
    body = page_text(client.post("/firms/new", data=firm_form(district_id=str(other.id))))
    assert "您只能登记本人所负责区县的企业" in body
    assert db.session.scalars(select(Firm)).all() == []


def test_edit_records_audit_entries_shown_on_the_history_tab(client, login_as):
    admin = login_as("admin", name="钱管理员")
    firm = factories.make_firm(name="梧州审计展示有限公司", registered_capital=Decimal("1000000"))
    db.session.commit()
    data = firm_form(name=firm.name, uscc=firm.uscc, registered_capital="250", is_above_scale="y")
    assert client.post(f"/firms/{firm.id}/edit", data=data).status_code == 302
    body = page_text(client.get(f"/firms/{firm.id}?tab=history"))
    assert "网页" in body and admin.name in body
    assert "注册资本（万元）" in body
    assert "100.00 万元" in body and "250.00 万元" in body
    assert "规上企业" in body and "是" in body
    assert "新建" in body and "修改" in body


def test_an_enterprise_user_sees_neither_the_internal_notes_nor_the_change_log(client, login_as):
    firm = factories.make_firm(name="梧州自家历史有限公司", notes="拟推荐，法人沟通较难")
    factories.make_year(firm, 2024)
    db.session.add(
        Activity(firm_id=firm.id, kind="visit", occurred_on=date(2026, 5, 6), notes="走访密谈")
    )
    db.session.commit()
    login_as("enterprise", firm_id=firm.id)
    # The staff's firm page, its change log among its tabs, is not there for them.
    for url in (f"/firms/{firm.id}", f"/firms/{firm.id}?tab=history"):
        response = client.get(url)
        assert response.status_code == 404, url
        body = page_text(response)
        assert "梧州自家历史有限公司" not in body and "法人沟通较难" not in body
    # Their own profile in the portal shows the firm without the bureau's notes.
    response = client.get("/portal/profile")
    assert response.status_code == 200
    body = page_text(response)
    assert "梧州自家历史有限公司" in body
    assert "变更记录" not in body and "法人沟通较难" not in body and "走访密谈" not in body
    client.post("/logout")
    login_as("admin")
    body = page_text(client.get(f"/firms/{firm.id}?tab=history"))
    assert "走访记录" in body and "2024 年度" in body
    assert "法人沟通较难" in page_text(client.get(f"/firms/{firm.id}"))


def test_rename_keeps_the_former_name_searchable(client, login_as):
    login_as("admin")
    firm = factories.make_firm(name="梧州旧称有限公司")
    db.session.commit()
    data = firm_form(name="梧州新称有限公司", uscc=firm.uscc)
    assert client.post(f"/firms/{firm.id}/edit", data=data).status_code == 302
    former = db.session.scalar(select(FirmFormerName).filter_by(firm_id=firm.id))
    assert former.name == "梧州旧称有限公司"
    assert former.changed_on == clock.today()
    body = page_text(client.get("/firms/?q=旧称"))
    assert "梧州新称有限公司" in body
    assert "梧州旧称有限公司" in page_text(client.get(f"/firms/{firm.id}"))


def test_edit_form_shows_amounts_in_wan_and_saving_unchanged_changes_nothing(client, login_as):
    login_as("admin")
    firm = factories.make_firm(registered_capital=Decimal("1234.56"))
    db.session.commit()
    body = page_text(client.get(f"/firms/{firm.id}/edit"))
    assert 'value="0.123456"' in body
    data = firm_form(name=firm.name, uscc=firm.uscc, registered_capital="0.123456")
    data["district_id"] = str(firm.district_id)
    data["industry_id"] = str(firm.industry_id)
    data["tech_field_id"] = str(firm.tech_field_id)
    data["established_on"] = firm.established_on.isoformat()
    data["legal_representative"] = ""
    data["address"] = ""
    assert client.post(f"/firms/{firm.id}/edit", data=data).status_code == 302
    assert firm.registered_capital == Decimal("1234.56")


# Detail tabs --------------------------------------------------------------------------------


def test_detail_tabs_render_one_at_a_time(client, login_as):
    login_as("admin")
    firm = factories.make_firm(name="梧州标签页有限公司")
    factories.make_year(firm, 2024)
    factories.make_ip(firm, "software", title="测试软件 V1.0")
    factories.make_qualification(firm, "gazelle", 2025, number="LJ-001")
    db.session.commit()
    years = page_text(client.get(f"/firms/{firm.id}?tab=years"))
    assert "3,000.00" in years  # total revenue 30,000,000 yuan
    assert "5.5%" in years  # R&D 160 ÷ sales 2,900
    assert "15.0%" in years and "66.7%" in years
    assert "3,000.00" in years and "测试软件" not in years
    ip = page_text(client.get(f"/firms/{firm.id}?tab=ip"))
    assert "软件著作权" in ip and "II 类" in ip
    quals = page_text(client.get(f"/firms/{firm.id}?tab=qualifications"))
    assert "瞪羚企业" in quals and "LJ-001" in quals
    profile = page_text(client.get(f"/firms/{firm.id}?tab=nonsense"))
    assert "统一社会信用代码" in profile and "联系人" in profile


# Delete and restore -------------------------------------------------------------------------


def test_soft_delete_hides_the_firm_and_restore_brings_it_back(client, login_as):
    login_as("admin")
    firm = factories.make_firm(name="梧州删除恢复有限公司")
    db.session.commit()
    response = client.post(f"/firms/{firm.id}/delete")
    assert response.status_code == 302
    assert firm.deleted_at is not None
    link = f'href="/firms/{firm.id}"'
    assert link not in page_text(client.get("/firms/"))
    deleted_list = page_text(client.get("/firms/?deleted=1"))
    assert link in deleted_list and f"/firms/{firm.id}/restore" in deleted_list
    banner = page_text(client.get(f"/firms/{firm.id}"))
    assert "该企业已于" in banner
    assert client.get(f"/firms/{firm.id}/edit").status_code == 404
    assert client.post(f"/firms/{firm.id}/restore").status_code == 302
    assert firm.deleted_at is None
    assert link in page_text(client.get("/firms/"))


def test_deleted_firm_answers_404_to_a_manager(client, login_as):
    mine = factories.district("450403")
    login_as("manager", districts=[mine])
    firm = factories.make_firm(district=mine, deleted_at=datetime(2026, 1, 1))
    db.session.commit()
    assert client.get(f"/firms/{firm.id}").status_code == 404
    assert client.get(f"/firms/{firm.id}?tab=years").status_code == 404
    assert firm.name not in page_text(client.get("/firms/?deleted=1"))


def test_only_admins_delete_and_restore(client, login_as):
    mine = factories.district("450403")
    login_as("manager", districts=[mine])
    firm = factories.make_firm(district=mine)
    db.session.commit()
    assert client.post(f"/firms/{firm.id}/delete").status_code == 403
    assert client.post(f"/firms/{firm.id}/restore").status_code == 403
    assert firm.deleted_at is None


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/firms/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_firm_pages_are_never_stored_by_a_browser_or_proxy(client, login_as):
    login_as("admin")
    firm = factories.make_firm()
    for path in (
        "/firms/",
        f"/firms/{firm.id}",
        f"/firms/{firm.id}?tab=years",
        f"/firms/{firm.id}/edit",
        f"/coaching/firms/{firm.id}/activities/{factories.MISSING_ID}",
    ):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
    posted = client.post(f"/firms/{firm.id}/years", data={"new-year": "1900"})
    assert posted.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in client.get("/imports/").headers
