"""Fixtures in the flaskr manner: `app`, `client`, `runner`, `login_as`; each test's writes undone.

The database is SQLite in a temporary file unless DATABASE_URL names another (CI runs the suite
again on PostgreSQL). The schema is built once per session by the real migrations, and the
reference data of the configured city is seeded and committed once per test process. The suite
runs in parallel under pytest-xdist: each worker has its own SQLite file or, on PostgreSQL, its own
database named after the one in DATABASE_URL. Building an app compiles every URL rule, so one app
serves the whole session and each test gets its configuration back as it was.

Each test runs inside one transaction of its own connection, rolled back when the test ends (as
Indico's `db` fixture does): `db.session` is bound to that connection and makes each of its
transactions a savepoint, so the commits and rollbacks of services, views and commands behave as
in production and the next test still starts from the reference data alone. A rollback does not
rewind PostgreSQL's sequences, so no test may count on the ids rows get.

A test whose writes other connections must see is marked `real_commits`: a live server for the
browser, worker threads or a worker process, and the progress, heartbeat and lease writes of the
job queue, which take connections of their own. It commits for real; afterwards the tables are
emptied and the reference data seeded again.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import g
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session
from sqlalchemy import create_engine, make_url, text

from crm import config as config_module
from crm import create_app
from crm.admin.services import seed_reference_data
from crm.config import TestConfig
from crm.core import clock
from crm.extensions import db
from tests import factories
from tests.smtp_server import SmtpServer


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
    """Return the one app the session's tests share, its database holding the reference data."""
    # Files that jobs produce stay out of the real instance folder, one folder per xdist worker.
    app = make_app(
        database_url,
        JOB_FILES_FOLDER=str(tmp_path_factory.mktemp("job_files")),
        ATTACHMENT_FOLDER=str(tmp_path_factory.mktemp("attachments")),
    )
    # Requests share the test's app context; start each with no cached user, as in production.
    app.before_request(_forget_cached_user)
    with app.app_context():
        _reset_database(app.config["CITY"])
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(session_app, request):
    """Return the app inside an app context; the database holds the city's reference data.

    What the test writes is rolled back afterwards, or, for a test marked `real_commits`,
    committed and then cleared away. Settings a test changes are put back afterwards.
    """
    saved = dict(session_app.config)
    real_commits = request.node.get_closest_marker("real_commits") is not None
    database = _committed(saved["CITY"]) if real_commits else _rolled_back()
    with session_app.app_context(), database:
        yield session_app
    session_app.config.clear()
    session_app.config.update(saved)


class _JoinedSession(Session):
    """Flask-SQLAlchemy's session, on the connection it is bound to.

    Flask-SQLAlchemy 3 picks the engine of a model's bind key and never uses a session's own
    `bind`, so a session bound to the test's connection says so itself.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@contextmanager
def _rolled_back() -> Iterator[None]:
    """Run the block in a transaction that is rolled back, whatever the session commits."""
    connection = db.engine.connect()
    driver = connection.connection.driver_connection
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Python's sqlite3 emits BEGIN itself, and only before INSERT, UPDATE or DELETE: a
        # SAVEPOINT ahead of them would open the transaction, and its RELEASE would commit. It
        # leaves transactions alone and the BEGIN is emitted here instead, for this connection
        # only (SQLAlchemy's recipe for savepoints on pysqlite).
        isolation_level = driver.isolation_level
        driver.isolation_level = None
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    shared = db.session
    # Every app context's session (a second app's too) joins the connection; its transactions
    # become savepoints.
    db.session = db._make_scoped_session(
        {"class_": _JoinedSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        yield
    finally:
        db.session.remove()
        db.session = shared
        transaction.rollback()
        if sqlite:
            driver.isolation_level = isolation_level
        connection.close()


@contextmanager
def _committed(city: str) -> Iterator[None]:
    """Run the block committing for real, then empty the tables and seed the reference data."""
    try:
        yield
    finally:
        db.session.rollback()
        db.session.remove()
        _reset_database(city)
        # Threads of the test (a live server, a worker) may have left connections in the pool.
        db.engine.dispose()


def _reset_database(city: str) -> None:
    """Leave only the reference data of `city` in the database, committed."""
    _empty_tables()
    seed_reference_data(city)
    db.session.commit()
    db.session.remove()


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


@pytest.fixture
def smtp_server(app):
    """Start a real SMTP server (aiosmtpd) on a loopback port and point the app's e-mail at it."""
    server = SmtpServer()
    server.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=server.port,
        SMTP_USER="",
        SMTP_PASSWORD="",
        SMTP_STARTTLS=False,
        MAIL_FROM="crm@bureau.test",
        SMTP_TIMEOUT_SECONDS=5,
    )
    yield server
    server.stop()
