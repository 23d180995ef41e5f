"""Change requests: filed without touching the record, decided field by field, written through
the firms' services with the request as the audit source, and flagged when the record moved."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.core.audit import AuditEntry
from crm.eligibility.services import current_assessment
from crm.extensions import db
from crm.firms import services as firms
from crm.firms.models import FirmYear, IPItem
from crm.mail.models import OutboxMessage
from crm.portal import notify, services
from crm.portal.models import ChangeRequest
from tests import factories


@pytest.fixture
def world(app):
    firm = factories.make_firm()
    year = factories.make_year(firm, 2025)
    owner = factories.make_user("enterprise", firm_id=firm.id)
    manager = factories.make_user("manager", districts=[firm.district])
    db.session.commit()
    return {"firm": firm, "year": year, "owner": owner, "manager": manager}


def _entries(source):
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.source == source).order_by(AuditEntry.id)
    ).all()


def _file_year(world, **values):
    row = world["year"]
    proposed = {f: getattr(row, f) for f in services.changes.KINDS["year"].fields}
    proposed.update(values)
    request = services.submit(world["firm"], "year", proposed, user=world["owner"], row=row)
    db.session.commit()
    return request


def test_filing_keeps_only_the_changed_fields_and_writes_nothing(world):
    request = _file_year(world, rd_expense=Decimal("2000000"), tech_staff=20)
    assert [(i.field, i.old_value, i.new_value) for i in request.items] == [
        ("rd_expense", "1600000", "2000000"),
        ("tech_staff", "15", "20"),
    ]
    assert request.status == "pending" and request.title == "2025 年度数据"
    db.session.refresh(world["year"])
    assert world["year"].rd_expense == Decimal("1600000")
    assert _entries(services.audit_label(request.id)) == []


def test_a_request_that_changes_nothing_is_refused(world):
    with pytest.raises(services.PortalError, match="没有需要变更的内容"):
        _file_year(world)


def test_approving_writes_every_field_with_the_request_as_the_source(world):
    request = _file_year(world, rd_expense=Decimal("2000000"), tech_staff=20)
    services.decide(request, reviewer=world["manager"], approved={"rd_expense", "tech_staff"})
    db.session.commit()
    row = db.session.get(FirmYear, world["year"].id)
    assert (row.rd_expense, row.tech_staff) == (Decimal("2000000"), 20)
    assert request.status == "approved"
    assert {i.decision for i in request.items} == {"approved"}
    entries = _entries(f"portal:{request.id}")
    assert {(e.field, e.old_value, e.new_value, e.actor_id) for e in entries} == {
        ("rd_expense", "1600000", "2000000", world["manager"].id),
        ("tech_staff", "15", "20", world["manager"].id),
    }
    assert AuditEntry(source=f"portal:{request.id}").source_label == f"企业端申请 #{request.id}"


def test_approving_part_writes_that_part_and_needs_a_reason(world):
    request = _file_year(world, rd_expense=Decimal("2000000"), tech_staff=20)
    with pytest.raises(services.PortalError, match="审核意见"):
        services.decide(request, reviewer=world["manager"], approved={"tech_staff"})
    db.session.rollback()
    services.decide(
        request, reviewer=world["manager"], approved={"tech_staff"}, reason="研发费用请附审计报告"
    )
    db.session.commit()
    row = db.session.get(FirmYear, world["year"].id)
    assert (row.rd_expense, row.tech_staff) == (Decimal("1600000"), 20)
    assert request.status == "partial" and request.reason == "研发费用请附审计报告"
    assert {i.field: i.decision for i in request.items} == {
        "rd_expense": "rejected",
        "tech_staff": "approved",
    }
    assert [e.field for e in _entries(f"portal:{request.id}")] == ["tech_staff"]


def test_rejecting_writes_nothing(world):
    request = _file_year(world, tech_staff=20)
    services.decide(request, reviewer=world["manager"], approved=(), reason="人数与社保记录不符")
    db.session.commit()
    assert db.session.get(FirmYear, world["year"].id).tech_staff == 15
    assert request.status == "rejected"
    assert _entries(f"portal:{request.id}") == []
    with pytest.raises(services.PortalError, match="已审核"):
        services.decide(request, reviewer=world["manager"], approved={"tech_staff"})


def test_a_field_changed_since_filing_is_a_conflict(world):
    request = _file_year(world, rd_expense=Decimal("2000000"), tech_staff=20)
    assert services.conflicts(request) == set()
    firms.update_year(world["year"], {"tech_staff": 18})
    db.session.commit()
    assert services.conflicts(request) == {"tech_staff"}
    # The reviewer may still approve it, knowingly: the firm's value replaces the bureau's.
    services.decide(request, reviewer=world["manager"], approved={"rd_expense", "tech_staff"})
    db.session.commit()
    assert db.session.get(FirmYear, world["year"].id).tech_staff == 20


def test_a_partial_approval_that_breaks_a_year_rule_is_refused(world):
    request = _file_year(world, total_staff=200, tech_staff=150)
    with pytest.raises(services.PortalError, match="科技人员数不能超过职工总数"):
        services.decide(request, reviewer=world["manager"], approved={"tech_staff"}, reason="x")
    db.session.rollback()
    assert db.session.get(FirmYear, world["year"].id).tech_staff == 15


def test_a_new_year_and_a_new_patent_are_created_on_approval(world):
    firm, owner = world["firm"], world["owner"]
    year = services.submit(
        firm,
        "year",
        {"year": 2026, "total_revenue": Decimal("5000000"), "rd_expense": Decimal("400000")},
        user=owner,
    )
    patent = services.submit(
        firm,
        "ip",
        {
            "kind": "invention",
            "title": "一种节能装置",
            "number": "ZL2026000001",
            "granted_on": date(2026, 5, 1),
            "status": "valid",
            "acquisition": "own",
        },
        user=owner,
    )
    db.session.commit()
    with pytest.raises(services.PortalError, match="新增记录必须通过"):
        services.decide(year, reviewer=world["manager"], approved={"total_revenue"}, reason="x")
    db.session.rollback()
    services.decide(
        year, reviewer=world["manager"], approved={"year", "total_revenue"}, reason="研发费用待核"
    )
    services.decide(patent, reviewer=world["manager"], approved={i.field for i in patent.items})
    db.session.commit()
    new_year = db.session.scalar(select(FirmYear).filter_by(firm_id=firm.id, year=2026))
    assert (new_year.total_revenue, new_year.rd_expense) == (Decimal("5000000"), None)
    item = db.session.scalar(select(IPItem).filter_by(firm_id=firm.id, title="一种节能装置"))
    assert item.granted_on == date(2026, 5, 1)
    creates = _entries(f"portal:{patent.id}")
    assert [(e.entity, e.action) for e in creates] == [("ip_items", "create")]


def test_approved_figures_reassess_the_firm(world):
    firm = world["firm"]
    factories.make_year(firm, 2024)
    factories.make_year(firm, 2023)
    db.session.commit()
    before = current_assessment(firm.id)
    request = _file_year(world, rd_expense=Decimal("10"), domestic_rd_expense=Decimal("10"))
    services.decide(request, reviewer=world["manager"], approved={i.field for i in request.items})
    db.session.commit()
    after = current_assessment(firm.id)

    def rd(assessment):
        return next(c for c in assessment.hte.conditions if c.code == "rd_intensity").status

    assert rd(before) == "met"
    assert rd(after) == "unmet"


def test_a_deleted_row_conflicts_everywhere_and_can_only_be_rejected(world):
    request = _file_year(world, tech_staff=20)
    firms.delete_year(world["year"])
    db.session.commit()
    assert services.conflicts(request) == {"tech_staff"}
    with pytest.raises(services.PortalError, match="已被删除"):
        services.decide(request, reviewer=world["manager"], approved={"tech_staff"})
    db.session.rollback()
    services.decide(request, reviewer=world["manager"], approved=(), reason="该年度已删除")
    db.session.commit()
    assert db.session.get(ChangeRequest, request.id).status == "rejected"


def test_withdrawing_is_only_for_open_requests(world):
    request = _file_year(world, tech_staff=20)
    services.withdraw(request)
    db.session.commit()
    assert request.status == "withdrawn"
    with pytest.raises(services.PortalError):
        services.withdraw(request)


def test_the_firms_users_are_told_the_decision_by_email(world, smtp_server):
    world["owner"].email = "caiwu@firm.example.com"
    factories.make_user("enterprise", firm_id=world["firm"].id, is_active=False, email="x@y.cn")
    request = _file_year(world, rd_expense=Decimal("2000000"), tech_staff=20)
    services.decide(
        request, reviewer=world["manager"], approved={"rd_expense"}, reason="人数请附名单"
    )
    assert notify.queue_decision(request) == 1
    db.session.commit()
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient == "caiwu@firm.example.com"
    assert "部分通过" in message.subject
    assert "研发费用：160.00 万元 → 200.00 万元（通过）" in message.text_body
    assert "科技人员数：15 → 20（未通过）" in message.text_body
    assert "人数请附名单" in message.text_body
