"""In a real browser a manager creates a plan, adds a measure in place, starts it, logs a visit."""

import pytest
from sqlalchemy import select

from crm.coaching.models import Activity, CoachingPlan
from crm.extensions import db
from tests import factories

# The live server answers from threads of its own, which see only what is committed.
pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


@pytest.fixture
def manager_world(app):
    home = factories.district("450403")
    manager = factories.make_user("manager", name="李专员", districts=[home])
    firm = factories.make_firm(name="梧州一企一策测试科技有限公司", district=home, manager=manager)
    db.session.commit()
    return {"manager": manager, "firm": firm}


def test_manager_plans_measures_starts_and_logs_a_visit(page, live_server, manager_world):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", manager_world["manager"].username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/todo")

    firm_id = manager_world["firm"].id
    page.goto(f"{live_server}/firms/{firm_id}")
    page.get_by_role("link", name="一企一策").click()
    page.get_by_role("button", name="新建").click()
    page.wait_for_url(f"{live_server}/coaching/plans/*")
    page.get_by_text("启动前还需：请至少添加一项辅导措施").wait_for()

    page.get_by_text("添加措施").first.click()
    page.fill("input[name=new-title]", "建立研发费用辅助账")
    page.fill("input[name=new-owner]", "财务部")
    url_before = page.url
    page.get_by_role("button", name="添加措施").click()
    page.locator("#measures-panel tr", has_text="建立研发费用辅助账").wait_for()
    assert page.url == url_before  # added in place, no reload
    page.locator("#plan-actions", has_not_text="请至少添加").wait_for()

    page.get_by_role("button", name="启动实施").click()
    page.get_by_text("方案已启动实施。").wait_for()
    plan = db.session.scalar(select(CoachingPlan).where(CoachingPlan.firm_id == firm_id))
    assert plan.status == "active"

    page.get_by_role("link", name="返回企业").click()
    page.get_by_role("link", name="走访记录").click()
    page.get_by_text("添加走访记录").click()
    page.fill("textarea[name=new-notes]", "走访了解研发投入和申报意向")
    page.fill("textarea[name=new-follow_up]", "送达高企申报指引")
    page.get_by_role("button", name="保存记录").click()
    row = page.locator("#activities-panel tbody tr", has_text="走访了解研发投入和申报意向")
    row.wait_for()
    assert "李专员" in row.inner_text() and "未定时限" in row.inner_text()
    row.get_by_role("button", name="标记办结").click()
    row.get_by_text("已办结").wait_for()

    db.session.expire_all()
    activity = db.session.scalar(select(Activity).where(Activity.firm_id == firm_id))
    assert (activity.kind, activity.follow_up_done) == ("visit", True)
    assert page.problems == []
