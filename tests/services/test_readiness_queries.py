"""The readiness list's selects: the order of each sort, paging across the unassessed firms, and
the indexes that give each page without sorting every firm."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from crm.eligibility import queries, services
from crm.eligibility.facts import VERDICT_RANK
from crm.eligibility.models import Assessment
from crm.extensions import db
from crm.firms.models import Firm
from crm.firms.queries import FirmFilters
from tests import factories
from tests.plans import sorts_rows

TODAY = date(2026, 6, 15)

#: (name, verdict, score_min, score_max, largest_gap) of the assessed firms, with ties.
ASSESSED = (
    ("甲公司", "pass", 80, 90, "0"),
    ("乙公司", "pass", 80, 85, "0"),
    ("丙公司", "uncertain", 65, 80, "0.1000"),
    ("丁公司", "fail", 40, 60, "0.3000"),
    ("戊公司", "fail", 40, 60, "0.3000"),
    ("己公司", "fail", 55, 75, "0.0500"),
)
UNASSESSED = ("子公司", "丑公司")


@pytest.fixture
def admin(app):
    firms = [factories.make_firm(name=name) for name, *_ in ASSESSED]
    for name in UNASSESSED:
        factories.make_firm(name=name)
    db.session.commit()
    # Firms are assessed as they are created; these assessments replace the computed ones.
    db.session.execute(delete(Assessment))
    version = services.settings_in_force(TODAY)
    for firm, (_, verdict, low, high, gap) in zip(firms, ASSESSED, strict=True):
        db.session.add(
            Assessment(
                firm_id=firm.id,
                applied_on=TODAY,
                settings_id=version.id,
                verdict=verdict,
                verdict_rank=VERDICT_RANK[verdict],
                score_min=low,
                score_max=high,
                largest_gap=Decimal(gap),
                tech_sme_year=2026,
                tech_sme_verdict="fail",
                result={},
                tech_sme={},
            )
        )
    user = factories.make_user("admin")
    db.session.commit()
    return user


def names(user, sort="", verdict=None, per_page=50) -> list[str]:
    """Return the names of every page of the list, read page by page."""
    filters = queries.ReadinessFilters(FirmFilters(), verdict, sort)
    found, number = [], 1
    while True:
        page = queries.readiness_page(user, filters, number, per_page, TODAY)
        found += [firm.name for firm, _ in page.items]
        if not page.has_next:
            return found
        number += 1


def test_the_default_order_puts_the_nearest_to_passing_first_and_the_unassessed_last(admin):
    # Ties on verdict, lowest score and gap keep the order the firms were registered in.
    assert names(admin) == [
        "甲公司",
        "乙公司",
        "丙公司",
        "己公司",
        "丁公司",
        "戊公司",
        "丑公司",
        "子公司",
    ]


@pytest.mark.parametrize("key", ["verdict", "score_min", "score_max", "largest_gap", "name"])
def test_the_opposite_direction_lists_the_assessed_firms_exactly_reversed(admin, key):
    ascending, descending = names(admin, key), names(admin, f"-{key}")
    assessed = len(ASSESSED)
    assert descending[:assessed] == ascending[:assessed][::-1]
    assert set(ascending[assessed:]) == set(descending[assessed:]) == set(UNASSESSED)


def test_the_natural_direction_of_each_column_breaks_ties_nearest_to_passing_first(admin):
    assert names(admin, "-score_min")[:3] == ["甲公司", "乙公司", "丙公司"]
    assert names(admin, "-score_max")[:2] == ["甲公司", "乙公司"]
    assert names(admin, "largest_gap")[:3] == ["甲公司", "乙公司", "己公司"]


@pytest.mark.parametrize("per_page", [1, 2, 4, 5, 7])
def test_pages_continue_from_the_assessed_firms_into_the_unassessed(admin, per_page):
    assert names(admin, per_page=per_page) == names(admin)
    assert names(admin, "-name", per_page=per_page) == names(admin, "-name")


def test_the_verdict_filter_pages_through_its_firms_alone(admin):
    assert names(admin, verdict="fail", per_page=2) == ["己公司", "丁公司", "戊公司"]
    assert names(admin, verdict="none", per_page=1) == ["丑公司", "子公司"]


def test_a_page_past_the_end_is_empty(admin):
    filters = queries.ReadinessFilters(FirmFilters())
    page = queries.readiness_page(admin, filters, 9, 2, TODAY)
    assert page.items == [] and not page.has_next


SORTS = ["", "verdict", "-verdict", "-score_min", "score_min", "-score_max", "score_max"]
SORTS += ["largest_gap", "-largest_gap", "name", "-name"]


@pytest.mark.parametrize("role", ["admin", "manager"])
@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_reads_an_index_in_order(app, role, sort):
    user = factories.make_user(
        role, **({"districts": [factories.district()]} if role == "manager" else {})
    )
    db.session.commit()
    filters = queries.ReadinessFilters(FirmFilters(), None, sort)
    assert not sorts_rows(queries.assessed_select(user, filters, TODAY).limit(101))
    assert not sorts_rows(queries.unassessed_select(user, filters, TODAY).limit(101))


def test_the_verdict_filter_reads_the_index_in_order(app):
    user = factories.make_user("admin")
    db.session.commit()
    filters = queries.ReadinessFilters(FirmFilters(), "fail", "-score_max")
    assert not sorts_rows(queries.assessed_select(user, filters, TODAY).limit(101))


@pytest.mark.parametrize("walk", [True, False])
@pytest.mark.parametrize("sort", ["", "-score_max", "name"])
def test_a_district_lists_the_same_firms_whichever_index_finds_them(admin, monkeypatch, sort, walk):
    """On SQLite a large district is found by walking the sort's index and a small one through
    the district index (`queries._walks`); both give the same rows in the same order."""
    other = factories.district("450405")
    for firm in db.session.scalars(select(Firm).where(Firm.name.in_(["乙公司", "丑公司"]))):
        firm.district = other
    db.session.commit()
    expected = [n for n in names(admin, sort) if n not in ("乙公司", "丑公司")]
    monkeypatch.setattr(queries, "_walks", lambda filters, wanted: walk)
    home = factories.district().id
    for per_page in (1, 3, 50):
        found, number = [], 1
        filters = queries.ReadinessFilters(FirmFilters(district_id=home), None, sort)
        while True:
            page = queries.readiness_page(admin, filters, number, per_page, TODAY)
            found += [firm.name for firm, _ in page.items]
            if not page.has_next:
                break
            number += 1
        assert found == expected
    if walk:
        assert not sorts_rows(queries.assessed_select(admin, filters, TODAY, walk).limit(101))
