"""The bell, the notification centre and 今日待办: whose reminders, in which group, and what a
recipient does with them."""

import re
from datetime import date, datetime, timedelta

from crm.core import clock
from crm.extensions import db
from crm.reminders import inbox
from crm.reminders.models import Reminder
from crm.reminders.views import link_for
from tests import factories
from tests.conftest import make_app

#: A Wednesday, 10:00 in the bureau (UTC+8).
TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 2, 0)


def freeze():
    clock._frozen = NOW


def remind(recipient, kind="measure_due", firm=None, due_on=TODAY, **values) -> Reminder:
    """Make one reminder of `kind` for `recipient`, due today unless told."""
    return factories.make_reminder(recipient, kind, firm, due_on, **values)


def bell(html: str) -> int:
    found = re.search(r'data-testid="bell-count">(\d+)<', html)
    return int(found.group(1)) if found else 0


def section(html: str, group: str) -> str:
    start = html.index(f'id="group-{group}"')
    end = html.find("<section", start + 1)
    return html[start : end if end > 0 else len(html)]


def test_the_bell_counts_the_users_due_unread_reminders_on_every_page(client, login_as):
    freeze()
    manager = login_as("manager")
    other = factories.make_user("manager")
    for _ in range(3):
        remind(manager)
    remind(manager, read_at=NOW)
    remind(manager, snoozed_until=TODAY + timedelta(days=3))
    remind(manager, snoozed_until=TODAY)  # back today
    remind(manager, done_at=NOW)
    remind(manager, closed_at=NOW, closed_reason="resolved")
    remind(other)
    db.session.commit()

    for page in ("/todo", "/notifications", "/firms/"):
        html = client.get(page).get_data(as_text=True)
        assert bell(html) == 4, page
    assert "未读 4 条" in client.get("/todo").get_data(as_text=True)


def test_the_home_page_is_todays_work(client, login_as):
    login_as("manager")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/todo")


def test_the_centre_groups_by_today_this_week_later_and_done(client, login_as):
    freeze()  # Wednesday: the week ends on Sunday 6 December
    manager = login_as("manager")
    overdue = remind(manager, due_on=TODAY - timedelta(days=4), period="overdue")
    undated = remind(manager, kind="no_contact", due_on=None, period="d90")
    sunday = remind(manager, due_on=date(2026, 12, 6))
    monday = remind(manager, due_on=date(2026, 12, 7))
    snoozed = remind(manager, due_on=TODAY, snoozed_until=date(2026, 12, 3))
    done = remind(manager, done_at=NOW)
    closed = remind(manager, closed_at=NOW, closed_reason="resolved")
    db.session.commit()

    html = client.get("/notifications").get_data(as_text=True)

    def ids(group):
        return {int(i) for i in re.findall(r'data-reminder="(\d+)"', section(html, group))}

    assert ids("today") == {overdue.id, undated.id}
    assert ids("week") == {sunday.id}
    assert ids("later") == {monday.id, snoozed.id}
    assert ids("done") == {done.id, closed.id}
    assert "已逾期 4 天" in section(html, "today")
    assert "已推迟至 2026-12-03" in section(html, "later")
    assert "事项已办理" in section(html, "done")


