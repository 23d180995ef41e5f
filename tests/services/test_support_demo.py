"""The demo ledger: entries following the demo's transitions as the live rules would, and more."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.demo.support import make_support_entries
from crm.extensions import db
from crm.pipeline.models import Enrollment, StageTransition
from crm.pipeline.queries import programme, stage_ids
from crm.support import services
from crm.support.models import SupportEntry
from tests import factories

TODAY = date(2026, 11, 22)
FIGURES = [{"year": 2025, "rd": 3_000_000_00}]  # R&D of ¥3 M last year, in cents


def _enrollment(firm, code: str, *moves: tuple[str, date]) -> Enrollment:
    """Write an enrollment and its transitions directly, as the demo does (no pipeline rules)."""
    stages = stage_ids(code)
    enrollment = Enrollment(
        firm_id=firm.id,
        programme_id=programme(code).id,
        stage_id=stages[moves[-1][0]],
        opened_on=moves[0][1],
    )
    previous = None
    for stage, on in moves:
        enrollment.transitions.append(
            StageTransition(
                firm_id=firm.id,
                from_stage_id=previous,
                to_stage_id=stages[stage],
                moved_on=on,
                at=datetime.combine(on, time(1, 30)),
            )
        )
        previous = stages[stage]
    db.session.add(enrollment)
    db.session.flush()
    return enrollment


@pytest.fixture
def batch(app):
    """An incubated firm certified twice, a failed firm, and a listing firm filed for tutoring."""
    incubator = factories.make_firm(name="梧州科创孵化器有限公司", is_incubator=True)
    certified = factories.make_firm(name="梧州甲科技有限公司", incubator_id=incubator.id)
    failed = factories.make_firm(name="梧州乙科技有限公司")
    listing = factories.make_firm(name="梧州丙股份有限公司")
    enrollments = [
        _enrollment(
            certified,
            "hte",
            ("prospect", date(2019, 3, 1)),
            ("reserve", date(2019, 4, 1)),
            ("applied", date(2020, 6, 1)),
            ("review", date(2020, 8, 1)),
            ("certified", date(2020, 12, 1)),
            ("applied", date(2023, 6, 1)),
            ("review", date(2023, 8, 1)),
            ("certified", date(2023, 12, 1)),
        ),
        _enrollment(
            failed,
            "hte",
            ("reserve", date(2025, 3, 1)),
            ("applied", date(2025, 6, 1)),
            ("review", date(2025, 8, 1)),
            ("not_certified", date(2025, 12, 1)),
        ),
        _enrollment(
            listing,
            "listing",
            ("pool", date(2024, 1, 1)),
            ("reform", date(2024, 6, 1)),
            ("sign", date(2025, 1, 1)),
            ("tutor", date(2026, 10, 1)),
        ),
    ]
    spec = {"profile": "mid", "figures": [], "established": date(2015, 5, 8)}
    firms = [(firm, dict(spec)) for firm in (incubator, certified, failed, listing)]
    return {
        "firms": firms,
        "enrollments": enrollments,
        "incubator": incubator,
        "certified": certified,
        "failed": failed,
        "listing": listing,
    }


def _draw(batch, seed=7):
    return make_support_entries(seed, batch["firms"], batch["enrollments"], TODAY, "梧州市")


def _key(entry: SupportEntry):
    return (
        entry.firm_id,
        entry.kind,
        entry.title,
        entry.amount,
        entry.granted_on,
        entry.status,
        entry.paid_on,
        entry.document_number,
        entry.trigger_key,
    )


def test_rule_entries_follow_the_transitions_as_the_live_rules_would(batch):
    entries = _draw(batch)
    got = {(e.firm_id, e.title, e.granted_on) for e in entries if e.rule_id is not None}
    assert got == {
        (batch["certified"].id, "高企首次认定奖励", date(2020, 12, 1)),
        (batch["incubator"].id, "孵化器培育高企奖励", date(2020, 12, 1)),
        (batch["certified"].id, "高企重新认定奖励", date(2023, 12, 1)),
        (batch["failed"].id, "辅导认定经费", date(2025, 12, 1)),
        (batch["listing"].id, "辅导备案补助", date(2026, 10, 1)),
    }
    award = next(e for e in entries if e.kind == "incubator_award")
    assert award.related_firm_id == batch["certified"].id
    tutor = next(e for e in entries if e.kind == "listing_subsidy")
    assert tutor.amount == Decimal("500000")
    transition = batch["enrollments"][2].transitions[-1]
    assert tutor.trigger_key == f"transition:{transition.id}"
    assert tutor.status == "claimable" and tutor.paid_on is None  # granted seven weeks ago


def test_old_entries_are_paid_with_a_document_an_amount_and_a_date(batch):
    old = [e for e in _draw(batch) if e.granted_on.year <= 2023]
    assert old
    for entry in old:
        if entry.status == "paid":
            assert entry.amount is not None and entry.document_number.startswith("梧科字〔")
            assert entry.granted_on < entry.paid_on <= TODAY
        else:
            assert entry.paid_on is None and entry.document_number is None
    assert any(e.status == "paid" for e in old)


def test_the_draw_is_deterministic_for_a_seed(batch):
    assert [_key(e) for e in _draw(batch)] == [_key(e) for e in _draw(batch)]


def test_demo_entries_are_valid_rows_and_the_live_pipeline_does_not_repeat_them(batch):
    db.session.add_all(_draw(batch))
    db.session.commit()
    for enrollment in batch["enrollments"]:
        for transition in enrollment.transitions:
            assert services.on_transition(enrollment, transition) == []
    assert db.session.query(SupportEntry).filter(SupportEntry.rule_id.is_not(None)).count() == 5


def test_managers_recorded_rd_subsidies_and_vouchers_by_hand(batch):
    for _, spec in batch["firms"]:
        spec.update(profile="strong", figures=FIGURES)
    kinds = {}
    for seed in range(40):
        for entry in _draw(batch, seed):
            if entry.rule_id is None:
                kinds.setdefault(entry.kind, []).append(entry)
    assert set(kinds) == {"rd_subsidy", "voucher"}
    for entry in kinds["rd_subsidy"]:
        assert entry.title == "2025 年度研发经费投入后补助"
        assert Decimal("90000") <= entry.amount <= Decimal("240000")
        assert entry.amount % 1000 == 0
        assert date(2026, 4, 1) <= entry.granted_on <= date(2026, 10, 31)
    for entry in kinds["voucher"]:
        assert entry.title.startswith("创新券（") and entry.notes.startswith("服务机构：")
        assert entry.granted_on <= TODAY
    assert not db.session.scalars(select(SupportEntry)).first()
