"""The audit mechanism records every change to audited tables, with who and through what."""

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm.core.audit import AuditEntry, audit_source
from crm.extensions import db
from tests import factories


def entries(firm_id):
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.firm_id == firm_id).order_by(AuditEntry.id)
    ).all()


def test_creating_a_firm_records_one_create_entry_with_its_values(app):
    with audit_source("cli"):
        firm = factories.make_firm(name="梧州审计科技有限公司")
        db.session.commit()
    [entry] = entries(firm.id)
    assert entry.action == "create"
    assert entry.entity == "firms"
    assert entry.entity_id == firm.id
    assert entry.source == "cli"
    assert json.loads(entry.new_value)["name"] == "梧州审计科技有限公司"


def test_updating_records_each_changed_field_with_old_and_new(app):
    admin = factories.make_user("admin")
    firm = factories.make_firm(name="旧名称有限公司", registered_capital=Decimal("1000000"))
    db.session.commit()
    with audit_source("web", admin.id):
        firm.name = "新名称有限公司"
        firm.registered_capital = Decimal("2500000.50")
        firm.address = None  # unchanged: was already empty
        db.session.commit()
    updates = [e for e in entries(firm.id) if e.action == "update"]
    assert {(e.field, e.old_value, e.new_value) for e in updates} == {
        ("name", "旧名称有限公司", "新名称有限公司"),
        ("registered_capital", "1000000", "2500000.50"),
    }
    assert all(e.actor_id == admin.id and e.source == "web" for e in updates)


def test_child_rows_are_recorded_against_their_firm(app):
    firm = factories.make_firm()
    year = factories.make_year(firm, 2025)
    db.session.commit()
    with audit_source("import:17"):
        year.rd_expense = Decimal("2000000")
        db.session.delete(factories.make_ip(firm))
        db.session.commit()
    recorded = entries(firm.id)
    assert ("firm_years", "update", "rd_expense") in {
        (e.entity, e.action, e.field) for e in recorded
    }
    deletes = [e for e in recorded if e.action == "delete"]
    assert [e.entity for e in deletes] == ["ip_items"]
    assert deletes[0].source == "import:17"
    assert json.loads(deletes[0].old_value)["kind"] == "invention"


def test_a_flush_without_real_changes_records_nothing(app):
    firm = factories.make_firm(established_on=date(2020, 1, 2))
    db.session.commit()
    before = len(entries(firm.id))
    firm.established_on = date(2020, 1, 2)
    db.session.commit()
    assert len(entries(firm.id)) == before


def test_changes_outside_any_context_are_attributed_to_the_system(app):
    firm = factories.make_firm()
    db.session.commit()
    assert entries(firm.id)[0].source == "system"
    assert entries(firm.id)[0].actor_id is None


def test_a_rolled_back_change_leaves_no_entry(app):
    firm = factories.make_firm()
    db.session.commit()
    firm.name = "不会保存的名称"
    db.session.flush()
    db.session.rollback()
    assert [e.action for e in entries(firm.id)] == ["create"]


def test_bulk_entries_keep_the_very_text_the_listener_writes(app):
    from crm.core.audit import AuditContext, BulkAudit

    with audit_source("web"):
        firm = factories.make_firm(
            name="梧州批量审计有限公司",
            registered_capital=Decimal("1500000.00"),
            established_on=date(2016, 5, 8),
            is_incubator=True,
        )
        db.session.commit()
    [listener] = entries(firm.id)
    values = {c.key: getattr(firm, c.key) for c in firm.__table__.columns}
    audit = BulkAudit(AuditContext(None, "import:1"))
    audit.created_rows("firms", [(firm.id, firm.id, values), (firm.id, firm.id, dict(values))])
    texts = [row[-1] for row in audit.rows]
    assert texts == [listener.new_value] * 2
    assert json.loads(texts[0])["registered_capital"] == "1500000"
    audit.write()
    db.session.flush()
    assert [e.source for e in entries(firm.id)] == ["web", "import:1", "import:1"]
