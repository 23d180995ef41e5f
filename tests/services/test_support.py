"""Support ledger services on a real database: rules, entries granted by moves, entries by hand."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.core import clock
from crm.core.audit import AuditEntry
from crm.extensions import db
from crm.listing.services import save_case
from crm.pipeline.services import MoveInputs, enroll_firm, move_firm
from crm.support import queries, services
from crm.support.models import SubsidyRule, SupportEntry
from crm.support.services import SupportError
from tests import factories

HEAD_REASON = "无批次记录，补录"


@pytest.fixture
def world(app):
    """A manager, a bureau head and a firm with three years of figures; 2026-06-15."""
    with clock.frozen(datetime(2026, 6, 15, 2, 0)):
        manager = factories.make_user("manager", districts=[factories.district()])
        head = factories.make_user("bureau_head")
        firm = factories.make_firm(manager=manager)
        for year in (2023, 2024, 2025):
            factories.make_year(firm, year)
        db.session.commit()
        yield {"firm": firm, "manager": manager, "head": head}


def entries(firm=None) -> list[SupportEntry]:
    stmt = select(SupportEntry).order_by(SupportEntry.id)
    if firm is not None:
        stmt = stmt.where(SupportEntry.firm_id == firm.id)
    return list(db.session.scalars(stmt))


def document(on: date) -> MoveInputs:
    return MoveInputs(moved_on=on, document_number="桂证监辅〔2026〕7号", document_on=on)


def listing_walk(firm, actor, *codes, start=date(2026, 1, 5)):
    """Enroll `firm` in the listing pool on `start` and move it through `codes`, ten days apart."""
    enrollment = enroll_firm(firm, "listing", "pool", MoveInputs(moved_on=start), actor).enrollment
    save_case(enrollment, {"sponsor_broker": "桂海证券股份有限公司"})
    results = [
        move_firm(enrollment, code, document(start + timedelta(days=10 * (n + 1))), actor)
        for n, code in enumerate(codes)
    ]
    return enrollment, results


def hte_to_review(world, firm=None, applied_on=date(2023, 6, 20)):
    """Take a firm from the reserve pool to review (the head overrides the missing batch)."""
    firm = firm or world["firm"]
    reserve = MoveInputs(moved_on=applied_on - timedelta(days=90), entry_reason=4)
    enrollment = enroll_firm(firm, "hte", "reserve", reserve, world["manager"]).enrollment
    move_firm(enrollment, "applied", MoveInputs(moved_on=applied_on), world["head"], HEAD_REASON)
    review = MoveInputs(moved_on=applied_on + timedelta(days=60))
    move_firm(enrollment, "review", review, world["manager"])
    return enrollment


def certify(world, enrollment, issued: date, number="GR202345000123"):
    inputs = MoveInputs(moved_on=issued, certificate_number=number, certificate_issued_on=issued)
    return move_firm(enrollment, "certified", inputs, world["manager"])


def reapply(world, enrollment, applied_on: date):
    move_firm(enrollment, "applied", MoveInputs(moved_on=applied_on), world["head"], HEAD_REASON)
    review = MoveInputs(moved_on=applied_on + timedelta(days=1))
    move_firm(enrollment, "review", review, world["manager"])


# --- Rules ---------------------------------------------------------------------------------------


def test_seeding_the_rules_is_idempotent(app):
    assert services.seed_subsidy_rules() == 0
    rules = {r.event: r for r in db.session.scalars(select(SubsidyRule))}
    assert len(rules) == 9
    assert rules["listing:filed"].amount == Decimal("1000000.00")
    assert rules["listing:filed"].kind == "listing_subsidy"
    assert rules["hte:not_certified"].amount is None
    assert rules["hte:not_certified"].effective_from == date(2017, 1, 1)


def test_seeding_leaves_an_event_the_admin_already_ruled_alone(app):
    db.session.execute(SubsidyRule.__table__.delete())
    services.create_rule(
        {
            "name": "梧州辅导备案补助",
            "event": "listing:tutor",
            "kind": "listing_subsidy",
            "amount": Decimal("300000"),
            "effective_from": date(2025, 1, 1),
            "is_active": True,
        }
    )
    assert services.seed_subsidy_rules() == 8
    tutor = list(db.session.scalars(select(SubsidyRule).filter_by(event="listing:tutor")))
    assert [(r.name, r.amount) for r in tutor] == [("梧州辅导备案补助", Decimal("300000.00"))]


def test_revising_a_rule_adds_a_later_version_and_keeps_the_old_one(app):
    rule = services.rule_for("listing:tutor", date(2026, 1, 1))
    values = {"name": "辅导备案补助", "kind": "listing_subsidy", "amount": Decimal("800000")}
    with pytest.raises(SupportError, match="须晚于原版本的生效日期 2017-01-01"):
        services.revise_rule(rule, {**values, "effective_from": date(2017, 1, 1)})
    version = services.revise_rule(
        rule, {**values, "effective_from": date(2026, 5, 1), "is_active": True}
    )
    assert version.id != rule.id and version.event == "listing:tutor"
    assert rule.amount == Decimal("500000.00")
    assert services.rule_for("listing:tutor", date(2026, 4, 30)) is rule
    assert services.rule_for("listing:tutor", date(2026, 5, 1)) is version


def test_a_switched_off_version_is_not_in_force(app):
    rule = services.rule_for("listing:listed", date(2026, 1, 1))
    services.set_rule_active(rule, False)
    assert services.rule_for("listing:listed", date(2026, 1, 1)) is None
    assert db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.entity == "subsidy_rules", AuditEntry.field == "is_active"
        )
    )


# --- Entries granted by the pipeline -------------------------------------------------------------


def test_a_listing_firm_reaching_tutoring_gets_a_claimable_500000_entry(world):
    _, results = listing_walk(world["firm"], world["manager"], "reform", "sign", "tutor")
    db.session.commit()
    assert [r.warnings for r in results] == [
        [],
        [],
        ["已生成可申领扶持：辅导备案补助（500,000.00 元）"],
    ]
    [entry] = entries(world["firm"])
    tutor = results[-1].transition
    assert (entry.kind, entry.title, entry.amount, entry.status) == (
        "listing_subsidy",
        "辅导备案补助",
        Decimal("500000.00"),
        "claimable",
    )
    assert (entry.granted_on, entry.trigger_key) == (tutor.moved_on, f"transition:{tutor.id}")
    assert entry.document_number is None and entry.rule.event == "listing:tutor"


def test_entering_the_pool_and_early_stages_gives_nothing_without_a_rule(world):
    listing_walk(world["firm"], world["manager"], "reform", "sign")
    assert entries() == []


def test_an_administrator_may_subsidise_the_share_reform_and_the_broker_signing(world):
    for event, name, amount in (
        ("listing:reform", "股份制改造补助", "300000"),
        ("listing:sign", "券商签约补助", "200000"),
    ):
        services.create_rule(
            {
                "name": name,
                "event": event,
                "kind": "listing_subsidy",
                "amount": Decimal(amount),
                "effective_from": date(2025, 1, 1),
                "is_active": True,
            }
        )
    _, results = listing_walk(world["firm"], world["manager"], "reform", "sign")
    assert [r.warnings for r in results] == [
        ["已生成可申领扶持：股份制改造补助（300,000.00 元）"],
        ["已生成可申领扶持：券商签约补助（200,000.00 元）"],
    ]


def test_moving_twice_never_duplicates_an_entry(world):
    enrollment, results = listing_walk(
        world["firm"], world["manager"], "reform", "sign", "tutor", "neeq", "tutor"
    )
    assert results[-1].warnings == []
    assert services.on_transition(enrollment, results[2].transition) == []
    assert [e.title for e in entries()] == ["辅导备案补助", "新三板挂牌奖励"]


def test_each_listing_stage_with_a_rule_pays_its_own_amount(world):
    listing_walk(
        world["firm"], world["manager"], "reform", "sign", "tutor", "tutor_done", "filed",
        "review", "listed",
    )  # fmt: skip
    assert [(e.title, e.amount) for e in entries()] == [
        ("辅导备案补助", Decimal("500000.00")),
        ("辅导验收补助", Decimal("500000.00")),
        ("上市申请受理补助", Decimal("1000000.00")),
        ("上市奖励", Decimal("2000000.00")),
    ]


def test_a_rule_changed_later_does_not_change_existing_entries(world):
    manager = world["manager"]
    listing_walk(world["firm"], manager, "reform", "sign", "tutor")
    rule = services.rule_for("listing:tutor", date(2026, 1, 1))
    services.revise_rule(
        rule,
        {
            "name": "辅导备案补助（2026 年修订）",
            "kind": "listing_subsidy",
            "amount": Decimal("800000"),
            "effective_from": date(2026, 5, 1),
            "is_active": True,
        },
    )
    later = factories.make_firm(manager=manager)
    listing_walk(later, manager, "reform", "sign", "tutor", start=date(2026, 4, 25))
    earlier = factories.make_firm(manager=manager)
    listing_walk(earlier, manager, "reform", "sign", "tutor", start=date(2026, 2, 1))
    db.session.commit()
    amounts = {e.firm_id: (e.title, e.amount) for e in entries()}
    assert amounts == {
        world["firm"].id: ("辅导备案补助", Decimal("500000.00")),
        later.id: ("辅导备案补助（2026 年修订）", Decimal("800000.00")),
        earlier.id: ("辅导备案补助", Decimal("500000.00")),
    }


def test_a_first_certification_gives_the_first_award_and_a_later_one_the_re_certification(world):
    enrollment = hte_to_review(world)
    first = certify(world, enrollment, date(2023, 12, 8))
    assert first.warnings == ["已生成可申领扶持：高企首次认定奖励（金额待定）"]
    reapply(world, enrollment, date(2026, 6, 1))
    again = certify(world, enrollment, date(2026, 6, 12), number="GR202645000456")
    assert again.warnings == ["已生成可申领扶持：高企重新认定奖励（金额待定）"]
    db.session.commit()
    got = [(e.kind, e.title, e.amount, e.granted_on) for e in entries()]
    assert got == [
        ("hte_award", "高企首次认定奖励", None, date(2023, 12, 8)),
        ("hte_award", "高企重新认定奖励", None, date(2026, 6, 12)),
    ]


def test_an_earlier_hte_certificate_makes_a_certification_a_re_certification(world):
    factories.make_certificate(world["firm"], date(2020, 12, 8), "GR202045000001", "import")
    certify(world, hte_to_review(world), date(2023, 12, 8))
    assert [e.title for e in entries()] == ["高企重新认定奖励"]


def test_the_certificate_itself_does_not_count_as_earlier(world):
    factories.make_certificate(world["firm"], date(2023, 12, 8), "GR202345000123", "import")
    certify(world, hte_to_review(world), date(2023, 12, 8))
    assert [e.title for e in entries()] == ["高企首次认定奖励"]


def test_the_incubator_is_rewarded_for_an_incubated_firms_first_certification_only(world):
    incubator = factories.make_firm(name="梧州科创孵化器有限公司", is_incubator=True)
    firm = world["firm"]
    firm.incubator_id = incubator.id
    enrollment = hte_to_review(world)
    result = certify(world, enrollment, date(2023, 12, 8))
    assert result.warnings == [
        "已生成可申领扶持：高企首次认定奖励（金额待定）",
        "已为孵化器“梧州科创孵化器有限公司”生成可申领扶持：孵化器培育高企奖励（金额待定）",
    ]
    reapply(world, enrollment, date(2026, 6, 1))
    certify(world, enrollment, date(2026, 6, 12), number="GR202645000456")
    db.session.commit()
    [award] = entries(incubator)
    assert (award.kind, award.related_firm_id, award.status) == (
        "incubator_award",
        firm.id,
        "claimable",
    )
    assert [e.title for e in entries(firm)] == ["高企首次认定奖励", "高企重新认定奖励"]


def test_a_deleted_incubator_gets_no_award(world):
    incubator = factories.make_firm(is_incubator=True, deleted_at=datetime(2025, 1, 1))
    world["firm"].incubator_id = incubator.id
    certify(world, hte_to_review(world), date(2023, 12, 8))
    assert entries(incubator) == []


def test_a_failed_application_gives_the_coaching_fund(world):
    enrollment = hte_to_review(world, applied_on=date(2025, 6, 20))
    result = move_firm(
        enrollment,
        "not_certified",
        MoveInputs(moved_on=date(2025, 12, 1), reason="专家评审得分未达 71 分"),
        world["manager"],
    )
    assert result.warnings == ["已生成可申领扶持：辅导认定经费（金额待定）"]
    [entry] = entries()
    assert (entry.kind, entry.granted_on, entry.amount) == (
        "coaching_fund",
        date(2025, 12, 1),
        None,
    )


def test_a_decided_amount_is_copied_into_the_entry(world):
    rule = services.rule_for("hte:not_certified", date(2025, 1, 1))
    services.revise_rule(
        rule,
        {
            "name": "辅导认定经费",
            "kind": "coaching_fund",
            "amount": Decimal("20000"),
            "effective_from": date(2025, 1, 1),
            "is_active": True,
        },
    )
    enrollment = hte_to_review(world, applied_on=date(2025, 6, 20))
    reason = MoveInputs(moved_on=date(2025, 12, 1), reason="未通过")
    result = move_firm(enrollment, "not_certified", reason, world["manager"])
    assert result.warnings == ["已生成可申领扶持：辅导认定经费（20,000.00 元）"]
    assert entries()[0].amount == Decimal("20000.00")


def test_no_rule_in_force_on_the_date_gives_nothing(world):
    enrollment = hte_to_review(world, applied_on=date(2016, 6, 20))
    move_firm(
        enrollment,
        "not_certified",
        MoveInputs(moved_on=date(2016, 12, 1), reason="未通过"),
        world["manager"],
    )
    assert entries() == []


# --- Entries kept by hand ------------------------------------------------------------------------


def hand_entry(firm, **values) -> SupportEntry:
    base = {
        "kind": "rd_subsidy",
        "title": "2025 年度研发经费投入后补助",
        "amount": Decimal("120000"),
        "granted_on": date(2026, 4, 1),
    }
    return services.add_entry(firm, {**base, **values})


def test_an_entry_by_hand_starts_claimable_and_moves_to_applied_then_paid(world):
    entry = hand_entry(world["firm"])
    assert entry.status == "claimable" and not entry.is_rule_made
    services.mark_applied(entry)
    with pytest.raises(SupportError, match="只有可申领的扶持可标记为已申请"):
        services.mark_applied(entry)
    with pytest.raises(SupportError, match="需填写拨付文号；已拨付的扶持需填写拨付日期"):
        services.mark_paid(entry, " ", None)
    services.mark_paid(entry, "梧科字〔2026〕12号", date(2026, 6, 1))
    db.session.commit()
    assert (entry.status, entry.document_number, entry.paid_on) == (
        "paid",
        "梧科字〔2026〕12号",
        date(2026, 6, 1),
    )
    with pytest.raises(SupportError, match="该扶持已拨付"):
        services.mark_paid(entry, "梧科字〔2026〕13号", date(2026, 6, 2))
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.entity == "support_entries",
                AuditEntry.firm_id == world["firm"].id,
                AuditEntry.field == "status",
            )
        )
        == 2
    )


def test_a_paid_entry_by_hand_needs_its_document(world):
    with pytest.raises(SupportError, match="已拨付的扶持需填写拨付文号"):
        hand_entry(world["firm"], status="paid", paid_on=date(2026, 5, 1))
    entry = hand_entry(
        world["firm"], status="paid", document_number="梧科字〔2026〕3号", paid_on=date(2026, 5, 1)
    )
    assert entry.paid_on == date(2026, 5, 1)


def test_leaving_paid_clears_the_payment_date(world):
    entry = hand_entry(
        world["firm"], status="paid", document_number="梧科字〔2026〕3号", paid_on=date(2026, 5, 1)
    )
    services.update_entry(entry, {"status": "applied"})
    assert (entry.status, entry.paid_on, entry.document_number) == (
        "applied",
        None,
        "梧科字〔2026〕3号",
    )


def test_a_rule_made_entry_keeps_its_kind_and_cannot_be_deleted(world):
    listing_walk(world["firm"], world["manager"], "reform", "sign", "tutor")
    [entry] = entries()
    services.update_entry(
        entry, {"kind": "other", "amount": Decimal("450000"), "notes": "按实拨付"}
    )
    assert (entry.kind, entry.amount, entry.notes) == (
        "listing_subsidy",
        Decimal("450000"),
        "按实拨付",
    )
    with pytest.raises(SupportError, match="由扶持规则生成的记录不能删除"):
        services.delete_entry(entry)
    hand = hand_entry(world["firm"])
    services.delete_entry(hand)
    assert [e.id for e in entries()] == [entry.id]


def test_firm_totals_sum_known_amounts_by_status_in_ledger_order(world):
    firm = world["firm"]
    hand_entry(firm, amount=Decimal("100000.50"))
    hand_entry(firm, amount=None)
    hand_entry(firm, status="applied", amount=Decimal("30000"))
    paid = dict(status="paid", document_number="梧科字〔2026〕3号", paid_on=date(2026, 5, 1))
    hand_entry(firm, amount=Decimal("250000"), **paid)
    hand_entry(factories.make_firm(), amount=Decimal("999"))
    totals = queries.firm_totals(firm.id)
    assert [(t.status, t.count, t.amount) for t in totals.by_status] == [
        ("claimable", 2, Decimal("100000.50")),
        ("applied", 1, Decimal("30000.00")),
        ("paid", 1, Decimal("250000.00")),
    ]
    assert (totals.count, totals.amount) == (4, Decimal("380000.50"))
