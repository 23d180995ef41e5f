"""A bureau head opens the dashboard in a real browser, changes a filter and sees the charts
redrawn in place; a click on a bar opens the list behind it."""

import pytest

from crm.core import clock
from tests import factories
from tests.web.dashboard_world import NOW, make_world

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


@pytest.fixture
def head_world(app):
    world = make_world()
    head = factories.make_user("bureau_head", name="赵局长")
    from crm.extensions import db

    db.session.commit()
    return {"head": head, **world}


def chart_values(page, key: str, series: int = 0) -> list:
    """Return the values of a series of the ECharts instance drawn in a figure."""
    return page.evaluate(
        """([key, series]) => {
            const element = document.querySelector(`[data-chart="${key}"]`);
            const chart = echarts.getInstanceByDom(element);
            return chart.getOption().series[series].data.map((point) => point.value);
        }""",
        [key, series],
    )


def test_a_bureau_head_filters_the_dashboard_and_clicks_through(page, live_server, head_world):
    with clock.frozen(NOW):
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", head_world["head"].username)
        page.fill("input[name=password]", factories.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/dashboard/")

        # The charts are drawn, the tables hidden behind the 表格 button.
        assert chart_values(page, "funnel_hte")[:6] == [1, 1, 0, 1, 0, 2]
        assert page.locator('[data-table="funnel_hte"]').is_hidden()
        page.get_by_role("button", name="表格").click()
        assert page.locator('[data-table="funnel_hte"]').is_visible()
        page.get_by_role("button", name="表格").click()
        assert page.locator('[data-table="funnel_hte"]').is_hidden()

        # Two figures side by side, inside the window.
        first = page.locator("#figure-funnel_hte").bounding_box()
        second = page.locator("#figure-funnel_listing").bounding_box()
        assert first["y"] == second["y"] and second["x"] + second["width"] <= 1366

        page.evaluate("window.dashboardNotReloaded = true")
        away = head_world["away"]
        page.select_option("select[name=district_id]", str(away.id))
        page.wait_for_url(f"**/dashboard/?*district_id={away.id}*")
        page.wait_for_function(
            """() => {
                const element = document.querySelector('[data-chart="funnel_hte"]');
                const chart = element && window.echarts && echarts.getInstanceByDom(element);
                return chart && chart.getOption().series[0].data[5].value === 1;
            }"""
        )
        # Redrawn in place: the page was not reloaded, the new numbers are in the charts.
        assert page.evaluate("window.dashboardNotReloaded") is True
        assert chart_values(page, "funnel_hte")[:6] == [1, 1, 0, 0, 0, 1]
        assert page.locator('[data-card="reserve_count"] [data-card-value]').inner_text() == "1"

        # Back to the whole city through the browser's history.
        page.go_back()
        page.wait_for_function(
            """() => {
                const element = document.querySelector('[data-chart="funnel_hte"]');
                const chart = element && window.echarts && echarts.getInstanceByDom(element);
                return chart && chart.getOption().series[0].data[5].value === 2;
            }"""
        )
        assert page.locator("select[name=district_id]").input_value() == ""
        page.go_forward()
        page.wait_for_function(
            """() => {
                const element = document.querySelector('[data-chart="funnel_hte"]');
                const chart = element && window.echarts && echarts.getInstanceByDom(element);
                return chart && chart.getOption().series[0].data[5].value === 1;
            }"""
        )
        assert page.locator("select[name=district_id]").input_value() == str(away.id)

        # A click on the 已认定高企 bar opens that column of the board, for the district.
        chart = page.locator('[data-chart="funnel_hte"]')
        point = page.evaluate(
            """() => {
                const element = document.querySelector('[data-chart="funnel_hte"]');
                const chart = echarts.getInstanceByDom(element);
                return chart.convertToPixel({seriesIndex: 0}, [0.5, 5]);
            }"""
        )
        box = chart.bounding_box()
        page.mouse.click(box["x"] + point[0], box["y"] + point[1])
        page.wait_for_url(f"**/pipeline/board/hte/stages/certified?district={away.id}")
        assert "梧州看板f4科技有限公司" in page.content()
        assert "梧州看板f1科技有限公司" not in page.content()
    assert page.problems == []


def test_without_javascript_the_figures_are_tables(browser, live_server, head_world):
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    try:
        with clock.frozen(NOW):
            page.goto(f"{live_server}/login")
            page.fill("input[name=username]", head_world["head"].username)
            page.fill("input[name=password]", factories.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server}/dashboard/")
            table = page.locator('[data-table="funnel_hte"]')
            assert table.is_visible()
            assert page.locator('[data-chart="funnel_hte"]').is_hidden()
            assert page.get_by_role("button", name="表格").is_hidden()
            assert "已认定高企" in table.inner_text()

            # The filters are a plain form.
            page.select_option("select[name=district_id]", str(head_world["away"].id))
            page.get_by_role("button", name="筛选").click()
            page.wait_for_url(f"**/dashboard/?*district_id={head_world['away'].id}*")
            row = page.locator('[data-table="funnel_hte"] tr', has_text="已认定高企")
            assert row.locator("td").inner_text() == "1"
            row.get_by_role("link").click()
            page.wait_for_url("**/pipeline/board/hte/stages/certified?*")
    finally:
        context.close()


def test_the_dashboard_fits_a_tablet(browser, live_server, head_world):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    page = context.new_page()
    try:
        with clock.frozen(NOW):
            page.goto(f"{live_server}/login")
            page.fill("input[name=username]", head_world["head"].username)
            page.fill("input[name=password]", factories.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server}/dashboard/")
            assert chart_values(page, "funnel_listing")[0] == 1
            # One figure a row, as wide as the page; nothing sticks out sideways.
            box = page.locator("#figure-expiring").bounding_box()
            assert box["width"] > 600 and box["x"] + box["width"] <= 768
            assert page.evaluate("document.documentElement.scrollWidth") <= 768
    finally:
        context.close()
