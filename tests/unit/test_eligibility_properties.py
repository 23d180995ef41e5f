"""Properties of the pre-assessment: doing more never makes a firm look worse."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.eligibility.facts import ExpertFacts, FirmFacts, IPFacts, YearFacts
from crm.eligibility.rules import assess_hte
from crm.eligibility.settings import DEFAULTS

APPLIED = date(2026, 6, 1)
money = st.integers(min_value=0, max_value=300_000_000).map(Decimal)
points = st.one_of(st.none(), st.integers(min_value=0, max_value=4))


@st.composite
def years(draw):
    rows = []
    for year in (2023, 2024, 2025):
        sales = draw(money)
        total = sales + draw(money)
        rd = draw(money)
        rows.append(
            YearFacts(
                year,
                total_revenue=total,
                sales_revenue=sales,
                hightech_revenue=draw(st.integers(0, int(total)).map(Decimal)),
                rd_expense=rd,
                domestic_rd_expense=draw(st.integers(0, int(rd)).map(Decimal)),
                total_assets=draw(money),
                total_liabilities=draw(money),
                total_staff=draw(st.integers(1, 600)),
                tech_staff=draw(st.integers(0, 60)),
                transformed_results=draw(st.integers(0, 8)),
            )
        )
    return tuple(rows)


ip_item = st.builds(
    IPFacts,
    kind=st.sampled_from(["invention", "utility_model", "software", "design"]),
    granted_on=st.dates(date(2015, 1, 1), date(2026, 5, 31)),
    acquisition=st.sampled_from(["own", "transfer"]),
)
expert = st.builds(
    ExpertFacts,
    tech_advancement=points,
    core_support=points,
    acquisition=points,
    rd_rules=points,
    clean_record=st.one_of(st.none(), st.booleans()),
)
firms = st.builds(
    FirmFacts,
    established_on=st.dates(date(2000, 1, 1), date(2025, 12, 31)),
    tech_field=st.just("电子信息"),
    years=years(),
    ip_items=st.lists(ip_item, max_size=6).map(tuple),
    expert=expert,
)


def _more_rd(facts: FirmFacts, extra: Decimal) -> FirmFacts:
    """Spend `extra` more on domestic R&D in every year (staying within the sales recorded)."""
    rows = tuple(
        replace(
            r, rd_expense=r.rd_expense + extra, domestic_rd_expense=r.domestic_rd_expense + extra
        )
        for r in facts.years
    )
    return replace(facts, years=rows)


@settings(max_examples=150, deadline=None)
@given(firms, st.integers(min_value=1, max_value=5_000_000).map(Decimal))
def test_more_rd_never_lowers_the_minimum_or_turns_pass_into_fail(facts, extra):
    before = assess_hte(facts, APPLIED, DEFAULTS)
    after = assess_hte(_more_rd(facts, extra), APPLIED, DEFAULTS)
    assert after.score_min >= before.score_min
    if before.verdict == "pass":
        assert after.verdict != "fail"


@settings(max_examples=150, deadline=None)
@given(firms, st.lists(ip_item, min_size=1, max_size=4))
def test_more_ip_never_lowers_the_minimum_or_turns_pass_into_fail(facts, extra):
    before = assess_hte(facts, APPLIED, DEFAULTS)
    after = assess_hte(replace(facts, ip_items=facts.ip_items + tuple(extra)), APPLIED, DEFAULTS)
    assert after.score_min >= before.score_min
    if before.verdict == "pass":
        assert after.verdict != "fail"


@settings(max_examples=100, deadline=None)
@given(firms)
def test_the_range_is_ordered_and_within_100(facts):
    result = assess_hte(facts, APPLIED, DEFAULTS)
    assert 0 <= result.score_min <= result.score_max <= 100
    assert (result.verdict == "pass") == all(c.status == "met" for c in result.conditions)
