"""Every page but the login page sends anonymous visitors to log in, and changes nothing."""

import re

import pytest

from crm.core.audit import AuditEntry
from crm.extensions import db
from tests import factories

#: Open to anyone: the login, the static files, and an invitation's landing (the link is the key).
PUBLIC = {"accounts.login", "portal.accept", "static"}


def _concrete(rule, ids):
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule)


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_sends_anonymous_users_to_login(app, client):
    firm = factories.make_firm()
    db.session.commit()
    ids = {"firm_id": firm.id}
    checked = 0
    for rule, method in _routes(app):
        url = _concrete(rule, ids)
        response = client.open(url, method=method)
        if rule.endpoint == "index":
            assert response.status_code == 302
            assert "/login" in response.headers["Location"]
        else:
            assert response.status_code in (302, 401), (method, url, response.status_code)
            assert "/login" in response.headers["Location"], (method, url)
        checked += 1
    assert checked >= 10
    assert db.session.query(AuditEntry).filter(AuditEntry.action != "create").count() == 0


@pytest.mark.parametrize("path", ["/login"])
def test_the_login_page_is_public_and_sets_safe_cookies(client, path, app):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = client.get(path)
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie
