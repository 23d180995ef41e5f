"""The firm list's exports: what the list shows, with its filters and sort, to whom it may."""

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.excel.columns import match_header
from crm.extensions import db
from crm.reference.models import District
from crm.reports import lists
from tests import factories
from tests.downloads import rows_of

NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _setting(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    with clock.frozen(NOW):
        yield


def firms():
    districts = db.session.scalars(select(District).order_by(District.code)).all()
    a = factories.make_firm(name="梧州导出甲公司", district=districts[1])
    b = factories.make_firm(name="梧州导出乙公司", district=districts[0])
    c = factories.make_firm(name="梧州其他丙公司", registered_capital=Decimal("5000000"))
    factories.make_year(a, 2024)
    factories.make_year(a, 2023, total_revenue=Decimal("1234567.89"))
    factories.make_year(c, 2024)
    db.session.commit()
    return a, b, c


@pytest.mark.parametrize("export", [lists.FIRMS, lists.YEARS], ids=lambda e: e.name)
def test_every_header_is_one_the_importer_reads_as_the_same_field(export):
    kind = "firms" if export is lists.FIRMS else "years"
    fields = {"district_id": "district", "park_id": "park", "industry_id": "industry"}
    fields["tech_field_id"] = "tech_field"
    for column in export.columns:
        found = match_header(kind, column.header)
        assert found is not None and found.key == fields.get(column.key, column.key), column
        if column.kind == "money_wan":
            assert found.scale == 10000


def test_the_firm_export_holds_the_listed_firms_with_the_filters_and_sort(client, login_as):
    a, b, c = firms()
    login_as("admin")
    rows = rows_of(client.get("/reports/export/firms?q=导出&sort=-name&page=2"))
    assert rows[0][:5] == [
        "企业名称",
        "统一社会信用代码",
        "法定代表人",
        "成立日期",
        "注册资本（万元）",
    ]
    assert [r[0] for r in rows[1:]] == sorted([a.name, b.name], reverse=True)
    # The sort by district follows the districts' order, as the page does.
    rows = rows_of(client.get("/reports/export/firms?q=导出&sort=district"))
    assert [r[0] for r in rows[1:]] == [b.name, a.name]
    assert rows[1][6] == b.district.name
    rows = rows_of(client.get("/reports/export/firms?q=丙公司"))
    assert rows[1][1] == c.uscc and rows[1][4] == 500


def test_the_years_export_has_a_row_per_listed_firm_and_year(client, login_as):
    a, _b, _c = firms()
    login_as("admin")
    rows = rows_of(client.get("/reports/export/firm_years?q=导出"))
    assert rows[0][:4] == ["企业名称", "统一社会信用代码", "年度", "总收入（万元）"]
    assert [(r[0], r[2]) for r in rows[1:]] == [(a.name, 2023), (a.name, 2024)]
    assert rows[1][3] == 123.456789 and rows[2][3] == 3000


def test_a_manager_exports_only_his_firms(client, login_as):
    a, _b, _c = firms()
    manager = factories.make_user("manager")
    a.manager = manager
    db.session.commit()
    login_as(user=manager)
    assert [r[0] for r in rows_of(client.get("/reports/export/firms"))[1:]] == [a.name]
    assert len(rows_of(client.get("/reports/export/firm_years"))) == 3


def test_an_enterprise_user_exports_nothing(client, login_as):
    a, _b, _c = firms()
    login_as("enterprise", firm=a)
    assert client.get("/reports/export/firms").status_code == 404
    assert client.get("/reports/export/firm_years").status_code == 404


def test_a_list_that_does_not_exist_is_not_found(client, login_as):
    login_as("admin")
    assert client.get("/reports/export/nope").status_code == 404
    assert client.get("/reports/export/firms").status_code == 200


def test_an_anonymous_visitor_is_sent_to_the_login(client):
    response = client.get("/reports/export/firms")
    assert response.status_code == 302 and "/login" in response.location


def test_the_firm_list_links_to_both_exports_with_its_filters(client, login_as):
    login_as("admin")
    page = client.get("/firms/?q=甲&sort=-name").get_data(as_text=True)
    assert 'href="/reports/export/firms?q=%E7%94%B2&amp;sort=-name"' in page
    assert 'href="/reports/export/firm_years?q=%E7%94%B2&amp;sort=-name"' in page
