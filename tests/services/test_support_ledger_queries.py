"""The support ledger's selects: latest first across pages, and each filter's page read off an
index in that order rather than sorting every entry."""

from datetime import date
from decimal import Decimal

import pytest

from crm.extensions import db
from crm.support import queries
from crm.support.models import SupportEntry
from tests import factories
from tests.plans import sorts_rows

#: (title, granted_on, kind, status) of the entries, two on one day.
ENTRIES = (
    ("甲", date(2024, 3, 1), "rd_subsidy", "paid"),
    ("乙", date(2026, 4, 1), "voucher", "claimable"),
    ("丙", date(2025, 7, 1), "rd_subsidy", "applied"),
    ("丁", date(2026, 4, 1), "rd_subsidy", "claimable"),
    ("戊", date(2025, 1, 9), "hte_award", "paid"),
)


@pytest.fixture
def admin(app):
    firm = factories.make_firm()
    for title, granted_on, kind, status in ENTRIES:
        entry = SupportEntry(
            firm_id=firm.id, title=title, granted_on=granted_on, kind=kind, amount=Decimal(1000)
        )
        entry.status = status
        db.session.add(entry)
        db.session.flush()
    user = factories.make_user("admin")
    db.session.commit()
    return user


def titles(user, filters: queries.LedgerFilters, per_page: int = 2) -> list[str]:
    """Return the titles of every page of the ledger, read page by page."""
    found, number = [], 1
    while True:
        page = queries.ledger_page(user, filters, number, per_page)
        found += [entry.title for entry in page.items]
        if not page.has_next:
            return found
        number += 1


def test_the_ledger_comes_latest_first_and_the_later_entry_first_on_one_day(admin):
    assert titles(admin, queries.LedgerFilters()) == ["丁", "乙", "丙", "戊", "甲"]
    assert titles(admin, queries.LedgerFilters(year=2025)) == ["丙", "戊"]
    assert titles(admin, queries.LedgerFilters(kind="rd_subsidy")) == ["丁", "丙", "甲"]
    assert titles(admin, queries.LedgerFilters(status="paid")) == ["戊", "甲"]


def _page_select(user, filters: queries.LedgerFilters):
    return (
        queries.ledger_select(user, filters)
        .with_only_columns(SupportEntry.id)
        .order_by(SupportEntry.granted_on.desc(), SupportEntry.id.desc())
        .limit(51)
    )


@pytest.mark.parametrize(
    "filters",
    [
        queries.LedgerFilters(),
        queries.LedgerFilters(year=2025),
        queries.LedgerFilters(kind="voucher"),
        queries.LedgerFilters(status="claimable"),
    ],
    ids=["none", "year", "kind", "status"],
)
@pytest.mark.parametrize("role", ["admin", "manager"])
def test_each_filter_of_the_ledger_reads_an_index_in_order(app, admin, filters, role):
    user = admin if role == "admin" else factories.make_user("manager")
    assert not sorts_rows(_page_select(user, filters))
