"""The user's page of reminder e-mail: the kinds they want by e-mail, saved per user."""

import re

from crm.extensions import db
from crm.reminders import rules
from crm.reminders.email import kinds_off
from tests import factories
from tests.conftest import make_app

PAGE = "/account/reminder-email"


def test_the_page_lists_every_rule_checked_by_default_and_saves_the_choice(
    app, client, login_as, smtp_server
):
    user = login_as("manager")
    html = client.get(PAGE).get_data(as_text=True)
    assert "邮件提醒设置" in html and "邮件发送未开启" not in html
    for spec in rules.RULES:
        assert spec.label in html
    assert html.count("checked") == len(rules.RULES)

    kept = ["measure_due", "follow_up_due"]
    response = client.post(PAGE, data={"kinds": kept})

    assert response.status_code == 302
    assert kinds_off(user.id) == set(rules.SPECS) - set(kept)
    html = client.get(PAGE).get_data(as_text=True)
    assert "邮件提醒设置已保存" in html
    assert html.count("checked") == 2
    # Another user's choice is their own.
    assert kinds_off(factories.make_user("manager").id) == set()


def test_with_e_mail_off_the_page_says_so_and_still_saves(app, client, login_as):
    app.config.update(SMTP_HOST="", MAIL_FROM="")
    user = login_as("bureau_head")
    assert "邮件发送未开启" in client.get(PAGE).get_data(as_text=True)

    client.post(PAGE, data={"kinds": ["no_contact"]})

    assert kinds_off(user.id) == set(rules.SPECS) - {"no_contact"}


def test_an_unknown_kind_is_refused(app, client, login_as):
    user = login_as("manager")
    response = client.post(PAGE, data={"kinds": ["no_contact", "bogus"]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "未知的提醒类别：bogus" in html and "not a valid choice" not in html
    assert kinds_off(user.id) == set()


def test_an_enterprise_user_chooses_among_the_kinds_that_reach_a_firm(
    app, client, login_as, smtp_server
):
    firm = factories.make_firm()
    user = login_as("enterprise", firm_id=firm.id)
    html = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert PAGE in html  # the account menu offers the page
    html = client.get(PAGE).get_data(as_text=True)
    to_firms = [spec for spec in rules.RULES if "firm" in spec.allowed]
    assert {spec.code for spec in to_firms} == {
        "cert_expiring",
        "annual_report",
        "torch_statistics",
        "application_window",
        "change_report",
        "tech_sme_registration",
        "listing_subsidy",
    }
    for spec in rules.RULES:
        assert (spec.label in html) == (spec in to_firms)
    assert html.count("checked") == len(to_firms)

    response = client.post(PAGE, data={"kinds": ["annual_report", "torch_statistics"]})

    assert response.status_code == 302
    assert kinds_off(user.id) == {spec.code for spec in to_firms} - {
        "annual_report",
        "torch_statistics",
    }
    # A kind that never reaches a firm is not among the choices.
    response = client.post(PAGE, data={"kinds": ["annual_report", "no_contact"]})
    assert response.status_code == 200
    assert "未知的提醒类别：no_contact" in response.get_data(as_text=True)


def test_the_form_needs_its_csrf_token_when_csrf_is_on(app, database_url):
    user = factories.make_user("manager", username="wang")
    db.session.commit()
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        login = {"username": "wang", "password": factories.PASSWORD, "csrf_token": token}
        assert client.post("/login", data=login).status_code == 302
        assert client.post(PAGE, data={"kinds": ["no_contact"]}).status_code == 400
        page = client.get(PAGE).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = {"kinds": ["no_contact"], "csrf_token": token}
        assert client.post(PAGE, data=data).status_code == 302
        assert kinds_off(user.id) == set(rules.SPECS) - {"no_contact"}
        db.session.remove()
        db.engine.dispose()
