"""Fixtures in the flaskr manner: `app`, `client`, `runner`, `login_as`; a clean database per test.

The database is SQLite in a temporary file unless DATABASE_URL names another (CI runs the suite
again on PostgreSQL). The schema is built once per session by the real migrations; every test
starts from empty tables plus the seeded reference data of the configured city.
"""

import os
from pathlib import Path

import pytest
from flask import g
from flask_migrate import upgrade
from sqlalchemy import text

from crm import create_app
from crm.admin.services import seed_reference_data
from crm.config import TestConfig
from crm.core import clock
from crm.extensions import db
from tests import factories


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'test.sqlite'}"


def make_app(url: str, **overrides):
    """Build an app on the test database with extra settings."""
    return create_app({**_config_dict(), "SQLALCHEMY_DATABASE_URI": url, **overrides})


def _config_dict() -> dict:
    return {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Return the test database URL, with the schema upgraded to the migrations' head."""
    url = _database_url(tmp_path_factory)
    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url):
    """Return an app with a clean database and the city's reference data, inside an app context."""
    app = make_app(database_url)
    with app.app_context():
        _empty_tables()
        seed_reference_data(app.config["CITY"])
        db.session.commit()
        # Requests share this app context; start each with no cached user, as in production.
        app.before_request(_forget_cached_user)
        yield app
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def _forget_cached_user() -> None:
    g.pop("_login_user", None)


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(text("PRAGMA foreign_keys = OFF"))
        for table in tables:
            db.session.execute(table.delete())
        db.session.execute(text("PRAGMA foreign_keys = ON"))
    db.session.commit()


@pytest.fixture(autouse=True)
def _thaw_clock():
    """Leave the clock as the test found it."""
    yield
    clock._frozen = None


@pytest.fixture
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """Log the test client in as a new user of `role` (or as `user`) and return the user."""

    def login(role: str = "admin", user=None, **overrides):
        if user is None:
            user = factories.make_user(role=role, **overrides)
            db.session.commit()
        response = client.post(
            "/login",
            data={"username": user.username, "password": factories.PASSWORD},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login
