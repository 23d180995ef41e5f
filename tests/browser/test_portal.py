"""A firm's user on a phone proposes new figures, the manager approves them, and the firm's page
shows the new value: the portal's round trip in a real browser."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.firms.models import FirmYear
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.real_commits]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def portal_world(app):
    home = factories.district("450403")
    firm = factories.make_firm(name="梧州手机填报科技有限公司", district=home)
    factories.make_year(firm, 2025, rd_expense=Decimal("1600000"))
    owner = factories.make_user("enterprise", name="赵会计", firm_id=firm.id)
    manager = factories.make_user("manager", name="李专员", districts=[home])
    db.session.commit()
    return {"firm": firm, "owner": owner, "manager": manager}


def log_in(page, base, username, landing):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{landing}")


def log_out(page):
    page.context.clear_cookies()


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_figure_edited_on_a_phone_is_approved_and_shown(page, live_server, portal_world):
    page.set_viewport_size(PHONE)
    log_in(page, live_server, portal_world["owner"].username, "/portal/")
    assert fits_the_screen(page)
    page.get_by_role("button", name="展开导航").click()
    page.get_by_role("link", name="年度数据").click()
    page.wait_for_url(f"{live_server}/portal/years")
    card = page.locator("[data-year='2025']")
    assert "160.00" in card.locator("[data-field=rd_expense]").inner_text()
    assert fits_the_screen(page)
    card.get_by_role("link", name="申请修改").click()
    page.get_by_label("研发费用（万元）", exact=True).fill("210")
    page.get_by_label("说明（选填）").fill("以审计报告为准")
    page.get_by_role("button", name="提交申请").click()
    page.get_by_test_id("request-status").wait_for()
    assert page.get_by_test_id("request-status").inner_text() == "待审核"
    assert "210.00" in page.locator("[data-field=rd_expense]").inner_text()
    assert fits_the_screen(page)
    log_out(page)

    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, portal_world["manager"].username, "/todo")
    assert page.get_by_test_id("review-count").inner_text() == "1"
    page.get_by_role("link", name="企业申请").click()
    page.get_by_role("link", name="2025 年度数据").click()
    row = page.locator("tr[data-field=rd_expense]")
    assert "160.00" in row.inner_text() and "210.00" in row.inner_text()
    assert row.get_by_role("checkbox").is_checked()
    page.get_by_role("button", name="通过所勾选的内容").click()
    page.get_by_text("已审核：已通过").wait_for()
    log_out(page)

    page.set_viewport_size(PHONE)
    log_in(page, live_server, portal_world["owner"].username, "/portal/")
    assert "已通过" in page.get_by_test_id("decision").inner_text()
    page.goto(f"{live_server}/portal/years")
    assert "210.00" in page.locator("[data-year='2025'] [data-field=rd_expense]").inner_text()
    assert page.problems == []

    db.session.expire_all()
    row = db.session.scalar(select(FirmYear).filter_by(firm_id=portal_world["firm"].id))
    assert row.rd_expense == Decimal("2100000")
