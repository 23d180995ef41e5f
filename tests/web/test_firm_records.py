"""In-place editing of a firm's yearly figures, IP items, contacts and qualifications."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.extensions import db
from crm.firms.models import FirmContact, FirmYear, IPItem, Qualification
from tests import factories

HTMX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def year_data(prefix="new", **overrides):
    """Return the posted fields of a valid year form (amounts in 万元)."""
    values = {
        "year": "2024",
        "total_revenue": "3000",
        "sales_revenue": "2900",
        "hightech_revenue": "2000",
        "rd_expense": "160",
        "domestic_rd_expense": "150",
        "total_assets": "5000",
        "total_liabilities": "2000",
        "total_staff": "100",
        "tech_staff": "15",
        "transformed_results": "3",
    }
    values.update(overrides)
    return {f"{prefix}-{k}": v for k, v in values.items()}


def ip_data(prefix="new", **overrides):
    values = {
        "kind": "invention",
        "number": "ZL202410000001",
        "title": "一种节能装置",
        "granted_on": "2024-05-06",
        "status": "valid",
        "acquisition": "own",
        "used_in_year": "",
    }
    values.update(overrides)
    return {f"{prefix}-{k}": v for k, v in values.items()}


@pytest.fixture
def firm(client, login_as):
    """Log in as an admin and return a firm to edit."""
    login_as("admin")
    firm = factories.make_firm(name="梧州年度数据有限公司")
    db.session.commit()
    return firm


# Yearly figures -----------------------------------------------------------------------------


def test_adding_a_year_with_htmx_returns_the_panel_with_the_new_row(client, firm):
    response = client.post(f"/firms/{firm.id}/years", data=year_data(), headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert 'id="years-panel"' in body and "<html" not in body
    row = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id))
    assert f'id="year-{row.id}"' in body
    assert row.total_revenue == Decimal("30000000.00")
    assert row.rd_expense == Decimal("1600000.00")
    assert row.tech_staff == 15
    assert "3,000.00" in body and "5.5%" in body


def test_adding_a_year_without_htmx_redirects_to_the_tab(client, firm):
    response = client.post(f"/firms/{firm.id}/years", data=year_data())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/firms/{firm.id}?tab=years")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"year": "1989"}, "年度应在 1990 至"),
        ({"year": str(clock.today().year + 2)}, "年度应在 1990 至"),
        ({"year": ""}, "请填写年度"),
        ({"total_revenue": "-1"}, "金额不能为负数"),
        ({"total_revenue": "abc"}, "不是有效的小数"),
        ({"tech_staff": "101"}, "科技人员数不能超过职工总数"),
        ({"domestic_rd_expense": "161"}, "境内研发费用不能超过研发费用"),
        ({"hightech_revenue": "3000.01"}, "高新技术产品（服务）收入不能超过总收入"),
        ({"total_staff": "-3"}, "请输入 0 及以上的整数"),
    ],
)
def test_invalid_years_are_refused_with_chinese_errors(client, firm, overrides, message):
    response = client.post(f"/firms/{firm.id}/years", data=year_data(**overrides), headers=HTMX)
    assert response.status_code == 200
    assert message in text(response)
    assert db.session.scalars(select(FirmYear)).all() == []


def test_a_year_can_only_be_recorded_once_per_firm(client, firm):
    factories.make_year(firm, 2024)
    db.session.commit()
    body = text(client.post(f"/firms/{firm.id}/years", data=year_data(), headers=HTMX))
    assert "2024 年度的数据已存在" in body
    assert len(db.session.scalars(select(FirmYear)).all()) == 1


def test_invalid_year_without_htmx_rerenders_the_whole_tab(client, firm):
    response = client.post(f"/firms/{firm.id}/years", data=year_data(year="1900"))
    assert response.status_code == 200
    body = text(response)
    assert "<html" in body and "年度应在 1990 至" in body


def test_editing_a_year_inline(client, firm):
    row = factories.make_year(firm, 2024)
    db.session.commit()
    form = text(client.get(f"/firms/{firm.id}/years/{row.id}/edit", headers=HTMX))
    assert f'id="year-{row.id}"' in form and 'value="3000"' in form
    data = year_data(prefix=f"row{row.id}", total_revenue="3500.5")
    response = client.post(f"/firms/{firm.id}/years/{row.id}/edit", data=data, headers=HTMX)
    assert response.status_code == 200
    assert "3,500.50" in text(response) and "<form" in text(response)  # the delete form
    assert row.total_revenue == Decimal("35005000.00")


def test_saving_an_invalid_edit_returns_the_form_with_errors(client, firm):
    row = factories.make_year(firm, 2024)
    factories.make_year(firm, 2023)
    db.session.commit()
    data = year_data(prefix=f"row{row.id}", year="2023")
    body = text(client.post(f"/firms/{firm.id}/years/{row.id}/edit", data=data, headers=HTMX))
    assert "2023 年度的数据已存在" in body
    assert 'class="table-warning"' in body
    assert row.year == 2024


def test_saving_a_year_unchanged_keeps_amounts_to_the_cent(client, firm):
    row = factories.make_year(firm, 2024, total_revenue=Decimal("1234.56"))
    db.session.commit()
    form = text(client.get(f"/firms/{firm.id}/years/{row.id}/edit", headers=HTMX))
    assert 'value="0.123456"' in form
    data = year_data(prefix=f"row{row.id}", total_revenue="0.123456", hightech_revenue="0")
    client.post(f"/firms/{firm.id}/years/{row.id}/edit", data=data, headers=HTMX)
    assert row.total_revenue == Decimal("1234.56")


def test_cancel_returns_the_display_row(client, firm):
    row = factories.make_year(firm, 2024)
    db.session.commit()
    body = text(client.get(f"/firms/{firm.id}/years/{row.id}", headers=HTMX))
    assert body.strip().startswith(f'<tr id="year-{row.id}">')
    assert "3,000.00" in body


def test_plain_get_of_the_edit_route_shows_the_tab_with_the_row_in_edit_mode(client, firm):
    row = factories.make_year(firm, 2024)
    db.session.commit()
    body = text(client.get(f"/firms/{firm.id}/years/{row.id}/edit"))
    assert "<html" in body and f'name="row{row.id}-year"' in body


def test_deleting_a_year_with_htmx_returns_nothing(client, firm):
    row = factories.make_year(firm, 2024)
    db.session.commit()
    response = client.post(f"/firms/{firm.id}/years/{row.id}/delete", headers=HTMX)
    assert response.status_code == 200 and text(response) == ""
    assert db.session.scalars(select(FirmYear)).all() == []


def test_a_year_of_one_firm_cannot_be_reached_through_another(client, firm):
    other = factories.make_firm()
    row = factories.make_year(firm, 2024)
    db.session.commit()
    base = f"/firms/{other.id}/years/{row.id}"
    assert client.get(base, headers=HTMX).status_code == 404
    assert client.get(f"{base}/edit", headers=HTMX).status_code == 404
    data = year_data(prefix=f"row{row.id}", total_revenue="1")
    assert client.post(f"{base}/edit", data=data, headers=HTMX).status_code == 404
    assert client.post(f"{base}/delete", headers=HTMX).status_code == 404
    assert row.total_revenue == Decimal("30000000")


def test_year_edits_appear_in_history(client, firm):
    row = factories.make_year(firm, 2024)
    db.session.commit()
    data = year_data(prefix=f"row{row.id}", rd_expense="200")
    client.post(f"/firms/{firm.id}/years/{row.id}/edit", data=data, headers=HTMX)
    body = text(client.get(f"/firms/{firm.id}?tab=history"))
    assert "年度数据" in body and "研发费用" in body
    assert "160.00 万元" in body and "200.00 万元" in body


# IP items -----------------------------------------------------------------------------------


def test_ip_add_edit_delete(client, firm):
    response = client.post(f"/firms/{firm.id}/ip", data=ip_data(), headers=HTMX)
    assert "一种节能装置" in text(response) and "发明专利" in text(response)
    item = db.session.scalar(select(IPItem))
    assert item.ip_class == "I"
    form = text(client.get(f"/firms/{firm.id}/ip/{item.id}/edit", headers=HTMX))
    assert 'value="一种节能装置"' in form
    data = ip_data(prefix=f"row{item.id}", kind="utility_model", status="expired")
    body = text(client.post(f"/firms/{firm.id}/ip/{item.id}/edit", data=data, headers=HTMX))
    assert "实用新型专利" in body and "失效" in body and "II 类" in body
    assert item.kind == "utility_model"
    assert client.post(f"/firms/{firm.id}/ip/{item.id}/delete", headers=HTMX).status_code == 200
    assert db.session.scalars(select(IPItem)).all() == []


def test_ip_with_unknown_kind_or_missing_title_is_refused(client, firm):
    body = text(client.post(f"/firms/{firm.id}/ip", data=ip_data(kind="trademark", title="")))
    assert "不是有效的选择" in body and "请填写名称" in body
    assert db.session.scalars(select(IPItem)).all() == []


def test_ip_of_another_firm_answers_404(client, firm):
    other = factories.make_firm()
    item = factories.make_ip(other)
    db.session.commit()
    assert client.get(f"/firms/{firm.id}/ip/{item.id}/edit", headers=HTMX).status_code == 404
    assert client.post(f"/firms/{firm.id}/ip/{item.id}/delete").status_code == 404


# Contacts and qualifications ----------------------------------------------------------------


def test_contacts_add_and_delete(client, firm):
    data = {"new-name": "韩梅梅", "new-role": "财务负责人", "new-phone": "13800000000"}
    body = text(client.post(f"/firms/{firm.id}/contacts", data=data, headers=HTMX))
    assert 'id="contacts-panel"' in body and "韩梅梅" in body
    contact = db.session.scalar(select(FirmContact))
    assert contact.role == "财务负责人"
    bad = text(client.post(f"/firms/{firm.id}/contacts", data={"new-email": "x"}, headers=HTMX))
    assert "请填写姓名" in bad and "电子邮箱格式不正确" in bad
    response = client.post(f"/firms/{firm.id}/contacts/{contact.id}/delete")
    assert response.status_code == 302
    assert db.session.scalars(select(FirmContact)).all() == []


def test_the_primary_contact_is_marked_the_first_one_until_another_is(client, firm):
    db.session.add_all([FirmContact(firm=firm, name="韩梅梅"), FirmContact(firm=firm, name="李雷")])
    db.session.commit()
    page = text(client.get(f"/firms/{firm.id}"))
    assert page.count("主要联系人</span>") == 1
    assert page.index("韩梅梅") < page.index("主要联系人</span>") < page.index("李雷")
    db.session.scalar(select(FirmContact).filter_by(name="李雷")).is_primary = True
    db.session.commit()
    page = text(client.get(f"/firms/{firm.id}"))
    assert page.count("主要联系人</span>") == 1
    assert page.index("李雷") < page.index("主要联系人</span>")


def test_qualifications_add_refuse_duplicates_and_delete(client, firm):
    data = {"new-tier": "srdi", "new-year": "2025", "new-number": "ZJTX2025001"}
    assert client.post(f"/firms/{firm.id}/qualifications", data=data).status_code == 302
    body = text(client.post(f"/firms/{firm.id}/qualifications", data=data, headers=HTMX))
    assert "2025 年度的“专精特新中小企业”资质已登记" in body
    qual = db.session.scalar(select(Qualification))
    response = client.post(f"/firms/{firm.id}/qualifications/{qual.id}/delete", headers=HTMX)
    assert response.status_code == 200
    assert db.session.scalars(select(Qualification)).all() == []


def test_the_hte_certificate_is_not_a_qualification_of_a_year(client, firm):
    data = {"new-tier": "hte", "new-year": "2025", "new-number": "GR202545000123"}
    page = client.get(f"/firms/{firm.id}?tab=qualifications").get_data(as_text=True)
    assert 'value="srdi"' in page and 'value="hte"' not in page
    response = client.post(f"/firms/{firm.id}/qualifications", data=data, headers=HTMX)
    assert response.status_code == 200
    assert db.session.scalar(select(Qualification)) is None


def test_a_contact_of_another_firm_cannot_be_deleted_through_this_one(client, firm):
    other = factories.make_firm()
    contact = FirmContact(firm=other, name="王五")
    db.session.add(contact)
    db.session.commit()
    assert client.post(f"/firms/{firm.id}/contacts/{contact.id}/delete").status_code == 404
    assert db.session.get(FirmContact, contact.id) is not None


def test_manager_edits_records_of_firms_in_their_districts(client, login_as):
    mine = factories.district("450403")
    login_as("manager", districts=[mine])
    firm = factories.make_firm(district=mine)
    db.session.commit()
    response = client.post(f"/firms/{firm.id}/years", data=year_data(), headers=HTMX)
    assert response.status_code == 200
    assert db.session.scalar(select(FirmYear)).firm_id == firm.id
