"""In a real browser an administrator sets a layout's columns: the arrows move rows at once, a
row is dragged by its handle, and 保存 keeps the order the page shows."""

from datetime import datetime

import pytest

from crm.core import clock
from crm.extensions import db
from crm.reports import layouts
from crm.reports.layout_columns import LAYOUTS
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.real_commits]
#: 2026-06-15 10:00 in Asia/Shanghai.
NOW = datetime(2026, 6, 15, 2, 0)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.frozen(NOW):
        yield


def log_in(page, live_server, user):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/todo")


def order(page) -> list[str]:
    return page.locator("#layout-columns tr").evaluate_all("rows => rows.map(r => r.dataset.key)")


def test_an_administrator_reorders_and_picks_columns_in_the_browser(app, live_server, page):
    admin = factories.make_user("admin", name="管理员")
    db.session.commit()
    log_in(page, live_server, admin)
    page.goto(f"{live_server}/reports/layouts/support/edit")
    assert order(page)[:3] == ["name", "uscc", "district"]
    assert page.locator("#layout-unsaved").is_hidden()

    # The arrow moves the row at once, without a round trip.
    page.get_by_role("button", name="下移「企业名称」").click()
    assert order(page)[:3] == ["uscc", "name", "district"]
    assert page.locator("#layout-unsaved").is_visible()
    assert page.get_by_role("button", name="上移「统一社会信用代码」").is_disabled()

    # Drag 所属县（市、区） by its handle to the top.
    handle = page.locator('tr[data-key="district"] .layout-handle')
    target = page.locator('tr[data-key="uscc"]').bounding_box()
    source = handle.bounding_box()
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
    page.mouse.down()
    page.mouse.move(source["x"] + 5, source["y"] - 5, steps=5)
    page.mouse.move(target["x"] + 10, target["y"] + 2, steps=20)
    page.mouse.up()
    assert order(page)[:3] == ["district", "uscc", "name"]

    page.uncheck("#shown-uscc")
    page.get_by_role("button", name="保存").first.click()
    page.wait_for_url(f"{live_server}/reports/layouts/support")
    assert "已保存「扶持资金汇总表」的列设置" in page.content()
    db.session.remove()
    shown = layouts.shown_keys(LAYOUTS["support"])
    assert shown[:2] == ["district", "name"]
    assert "uscc" not in shown
    assert page.problems == []
