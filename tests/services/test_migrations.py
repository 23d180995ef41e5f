"""The migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from crm.extensions import db, migrate


def _script_directory(app):
    config = migrate.get_config()
    return ScriptDirectory.from_config(config)


def test_there_is_exactly_one_head(app):
    assert len(_script_directory(app).get_heads()) == 1


def test_upgraded_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_an_empty_database_upgrades_to_head_and_back(app, tmp_path):
    from tests.conftest import make_app

    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    if db.engine.dialect.name == "postgresql":
        # Named after the test database, so suites run side by side never share it.
        name = f"{db.engine.url.database}_migration_check"
        url = db.engine.url.set(database=name).render_as_string(hide_password=False)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    fresh = make_app(url)
    with fresh.app_context():
        upgrade()
        head = _script_directory(fresh).get_current_head()
        with db.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head
        assert {"firms", "users", "audit_entries", "firm_years"} <= set(
            inspect(db.engine).get_table_names()
        )
        downgrade(revision="base")
        assert "firms" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
