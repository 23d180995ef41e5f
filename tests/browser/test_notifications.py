"""A manager's day in a real browser: the bell's count, the list, one reminder done, the count
drops."""

from datetime import timedelta

import pytest

from crm.core import clock
from crm.extensions import db
from crm.reminders.models import Reminder
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.real_commits]


def test_a_manager_marks_a_reminder_done_and_the_bell_count_drops(page, live_server, app):
    today = clock.today()
    manager = factories.make_user("manager", name="王专员")
    firm = factories.make_firm(name="梧州提醒浏览器企业")
    done_one = factories.make_reminder(manager, "measure_due", firm, today)
    factories.make_reminder(manager, "follow_up_due", firm, today + timedelta(days=2))
    factories.make_reminder(manager, "no_contact", factories.make_firm(name="久未联系企业"))
    factories.make_reminder(factories.make_user("manager"), "measure_due", firm, today)
    db.session.commit()
    done_id = done_one.id

    base = live_server
    page.goto(f"{base}/login")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/todo")
    assert page.get_by_role("heading", name="今日待办").is_visible()
    assert page.get_by_test_id("bell-count").inner_text() == "3"
    assert page.get_by_test_id("todo-total").inner_text() == "3"
    assert page.get_by_text("梧州提醒浏览器企业").count() == 2

    page.get_by_test_id("bell").click()
    page.wait_for_url(f"{base}/notifications")
    item = page.locator(f"[data-reminder='{done_id}']")
    assert "辅导措施到期" in item.inner_text()
    item.get_by_role("button", name="完成").click()
    page.get_by_text("“辅导措施到期”已标为完成").wait_for()
    assert page.get_by_test_id("bell-count").inner_text() == "2"
    assert page.locator(f"#group-done [data-reminder='{done_id}']").count() == 1
    assert page.problems == []

    db.session.expire_all()
    assert db.session.get(Reminder, done_id).done_at is not None
