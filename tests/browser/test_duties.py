"""A manager marks a year's reports filed in a real browser: tick all, one date, one click."""

from datetime import date

import pytest
from sqlalchemy import select

from crm.certification import duties
from crm.certification.models import Duty
from crm.core import clock
from crm.extensions import db
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


@pytest.fixture
def reports_world(app):
    home, away = factories.district("450403"), factories.district("450481")
    manager = factories.make_user("manager", name="王专员", districts=[home])
    firms = [factories.make_firm(name=f"梧州年报浏览器企业{n}", district=home) for n in (1, 2)]
    hidden = factories.make_firm(name="岑溪年报不可见企业", district=away)
    year = clock.today().year - 1
    for firm in (*firms, hidden):
        factories.make_certificate(firm, date(year, 1, 10))
    duties.open_duties(year, date(year + 1, 1, 2))
    db.session.commit()
    return {"manager": manager, "firms": firms, "hidden": hidden, "year": year}


def test_a_manager_ticks_every_report_and_marks_them_filed(page, live_server, reports_world):
    base = live_server
    page.goto(f"{base}/login")
    page.fill("input[name=username]", reports_world["manager"].username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("link", name="高企年报").click()
    page.wait_for_url(f"{base}/certification/duties")
    rows = page.locator("table.table-duties tbody tr")
    assert rows.count() == 2
    assert page.get_by_text("岑溪年报不可见企业").count() == 0

    page.locator("input[data-check-all=duty]").check()
    assert page.locator("input[name=duty]:checked").count() == 2
    filed_on = date(reports_world["year"] + 1, 1, 20).isoformat()
    page.fill("input[name=filed_on]", filed_on)
    page.get_by_role("button", name="将勾选的企业标记为已填报").click()
    page.get_by_text("已将 2 家企业的年度发展情况报表标记为已填报").wait_for()
    assert page.locator("table.table-duties .duty-status[data-status=filed]").count() == 2
    assert page.problems == []

    db.session.expire_all()
    ids = [firm.id for firm in reports_world["firms"]]
    marked = db.session.scalars(
        select(Duty.filed_on).where(Duty.firm_id.in_(ids), Duty.kind == "annual_report")
    )
    assert set(marked) == {date.fromisoformat(filed_on)}