def test_marking_read_done_and_back_changes_the_bell(client, login_as):
    freeze()
    manager = login_as("manager")
    first, second = remind(manager), remind(manager)
    db.session.commit()
    assert bell(client.get("/notifications").get_data(as_text=True)) == 2

    response = client.post(f"/notifications/{first.id}/read", data={"next": "/todo"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/todo")
    assert bell(client.get("/todo").get_data(as_text=True)) == 1

    client.post(f"/notifications/{second.id}/done")
    html = client.get("/notifications").get_data(as_text=True)
    assert bell(html) == 0
    assert f'data-reminder="{second.id}"' in section(html, "done")
    assert db.session.get(Reminder, second.id).done_at == NOW

    client.post(f"/notifications/{second.id}/undone")
    html = client.get("/notifications").get_data(as_text=True)
    assert f'data-reminder="{second.id}"' in section(html, "today")
    # Done marks it read: it comes back as work, not as news.
    assert bell(html) == 0


def test_a_snoozed_reminder_comes_back_unread_on_its_day(client, login_as):
    freeze()
    manager = login_as("manager")
    reminder = remind(manager, read_at=NOW)
    db.session.commit()

    for until, message in (
        ("2026-12-02", "推迟到的日期应晚于今天"),
        ("2028-01-01", "最多推迟 366 天"),
        ("", "请填写推迟到的日期"),
        ("明天", "推迟至：不是有效的日期值"),
    ):
        response = client.post(f"/notifications/{reminder.id}/snooze", data={"until": until})
        assert response.status_code == 302
        html = client.get("/notifications").get_data(as_text=True)
        assert message in html, until
        assert db.session.get(Reminder, reminder.id).snoozed_until is None

    client.post(f"/notifications/{reminder.id}/snooze", data={"until": "2026-12-05"})
    html = client.get("/notifications").get_data(as_text=True)
    assert f'data-reminder="{reminder.id}"' in section(html, "later")
    assert "已推迟至 2026-12-05" in html

    clock._frozen = NOW + timedelta(days=3)
    login_as(user=manager)  # the session of three days ago has lapsed
    html = client.get("/notifications").get_data(as_text=True)
    assert f'data-reminder="{reminder.id}"' in section(html, "today")
    assert bell(html) == 1


def test_only_the_recipient_acts_on_a_reminder(client, login_as):
    freeze()
    login_as("bureau_head")
    theirs = remind(factories.make_user("manager"))
    db.session.commit()
    for action in ("read", "done", "snooze"):
        assert client.post(f"/notifications/{theirs.id}/{action}").status_code == 404
    assert client.post(f"/notifications/{theirs.id}/delete").status_code == 404
    assert client.post("/notifications/999999/done").status_code == 404
    db.session.expire_all()
    unchanged = db.session.get(Reminder, theirs.id)
    assert unchanged.read_at is None and unchanged.done_at is None


def test_read_all_marks_only_the_users_due_reminders(client, login_as):
    freeze()
    manager = login_as("manager")
    mine = [remind(manager), remind(manager)]
    snoozed = remind(manager, snoozed_until=TODAY + timedelta(days=2))
    other = remind(factories.make_user("manager"))
    db.session.commit()

    client.post("/notifications/read-all")

    db.session.expire_all()
    assert all(db.session.get(Reminder, r.id).read_at == NOW for r in mine)
    assert db.session.get(Reminder, snoozed.id).read_at is None
    assert db.session.get(Reminder, other.id).read_at is None
    assert "已将 2 条提醒标为已读" in client.get("/notifications").get_data(as_text=True)


def test_an_enterprise_sees_its_firms_reminders_with_links_it_may_open(app, client, login_as):
    freeze()
    firm, elsewhere = factories.make_firm(), factories.make_firm()
    user = login_as("enterprise", firm_id=firm.id)
    ours = remind(firm, kind="annual_report", due_on=date(2026, 12, 10))
    window = remind(firm, kind="application_window", due_on=date(2026, 12, 20), record_id=7)
    other = remind(elsewhere, kind="annual_report")
    manager = remind(factories.make_user("manager"), firm=firm)  # the manager's, about this firm
    db.session.commit()

    # Their firm's reminders are theirs; another firm's and the manager's are not.
    assert inbox.unread_count(user, TODAY) == 2
    assert inbox.reminder_for(user, window.id) == window
    assert inbox.reminder_for(user, other.id) is None
    assert inbox.reminder_for(user, manager.id) is None
    # The bureau's notification centre and 今日待办 are not there for a firm's users: they see
    # and settle their reminders on the portal's home.
    assert client.get("/todo").status_code == 404
    assert client.get("/notifications").status_code == 404
    assert client.post(f"/notifications/{window.id}/done").status_code == 404
    assert client.post(f"/notifications/{ours.id}/read").status_code == 404
    assert client.post(f"/notifications/{other.id}/done").status_code == 404
    db.session.expire_all()
    assert db.session.get(Reminder, window.id).done_at is None
    assert db.session.get(Reminder, ours.id).read_at is None
    # Their links lead to the portal, never to the bureau's firm or batch pages.
    with app.test_request_context():
        assert link_for(ours, user) == "/portal/"
        assert link_for(window, user) == "/portal/"
    cert = remind(firm, kind="cert_expiring", due_on=date(2026, 12, 31))
    with app.test_request_context():
        assert link_for(cert, user) == "/portal/profile"
    assert client.get("/portal/profile").status_code == 200


def test_a_managers_todo_groups_due_work_by_kind_with_counts(client, login_as):
    freeze()
    manager = login_as("manager")
    firms = [factories.make_firm(name=f"待办测试企业{i:02d}") for i in range(12)]
    for i, firm in enumerate(firms):
        remind(manager, firm=firm, due_on=TODAY + timedelta(days=i - 2))
    remind(manager, kind="no_contact", due_on=None)
    remind(manager, kind="no_contact", due_on=None, done_at=NOW)
    remind(manager, kind="follow_up_due", snoozed_until=TODAY + timedelta(days=1))
    db.session.commit()

    html = client.get("/todo").get_data(as_text=True)

    assert re.search(r'data-testid="todo-total">13<', html)
    measures = html[html.index('id="kind-measure_due"') : html.index('id="kind-no_contact"')]
    assert "辅导措施到期" in measures and "逾期 2" in measures
    # The ten due soonest, and a link to all twelve.
    assert "待办测试企业00" in measures and "待办测试企业09" in measures
    assert "待办测试企业10" not in measures
    assert "查看全部 12 条" in measures and "kind=measure_due" in measures
    assert "走访后续事项到期" not in html  # snoozed to tomorrow


def test_the_bureau_todo_narrows_to_a_district_and_a_manager(client, login_as):
    freeze()
    head = login_as("bureau_head")
    remind(head, kind="results_pending")
    east, west = factories.district("450403"), factories.district("450405")
    wang = factories.make_user("manager", name="王专员")
    li = factories.make_user("manager", name="李专员")
    remind(wang, firm=factories.make_firm(district=east, name="东区企业"))
    remind(
        wang, firm=factories.make_firm(district=west, name="西区企业"), due_on=TODAY - timedelta(1)
    )
    remind(li, firm=factories.make_firm(district=west, name="李的企业"))
    firm_only = factories.make_firm(name="只提醒企业")
    remind(firm_only, kind="annual_report")
    db.session.commit()

    html = client.get("/todo").get_data(as_text=True)
    assert re.search(r'data-testid="todo-total">3<', html)
    assert "东区企业" in html and "西区企业" in html and "李的企业" in html
    assert "只提醒企业" not in html  # the bureau's page is the managers' work
    assert "服务专员：王专员" in html
    assert "您本人有待办提醒 1 条" in html  # the head's own, not among the managers' work
    assert re.search(r"王专员</a></td>\s*<td[^>]*>2</td>\s*<td[^>]*>1</td>", html)

    html = client.get(f"/todo?district={west.id}").get_data(as_text=True)
    assert "东区企业" not in html and "西区企业" in html and "李的企业" in html

    html = client.get(f"/todo?district={west.id}&manager={li.id}").get_data(as_text=True)
    assert re.search(r'data-testid="todo-total">1<', html)
    assert "李的企业" in html and "西区企业" not in html
    # Junk in the filters is ignored, not an error.
    assert client.get("/todo?district=x&manager=99999999999").status_code == 200


def test_the_pages_need_a_login(client):
    for page in ("/notifications", "/todo"):
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_centres_forms_need_a_csrf_token(app, database_url):
    user = factories.make_user("manager", username="zhao")
    reminder_id = remind(user).id  # read before the commit: the second app has its own session
    db.session.commit()
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        login = {"username": "zhao", "password": factories.PASSWORD, "csrf_token": token}
        assert client.post("/login", data=login).status_code == 302
        assert client.post(f"/notifications/{reminder_id}/done").status_code == 400
        page = client.get("/notifications").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(f"/notifications/{reminder_id}/done", data={"csrf_token": token})
        assert response.status_code == 302
        assert db.session.get(Reminder, reminder_id).done_at is not None
        db.session.remove()
        db.engine.dispose()
