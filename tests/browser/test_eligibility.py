"""A manager picks the firm nearest to passing and records an expert assessment, in a browser."""

import pytest
from sqlalchemy import select

from crm.core import clock
from crm.eligibility.models import ExpertAssessment
from crm.extensions import db
from tests import factories
from tests.web.eligibility_world import NOW, make_world

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


@pytest.fixture
def manager_world(app):
    home = factories.district("450403")
    manager = factories.make_user("manager", name="王专员", districts=[home])
    with clock.frozen(NOW):
        firms = make_world(district=home)
    return {"manager": manager, **firms}


def test_manager_opens_the_nearest_firm_and_saves_an_expert_assessment(
    page, live_server, manager_world
):
    with clock.frozen(NOW):
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", manager_world["manager"].username)
        page.fill("input[name=password]", factories.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/todo")

        page.get_by_role("link", name="认定准备度").click()
        page.wait_for_url(f"{live_server}/eligibility/")
        first = page.locator("table.table-readiness tbody tr").first
        assert "甲级通过科技有限公司" in first.inner_text() and "预计通过" in first.inner_text()

        first.get_by_role("link").click()
        page.wait_for_url("**/firms/*?tab=assessment")
        bar = page.locator("svg.score-bar")
        assert bar.is_visible()
        box = bar.bounding_box()
        assert box["width"] > 400 and box["x"] + box["width"] <= 1366
        assert page.locator("svg.score-bar rect.score-range-pass").get_attribute("x") == "930"
        assert "暂无差距" in page.locator("#assessment-panel").inner_text()

        page.get_by_role("link", name="专员评估").click()
        page.wait_for_url("**/eligibility/firms/*/expert")
        page.fill("input[name=tech_advancement]", "7")
        page.fill("textarea[name=notes]", "现场核实研发台账")
        page.select_option("select[name=clean_record]", "1")
        page.check("input[name=provincial_rd_institution]")
        page.get_by_role("button", name="保存").click()
        page.wait_for_url("**/firms/*?tab=assessment")
        page.get_by_text("专员评估已保存").wait_for()

    stored = db.session.scalar(
        select(ExpertAssessment).where(ExpertAssessment.firm_id == manager_world["pass"].id)
    )
    db.session.refresh(stored)
    assert stored.tech_advancement == 7 and stored.provincial_rd_institution is True
    assert stored.notes == "现场核实研发台账"
    assert page.problems == []
