"""Settings that protect production: secret key, secure cookies, the city, the database URL,
the digest's hour."""

import pytest

from crm import create_app


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_cookies_are_secure_httponly_and_lax(tmp_path):
    app = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_debug_mode_drops_the_secure_flag_for_plain_http_on_localhost(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x", "SECRET_KEY": "k"})
    assert app.debug
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_an_unknown_city_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="CRM_CITY"):
        create_app({"SECRET_KEY": "k", "CITY": "nanning", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("hour", [-1, 24])
def test_a_digest_hour_outside_the_day_is_refused(hour):
    with pytest.raises(RuntimeError, match="CRM_DIGEST_HOUR"):
        create_app({"SECRET_KEY": "k", "DIGEST_HOUR": hour, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    "url", ["postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"]
)
def test_postgres_urls_use_the_psycopg_driver(url):
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
