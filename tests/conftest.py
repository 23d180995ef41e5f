"""Fixtures in the flaskr manner: `app`, `client`, `runner`, `login_as`; a clean database per test.

The database is SQLite in a temporary file unless DATABASE_URL names another (CI runs the suite
again on PostgreSQL). The schema is built once per session by the real migrations; every test
starts from empty tables plus the seeded reference data of the configured city. The suite runs
in parallel under pytest-xdist: each worker has its own SQLite file or, on PostgreSQL, its own
database named after the one in DATABASE_URL. Building an app compiles every URL rule, so one app
serves the whole session and each test gets its configuration back as it was.
"""

import os
from pathlib import Path

import pytest
from flask import g
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from crm import config as config_module
from crm import create_app
from crm.admin.services import seed_reference_data
from crm.config import TestConfig
from crm.core import clock
from crm.extensions import db
from tests import factories


def _database_url(tmp_path_factory, worker_id: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'test.sqlite'}"
    if worker_id == "master":
        return url
    return _worker_database(make_url(config_module.normalise_database_url(url)), worker_id)


def _worker_database(url, worker_id: str) -> str:
    """Create (afresh) this xdist worker's own PostgreSQL database beside the configured one."""
    name = f"{url.database}_{worker_id}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def make_app(url: str, **overrides):
    """Build an app on the test database with extra settings."""
    return create_app({**_config_dict(), "SQLALCHEMY_DATABASE_URI": url, **overrides})


def _config_dict() -> dict:
    return {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:
    """Return the test database URL, with the schema upgraded to the migrations' head."""
    url = _database_url(tmp_path_factory, worker_id)
    app = make_app(url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def session_app(database_url, tmp_path_factory):
    """Return the one app the session's tests share."""
    # Files that jobs produce stay out of the real instance folder, one folder per xdist worker.
    app = make_app(database_url, JOB_FILES_FOLDER=str(tmp_path_factory.mktemp("job_files")))
    # Requests share the test's app context; start each with no cached user, as in production.
    app.before_request(_forget_cached_user)
    return app


@pytest.fixture
def app(session_app):
    """Return the app with a clean database and the city's reference data, inside an app context.

    Settings a test changes are put back afterwards.
    """
    saved = dict(session_app.config)
    with session_app.app_context():
        _empty_tables()
        seed_reference_data(session_app.config["CITY"])
        db.session.commit()
        yield session_app
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    session_app.config.clear()
    session_app.config.update(saved)


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
