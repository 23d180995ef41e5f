"""A manager works through the firm pages in a real browser: login, filter, open, edit in place."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.firms.models import FirmYear
from tests import factories

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


@pytest.fixture
def manager_world(app):
    home, away = factories.district("450403"), factories.district("450481")
    manager = factories.make_user("manager", name="李专员", districts=[home])
    mine = factories.make_firm(name="梧州浏览器测试科技有限公司", district=home)
    factories.make_year(mine, 2025, rd_expense=Decimal("1600000"))
    factories.make_firm(name="岑溪不可见材料有限公司", district=away)
    factories.make_firm(name="万秀另一家电子有限公司", district=home)
    db.session.commit()
    return {"manager": manager, "firm": mine}


def log_in(page, base, username):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/todo")


def test_manager_filters_opens_and_edits_a_year_in_place(page, live_server, manager_world):
    log_in(page, live_server, manager_world["manager"].username)
    page.get_by_role("link", name="企业库").click()
    page.wait_for_url(f"{live_server}/firms/")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert page.get_by_text("岑溪不可见材料有限公司").count() == 0

    page.fill("input[name=q]", "浏览器测试")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert rows.count() == 1
    page.get_by_role("link", name="梧州浏览器测试科技有限公司").click()
    page.get_by_role("link", name="年度数据").click()

    row = page.locator("tr", has_text="2025")
    assert "160.00" in row.inner_text()
    row.get_by_text("编辑").click()
    field = page.locator("input[name^='row'][name$='-rd_expense']")
    field.fill("185.5")
    url_before = page.url
    page.get_by_role("button", name="保存").click()
    page.locator("tr", has_text="185.50").wait_for()
    assert page.url == url_before  # swapped in place, no reload

    stored = db.session.scalar(
        select(FirmYear.rd_expense).where(FirmYear.firm_id == manager_world["firm"].id)
    )
    assert stored == Decimal("1855000.00")

    page.get_by_role("link", name="变更记录").click()
    history = page.locator("table").inner_text()
    assert "网页" in history and "李专员" in history and "研发费用" in history
    assert page.problems == []


def test_a_wrong_value_is_refused_in_place_with_a_chinese_message(page, live_server, manager_world):
    log_in(page, live_server, manager_world["manager"].username)
    page.goto(f"{live_server}/firms/{manager_world['firm'].id}?tab=years")
    page.locator("tr", has_text="2025").get_by_text("编辑").click()
    page.locator("input[name^='row'][name$='-tech_staff']").fill("500")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("科技人员数不能超过职工总数").wait_for()
    db.session.expire_all()
    stored = db.session.scalar(
        select(FirmYear.tech_staff).where(FirmYear.firm_id == manager_world["firm"].id)
    )
    assert stored == 15
    assert page.problems == []
