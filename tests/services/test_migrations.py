"""The migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from collections import Counter
from datetime import date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from crm.core import clock
from crm.core.database import schema_object_filter
from crm.demo.generator import generate_demo
from crm.extensions import db, migrate
from crm.firms.models import Certificate
from crm.pipeline.models import Enrollment, Stage
from crm.pipeline.services import MoveInputs, move_firm
from tests import factories


def _script_directory(app):
    config = migrate.get_config()
    return ScriptDirectory.from_config(config)


def test_there_is_exactly_one_head(app):
    assert len(_script_directory(app).get_heads()) == 1


def test_upgraded_schema_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                "include_object": schema_object_filter(connection.dialect.name),
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def _scratch_app(tmp_path, suffix: str):
    """Return an app on an empty database of its own, beside the test database."""
    from tests.conftest import make_app

    url = f"sqlite:///{tmp_path / f'{suffix}.sqlite'}"
    if db.engine.dialect.name == "postgresql":
        # Named after the test database, so suites run side by side never share it.
        name = f"{db.engine.url.database}_{suffix}"
        url = db.engine.url.set(database=name).render_as_string(hide_password=False)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_app(url)


def test_an_empty_database_upgrades_to_head_and_back(app, tmp_path):
    fresh = _scratch_app(tmp_path, "migration_check")
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


CERTIFICATE_COLUMNS = (
    "firm_id",
    "kind",
    "number",
    "issued_on",
    "issued_on_estimated",
    "expires_on",
    "source",
    "document",
    "application_id",
    "transition_id",
    "status",
    "ended_on",
    "reason",
)


def _certificates() -> set[tuple]:
    table = Certificate.__table__
    rows = db.session.execute(select(*(table.c[name] for name in CERTIFICATE_COLUMNS)))
    return {tuple(row) for row in rows}


@pytest.mark.real_commits
def test_the_certificate_backfill_rebuilds_what_certification_records(app, tmp_path):
    """Build a database at the revision before certificates, with demo data, and upgrade it."""
    fresh = _scratch_app(tmp_path, "certificate_backfill")
    with fresh.app_context(), clock.frozen(datetime(2026, 6, 15, 2, 0)):
        upgrade()
        generate_demo(fresh.config["CITY"], 300, seed=7, today=date(2026, 6, 15))
        _certify_by_override()
        db.session.commit()
        recorded = _certificates()
        sources = Counter(row[CERTIFICATE_COLUMNS.index("source")] for row in recorded)
        statuses = Counter(row[CERTIFICATE_COLUMNS.index("status")] for row in recorded)
        assert sources["batch"] > 20 and sources["override"] == 1
        assert {"valid", "replaced", "lapsed", "cancelled"} <= set(statuses)

        db.session.execute(text("DELETE FROM certificates"))
        db.session.commit()
        downgrade(revision="0007")
        # A firm known to be certified from a list that carried no dates: its year alone.
        uncertified = db.session.scalar(
            text(
                "SELECT id FROM firms WHERE id NOT IN (SELECT firm_id FROM qualifications "
                "WHERE tier = 'hte') ORDER BY id LIMIT 1"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO qualifications (firm_id, tier, year, number, source_document, "
                "created_at, updated_at) VALUES (:firm, 'hte', 2024, 'GR202445000777', "
                "'2024年高新技术企业名单', :now, :now)"
            ),
            {"firm": uncertified, "now": datetime(2026, 6, 15)},
        )
        db.session.commit()
        upgrade()

        migrated = (
            uncertified,
            "hte",
            "GR202445000777",
            date(2024, 1, 1),
            True,
            date(2026, 12, 31),
            "migrated",
            "2024年高新技术企业名单",
            None,
            None,
            "valid",
            None,
            None,
        )
        assert _certificates() == recorded | {migrated}
        assert _hte_qualifications() == 0

        # Going back gives each certificate not cancelled its qualification of the year again,
        # and coming forward again changes no certificate.
        downgrade(revision="0008")
        kept = {(row[0], row[3].year) for row in recorded | {migrated} if row[10] != "cancelled"}
        assert _hte_qualifications() == len(kept)
        upgrade()
        assert _certificates() == recorded | {migrated}
        assert _hte_qualifications() == 0
        db.session.remove()
        db.engine.dispose()


def _hte_qualifications() -> int:
    return db.session.scalar(text("SELECT COUNT(*) FROM qualifications WHERE tier = 'hte'"))


def _certify_by_override() -> None:
    """Move a reserve-pool firm to certified by a bureau head's override, without a batch."""
    head = factories.make_user(role="bureau_head")
    enrollment = db.session.scalars(
        select(Enrollment)
        .join(Stage)
        .where(Stage.code == "reserve", Enrollment.closed_on.is_(None))
    ).first()
    for target, inputs in (
        ("applied", MoveInputs(moved_on=date(2026, 5, 6))),
        ("review", MoveInputs(moved_on=date(2026, 5, 20))),
        (
            "certified",
            MoveInputs(
                moved_on=date(2026, 6, 1),
                certificate_number="GR202645000999",
                certificate_issued_on=date(2026, 6, 1),
            ),
        ),
    ):
        move_firm(enrollment, target, inputs, head, override_reason="省厅直接认定")


