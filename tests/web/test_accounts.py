"""Login, logout, the lockout and password changes through the test client."""

import re
from datetime import datetime, timedelta

import pytest

from crm.core import clock
from crm.extensions import db
from tests import factories
from tests.conftest import make_app

T0 = datetime(2026, 3, 2, 1, 30)
WRONG = "用户名或密码错误"
LOCKED = "登录失败次数过多，该账号已被锁定，请在 15 分钟后再试。"


def post_login(client, username, password, address="127.0.0.1", next_url=None):
    return client.post(
        "/login" + (f"?next={next_url}" if next_url else ""),
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_login_page_shows_the_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="username"' in page
    assert 'name="password"' in page


def test_login_with_the_right_password_redirects_home(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    response = post_login(client, "wang", factories.PASSWORD)
    assert response.status_code == 302
    assert response.location == "/"


def test_login_with_a_wrong_password_shows_a_chinese_error(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    response = post_login(client, "wang", "wrong-password-9")
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)


def test_login_with_an_unknown_username_shows_the_same_error(client):
    response = post_login(client, "nobody", factories.PASSWORD)
    assert WRONG in response.get_data(as_text=True)


def test_disabled_user_cannot_log_in(client):
    factories.make_user("manager", username="off", is_active=False)
    db.session.commit()
    response = post_login(client, "off", factories.PASSWORD)
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/account/password", "/admin/users", "/admin/users/new"])
def test_anonymous_users_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_login_returns_to_the_page_asked_for(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    response = post_login(client, "wang", factories.PASSWORD, next_url="/account/password")
    assert response.location == "/account/password"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_login_ignores_a_next_address_off_this_site(client, target):
    factories.make_user("manager", username="wang")
    db.session.commit()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "wang", "password": factories.PASSWORD},
    )
    assert response.location == "/"


def test_logout_requires_post(client, login_as):
    login_as("manager")
    assert client.get("/logout").status_code == 405
    assert client.get("/account/password").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.location == "/login"
    assert client.get("/account/password").status_code == 302


def test_a_logged_in_user_who_is_disabled_is_logged_out_on_the_next_request(client, login_as):
    user = login_as("manager")
    user.is_active = False
    db.session.commit()
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_five_failures_lock_the_username_for_fifteen_minutes(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    with clock.frozen(T0):
        for _ in range(4):
            assert WRONG in post_login(client, "wang", "wrong-password-9").get_data(as_text=True)
        response = post_login(client, "wang", "wrong-password-9")
        assert LOCKED in response.get_data(as_text=True)
        clock.advance(timedelta(minutes=1))
        response = post_login(client, "wang", factories.PASSWORD)
    assert response.status_code == 200
    assert "请在 14 分钟后再试" in response.get_data(as_text=True)


def test_a_lock_does_not_apply_to_another_address(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    with clock.frozen(T0):
        for _ in range(5):
            post_login(client, "wang", "wrong-password-9")
        response = post_login(client, "wang", factories.PASSWORD, address="10.0.0.2")
    assert response.status_code == 302


def test_a_lock_ends_after_fifteen_minutes(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    with clock.frozen(T0):
        for _ in range(5):
            post_login(client, "wang", "wrong-password-9")
        clock.advance(timedelta(minutes=15, seconds=1))
        response = post_login(client, "wang", factories.PASSWORD)
    assert response.status_code == 302


def test_unknown_usernames_are_locked_too(client):
    with clock.frozen(T0):
        for _ in range(4):
            post_login(client, "ghost", "wrong-password-9")
        response = post_login(client, " GHOST ", "wrong-password-9")
    assert LOCKED in response.get_data(as_text=True)


def test_a_successful_login_resets_the_failure_count(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    with clock.frozen(T0):
        for _ in range(4):
            post_login(client, "wang", "wrong-password-9")
        assert post_login(client, "wang", factories.PASSWORD).status_code == 302
        client.post("/logout")
        for _ in range(4):
            response = post_login(client, "wang", "wrong-password-9")
        assert WRONG in response.get_data(as_text=True)
        assert post_login(client, "wang", factories.PASSWORD).status_code == 302


def test_an_account_failing_from_many_addresses_waits_at_every_address(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    with clock.frozen(T0):
        for n in range(11):
            response = post_login(client, "wang", "wrong-password-9", address=f"198.51.100.{n}")
        response = post_login(client, "wang", factories.PASSWORD, address="10.0.0.2")
        assert response.status_code == 200
        assert "该账号近来登录失败次数过多，每次失败后须等待更久，请在 1 分钟后再试。" in (
            response.get_data(as_text=True)
        )
        clock.advance(timedelta(minutes=1))
        assert post_login(client, "wang", factories.PASSWORD, address="10.0.0.2").status_code == 302


def test_one_guess_each_at_many_accounts_stops_the_address(client):
    factories.make_user("manager", username="wang")
    db.session.commit()
    with clock.frozen(T0):
        for n in range(20):
            response = post_login(client, f"guess{n}", "wrong-password-9")
        page = response.get_data(as_text=True)
        assert "您所在的网络地址登录失败次数过多，已暂停登录，请在 15 分钟后再试。" in page
        assert post_login(client, "wang", factories.PASSWORD).status_code == 200
        assert post_login(client, "wang", factories.PASSWORD, address="10.0.0.2").status_code == 302


def test_a_forwarded_address_is_trusted_behind_a_configured_proxy(app, database_url):
    factories.make_user("manager", username="wang")
    db.session.commit()
    proxied = make_app(database_url, PROXY_COUNT=1)
    with proxied.app_context(), clock.frozen(T0):
        client = proxied.test_client()
        for _ in range(5):
            response = client.post(
                "/login",
                data={"username": "wang", "password": "wrong-password-9"},
                headers={"X-Forwarded-For": "203.0.113.5"},
            )
        assert LOCKED in response.get_data(as_text=True)
        response = client.post(
            "/login",
            data={"username": "wang", "password": factories.PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.6"},
        )
        assert response.status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_a_forwarded_request_without_a_configured_proxy_logs_one_warning(app, database_url, caplog):
    direct = make_app(database_url, PROXY_COUNT=0)
    client = direct.test_client()
    client.get("/login")
    assert "CRM_PROXY_COUNT" not in caplog.text
    for _ in range(2):
        client.get("/login", headers={"X-Forwarded-For": "203.0.113.5"})
    warnings = [r for r in caplog.records if "CRM_PROXY_COUNT is 0" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"
    with direct.app_context():
        db.engine.dispose()


def change_password(client, current, new, confirm=None):
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_password_change_refuses_a_wrong_current_password(client, login_as):
    user = login_as("manager")
    response = change_password(client, "not-it-123", "newpass123")
    assert response.status_code == 200
    assert "当前密码不正确" in response.get_data(as_text=True)
    assert user.check_password(factories.PASSWORD)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("abc123", "密码至少需要 8 个字符"),
        ("abcdefghij", "密码须同时包含字母和数字"),
        ("qq123456", "这是一个常用密码，很容易被猜中，请换一个"),
    ],
)
def test_password_change_refuses_a_weak_password(client, login_as, new, message):
    user = login_as("manager")
    response = change_password(client, factories.PASSWORD, new)
    assert message in response.get_data(as_text=True)
    assert user.check_password(factories.PASSWORD)


def test_password_change_refuses_a_password_containing_the_username(client, login_as):
    user = login_as("manager", username="wangwei")
    response = change_password(client, factories.PASSWORD, "wangwei-2024")
    assert "密码不能包含用户名，也不能包含倒写的用户名" in response.get_data(as_text=True)
    assert user.check_password(factories.PASSWORD)


def test_password_change_refuses_a_mismatched_confirmation(client, login_as):
    login_as("manager")
    response = change_password(client, factories.PASSWORD, "newpass123", confirm="newpass124")
    assert "两次输入的新密码不一致" in response.get_data(as_text=True)


def test_password_change_lets_the_new_password_log_in(client, login_as):
    user = login_as("manager")
    with clock.frozen(T0):
        response = change_password(client, factories.PASSWORD, "newpass123")
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.password_changed_at == T0
    client.post("/logout")
    assert WRONG in post_login(client, user.username, factories.PASSWORD).get_data(as_text=True)
    assert post_login(client, user.username, "newpass123").status_code == 302


def test_login_refuses_a_post_without_csrf_token_when_csrf_is_on(app, database_url):
    factories.make_user("manager", username="wang")
    db.session.commit()
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        data = {"username": "wang", "password": factories.PASSWORD}
        assert client.post("/login", data=data).status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={**data, "csrf_token": token})
        assert response.status_code == 302
        db.session.remove()
        db.engine.dispose()


# --- Sessions: revoked, expired, and a new CSRF secret at login -------------------------------

PAGE = "/account/password"


def copy_of(app, client):
    """Return another client holding a copy of `client`'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def is_sent_to_login(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/login")


def test_a_copied_cookie_stops_working_after_logout(app, client, login_as):
    login_as("manager")
    thief = copy_of(app, client)
    assert thief.get(PAGE).status_code == 200
    client.post("/logout")
    assert is_sent_to_login(thief.get(PAGE))


def test_a_copied_cookie_stops_working_after_a_password_change(app, client, login_as):
    login_as("manager")
    thief = copy_of(app, client)
    assert change_password(client, factories.PASSWORD, "kapok7-blossom").status_code == 302
    assert is_sent_to_login(thief.get(PAGE))
    assert client.get(PAGE).status_code == 200


def test_a_copied_cookie_stops_working_after_an_admin_reset(app, client, login_as):
    user = login_as("manager")
    thief = copy_of(app, client)
    admin = factories.make_user("admin")
    db.session.commit()
    office = app.test_client()
    assert post_login(office, admin.username, factories.PASSWORD).status_code == 302
    data = {"name": user.name, "role": "manager", "is_active": "y"}
    reset = {"password": "kapok7-blossom", "confirm_password": "kapok7-blossom"}
    assert office.post(f"/admin/users/{user.id}/edit", data={**data, **reset}).status_code == 302
    assert is_sent_to_login(thief.get(PAGE))
    assert is_sent_to_login(client.get(PAGE))
    assert office.get("/admin/users").status_code == 200


def test_an_admin_resetting_their_own_password_stays_logged_in(client, login_as):
    admin = login_as("admin")
    data = {"name": admin.name, "role": "admin", "is_active": "y"}
    reset = {"password": "kapok7-blossom", "confirm_password": "kapok7-blossom"}
    assert client.post(f"/admin/users/{admin.id}/edit", data={**data, **reset}).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_a_session_without_the_users_token_is_refused(client):
    user = factories.make_user("manager")
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    assert is_sent_to_login(client.get(PAGE))


def test_a_session_idle_longer_than_the_limit_is_sent_to_login(client, login_as):
    with clock.frozen(T0):
        login_as("manager")
        clock.advance(timedelta(minutes=119))
        assert client.get(PAGE).status_code == 200
        clock.advance(timedelta(minutes=121))
        assert is_sent_to_login(client.get(PAGE))
        # The ended session is gone: the same cookie does not come back to life.
        assert is_sent_to_login(client.get(PAGE))


def test_activity_within_the_idle_limit_keeps_the_session_alive(client, login_as):
    with clock.frozen(T0):
        login_as("manager")
        for _ in range(4):
            clock.advance(timedelta(minutes=100))
            assert client.get(PAGE).status_code == 200


def test_a_session_older_than_the_absolute_limit_is_sent_to_login_however_active(client, login_as):
    with clock.frozen(T0):
        login_as("manager")
        for _ in range(7):
            clock.advance(timedelta(minutes=100))
            assert client.get(PAGE).status_code == 200
        clock.advance(timedelta(minutes=21))
        assert is_sent_to_login(client.get(PAGE))


def test_the_session_limits_come_from_the_configuration(app, client, login_as):
    app.config.update(SESSION_IDLE_MINUTES=10, SESSION_MAX_HOURS=1)
    with clock.frozen(T0):
        login_as("manager")
        clock.advance(timedelta(minutes=11))
        assert is_sent_to_login(client.get(PAGE))
        login_as("manager")
        for _ in range(6):
            clock.advance(timedelta(minutes=9))
            assert client.get(PAGE).status_code == 200
        clock.advance(timedelta(minutes=7))
        assert is_sent_to_login(client.get(PAGE))


def csrf_token_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_login_replaces_the_csrf_secret(app, database_url):
    factories.make_user("manager", username="wang")
    db.session.commit()
    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        client = guarded.test_client()
        before = csrf_token_of(client.get("/login").get_data(as_text=True))
        data = {"username": "wang", "password": factories.PASSWORD, "csrf_token": before}
        assert client.post("/login", data=data).status_code == 302
        assert client.post("/logout", data={"csrf_token": before}).status_code == 400
        after = csrf_token_of(client.get(PAGE).get_data(as_text=True))
        assert client.post("/logout", data={"csrf_token": after}).status_code == 302
        db.session.remove()
        db.engine.dispose()
