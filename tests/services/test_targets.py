"""Targets: set by the bureau, seeded from the doubling plan, never overwriting the bureau."""

from datetime import date
from decimal import Decimal

import pytest

from crm.dashboard.models import Target
from crm.dashboard.targets import (
    HTE_COUNT,
    doubling_plan,
    hte_counts_on,
    seed_doubling_plan,
    set_target,
    target_values,
)
from crm.extensions import db
from crm.firms.services import delete_firm
from tests import factories


def test_doubling_plan_doubles_the_base_in_equal_steps():
    assert doubling_plan(100, 5) == [115, 132, 152, 174, 200]
    assert doubling_plan(10, 2) == [14, 20]


def test_hte_counts_count_valid_certificates_by_district(app):
    wanzhou = factories.district("450403")
    other = factories.district("450405")
    for issued in (date(2023, 5, 1), date(2024, 11, 1)):
        factories.make_certificate(factories.make_firm(district=wanzhou), issued)
    factories.make_certificate(factories.make_firm(district=other), date(2024, 11, 1))
    # Expired by the day asked about.
    factories.make_certificate(factories.make_firm(district=other), date(2021, 1, 5))
    # Issued after the day.
    factories.make_certificate(factories.make_firm(district=other), date(2025, 2, 1))
    deleted = factories.make_firm(district=other)
    factories.make_certificate(deleted, date(2024, 3, 1))
    delete_firm(deleted)

    assert hte_counts_on(date(2024, 12, 31)) == {wanzhou.id: 2, other.id: 1}


def test_seeding_sets_placeholders_and_keeps_the_bureaus_values(app):
    district = factories.district("450403")
    for _ in range(10):
        factories.make_certificate(factories.make_firm(district=district), date(2024, 3, 1))

    assert seed_doubling_plan(2024, years=2) == 4
    assert target_values(2025, HTE_COUNT) == {None: Decimal(14), district.id: Decimal(14)}
    assert target_values(2026, HTE_COUNT) == {None: Decimal(20), district.id: Decimal(20)}
    assert all(t.placeholder for t in db.session.scalars(db.select(Target)))

    set_target(2026, HTE_COUNT, None, Decimal(25))
    factories.make_certificate(factories.make_firm(district=district), date(2024, 3, 1))
    seed_doubling_plan(2024, years=2)

    # The bureau's figure stays; the placeholders follow the new base of 11.
    assert target_values(2026, HTE_COUNT) == {None: Decimal(25), district.id: Decimal(22)}
    assert target_values(2025, HTE_COUNT)[None] == Decimal(16)


def test_set_target_removes_with_none_and_rejects_unknown_indicators(app):
    set_target(2026, HTE_COUNT, None, Decimal(30))
    set_target(2026, HTE_COUNT, None, None)
    assert target_values(2026, HTE_COUNT) == {}
    with pytest.raises(ValueError):
        set_target(2026, "nonsense", None, Decimal(1))