@pytest.mark.real_commits
def test_users_from_before_session_tokens_each_get_their_own(app, tmp_path):
    fresh = _scratch_app(tmp_path, "session_tokens")
    with fresh.app_context():
        upgrade(revision="0011")
        for n in (1, 2):
            db.session.execute(
                text(
                    "INSERT INTO users (username, name, password_hash, role, is_active, "
                    "created_at, updated_at) VALUES (:u, :u, 'x', 'manager', true, :now, :now)"
                ),
                {"u": f"old{n}", "now": datetime(2026, 6, 15)},
            )
        db.session.commit()
        upgrade()
        tokens = db.session.scalars(text("SELECT session_token FROM users")).all()
        assert len(tokens) == 2 and len(set(tokens)) == 2
        assert all(len(token) >= 40 for token in tokens)
        db.session.remove()
        db.engine.dispose()


@pytest.mark.real_commits
def test_measure_owners_named_like_one_staff_user_become_that_user(app, tmp_path):
    fresh = _scratch_app(tmp_path, "measure_owners")
    with fresh.app_context():
        upgrade(revision="0021")
        now = datetime(2026, 6, 15)
        people = [
            ("wang", "王明", "manager"),
            ("li1", "李华", "manager"),
            ("li2", "李华", "admin"),
            ("firm", "张三", "enterprise"),
        ]
        for username, name, role in people:
            db.session.execute(
                text(
                    "INSERT INTO users (username, name, password_hash, role, is_active, "
                    "session_token, created_at, updated_at) "
                    "VALUES (:u, :n, 'x', :r, true, :u, :now, :now)"
                ),
                {"u": username, "n": name, "r": role, "now": now},
            )
        db.session.execute(
            text(
                "INSERT INTO firms (name, uscc_check_accepted, is_above_scale, is_incubator, "
                "created_at, updated_at) VALUES ('梧州某公司', false, false, false, :now, :now)"
            ),
            {"now": now},
        )
        db.session.execute(
            text(
                "INSERT INTO coaching_plans (firm_id, year, status, created_at, updated_at) "
                "SELECT id, 2026, 'active', :now, :now FROM firms"
            ),
            {"now": now},
        )
        for title, owner in (
            ("a", " 王明 "),
            ("b", "李华"),
            ("c", "张三"),
            ("d", "财务部"),
            ("e", None),
        ):
            db.session.execute(
                text(
                    "INSERT INTO coaching_measures (plan_id, firm_id, title, owner, status, "
                    "created_at, updated_at) SELECT id, firm_id, :t, :o, 'planned', :now, :now "
                    "FROM coaching_plans"
                ),
                {"t": title, "o": owner, "now": now},
            )
        db.session.commit()
        upgrade()
        rows = db.session.execute(
            text(
                "SELECT m.title, m.owner, u.username FROM coaching_measures m "
                "LEFT JOIN users u ON u.id = m.owner_id ORDER BY m.title"
            )
        ).all()
        # Only an exact name of one active staff user is taken; the text stays as the label.
        assert [tuple(row) for row in rows] == [
            ("a", " 王明 ", "wang"),
            ("b", "李华", None),  # two users share the name
            ("c", "张三", None),  # an enterprise user is not a measure's owner
            ("d", "财务部", None),
            ("e", None, None),
        ]
        db.session.remove()
        db.engine.dispose()
