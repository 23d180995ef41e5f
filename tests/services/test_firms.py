"""Firm use cases against the real database, without HTTP."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from crm.core import clock
from crm.core.audit import AuditEntry
from crm.extensions import db
from crm.firms import services
from crm.firms.models import Firm, FirmContact, FirmFormerName, FirmYear, IPItem, Qualification
from tests import factories


def audit_rows(firm_id):
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.firm_id == firm_id).order_by(AuditEntry.id)
    ).all()


def test_create_firm_flushes_the_firm_and_the_audit_records_it(app):
    firm = services.create_firm({"name": "梧州新建科技有限公司", "uscc": factories.make_uscc()})
    assert firm.id is not None
    db.session.commit()
    assert [(e.entity, e.action) for e in audit_rows(firm.id)] == [("firms", "create")]


def test_update_firm_with_a_new_name_keeps_the_old_one_as_former_name(app):
    firm = factories.make_firm(name="梧州旧名有限公司")
    db.session.commit()
    with clock.frozen(datetime(2026, 3, 2, 4, 0)):
        services.update_firm(firm, {"name": "梧州新名有限公司", "address": "梧州市万秀区"})
        db.session.commit()
    assert firm.name == "梧州新名有限公司"
    assert firm.address == "梧州市万秀区"
    [former] = db.session.scalars(select(FirmFormerName).filter_by(firm_id=firm.id)).all()
    assert former.name == "梧州旧名有限公司"
    assert former.changed_on == date(2026, 3, 2)


def test_update_firm_with_the_same_name_adds_no_former_name(app):
    firm = factories.make_firm(name="梧州不变有限公司")
    services.update_firm(firm, {"name": "梧州不变有限公司", "notes": "无变化"})
    db.session.commit()
    assert db.session.scalars(select(FirmFormerName)).all() == []


def test_rename_firm_ignores_an_empty_name(app):
    firm = factories.make_firm(name="梧州名称有限公司")
    services.rename_firm(firm, "")
    assert firm.name == "梧州名称有限公司"


def test_delete_firm_sets_deleted_at_from_the_clock_and_restore_clears_it(app):
    firm = factories.make_firm()
    db.session.commit()
    moment = datetime(2026, 5, 1, 8, 30)
    with clock.frozen(moment):
        services.delete_firm(firm)
        db.session.commit()
    assert firm.deleted_at == moment
    services.restore_firm(firm)
    db.session.commit()
    assert firm.deleted_at is None
    fields = [e.field for e in audit_rows(firm.id) if e.action == "update"]
    assert fields == ["deleted_at", "deleted_at"]


def test_deleting_an_already_deleted_firm_keeps_the_first_time(app):
    firm = factories.make_firm(deleted_at=datetime(2025, 1, 1))
    services.delete_firm(firm)
    assert firm.deleted_at == datetime(2025, 1, 1)


def test_year_add_update_delete(app):
    firm = factories.make_firm()
    row = services.add_year(firm, {"year": 2024, "total_revenue": Decimal("1000000")})
    db.session.commit()
    assert db.session.get(FirmYear, row.id).firm_id == firm.id
    services.update_year(row, {"total_revenue": Decimal("2000000")})
    db.session.commit()
    assert row.total_revenue == Decimal("2000000")
    services.delete_year(row)
    db.session.commit()
    assert db.session.scalars(select(FirmYear)).all() == []
    actions = [(e.entity, e.action) for e in audit_rows(firm.id) if e.entity == "firm_years"]
    assert actions == [("firm_years", "create"), ("firm_years", "update"), ("firm_years", "delete")]


def test_ip_add_update_delete(app):
    firm = factories.make_firm()
    item = services.add_ip(firm, {"kind": "software", "title": "管理软件 V1.0"})
    services.update_ip(item, {"status": "expired"})
    db.session.commit()
    assert item.status == "expired"
    assert item.ip_class == "II"
    services.delete_ip(item)
    db.session.commit()
    assert db.session.scalars(select(IPItem)).all() == []


def test_contact_and_qualification_add_delete(app):
    firm = factories.make_firm()
    contact = services.add_contact(firm, {"name": "李雷", "role": "总经理"})
    qual = services.add_qualification(firm, {"tier": "gazelle", "year": 2025})
    db.session.commit()
    assert firm.contacts == [contact]
    assert firm.qualifications == [qual]
    services.delete_contact(contact)
    services.delete_qualification(qual)
    db.session.commit()
    assert db.session.scalars(select(FirmContact)).all() == []
    assert db.session.scalars(select(Qualification)).all() == []


def test_services_never_commit(app):
    firm = services.create_firm({"name": "梧州未提交有限公司"})
    services.add_year(firm, {"year": 2025})
    db.session.rollback()
    assert db.session.scalars(select(Firm).filter_by(name="梧州未提交有限公司")).all() == []
