"""Tech-based SME evaluation (domain.md §7): the exact score at every band edge, and the verdict."""

from dataclasses import asdict, replace
from datetime import date
from decimal import Decimal

import pytest

from crm.eligibility.facts import (
    ExpertFacts,
    FirmFacts,
    IPFacts,
    TechSmeAssessment,
    YearFacts,
    jsonable,
)
from crm.eligibility.rules import assess_tech_sme
from crm.eligibility.settings import DEFAULTS

D = Decimal
CLEAN = ExpertFacts(clean_record=True)


def sme(
    *,
    staff=100,
    tech=30,
    sales=10_000_000,
    rd=600_000,
    costs=None,
    assets=20_000_000,
    ip=(),
    expert=CLEAN,
    hte=False,
):
    sales, rd, assets = D(sales), D(rd), D(assets)
    costs = None if costs is None else D(costs)
    row = YearFacts(
        2025,
        sales_revenue=sales,
        total_revenue=sales,
        rd_expense=rd,
        total_costs=costs,
        total_assets=assets,
        total_staff=staff,
        tech_staff=tech,
    )
    return FirmFacts(years=(row,), ip_items=tuple(ip), expert=expert, holds_valid_hte=hte)


def evaluate(facts):
    return assess_tech_sme(facts, 2026, DEFAULTS)


@pytest.mark.parametrize(
    ("tech", "points"),
    [(30, 20), (29, 16), (25, 16), (24, 12), (20, 12), (19, 8), (15, 8), (14, 4), (10, 4), (9, 0)],
)
def test_tech_staff_points(tech, points):
    assert evaluate(sme(tech=tech)).tech_staff_points == points


@pytest.mark.parametrize(
    ("rd", "points"),
    [
        (600_000, 50),
        (599_999, 40),
        (500_000, 40),
        (400_000, 30),
        (300_000, 20),
        (200_000, 10),
        (199_999, 0),
    ],
)
def test_rd_points_on_sales(rd, points):
    result = evaluate(sme(rd=D(rd)))
    assert result.rd_points == points
    assert result.rd_basis.startswith("研发费用占销售收入")


@pytest.mark.parametrize(
    ("costs", "points"),
    [
        (2_000_000, 50),
        (2_400_000, 40),
        (3_000_000, 30),
        (4_000_000, 20),
        (6_000_000, 10),
        (6_000_001, 0),
    ],
)
def test_rd_points_on_total_costs_when_better(costs, points):
    # R&D ¥600 k is only 1% of ¥60 M sales (0 points), so the cost option decides.
    result = evaluate(sme(rd=D(600_000), sales=D(60_000_000), costs=D(costs)))
    assert result.rd_points == points
    if points:
        assert result.rd_basis.startswith("研发费用占成本费用总额")


def test_the_better_of_the_two_rd_options_counts():
    result = evaluate(sme(rd=D(500_000), sales=D(10_000_000), costs=D(1_000_000)))
    assert result.rd_points == 50  # 5% of sales → 40, 50% of costs → 50


@pytest.mark.parametrize(
    ("kinds", "points"),
    [
        (["invention"], 30),
        (["software"] * 4, 24),
        (["software"] * 3, 18),
        (["utility_model"] * 2, 12),
        (["design"], 6),
        ([], 0),
    ],
)
def test_ip_points(kinds, points):
    ip = [IPFacts(kind, granted_on=date(2024, 1, 1)) for kind in kinds]
    assert evaluate(sme(ip=ip)).ip_points == points


def test_sixty_points_with_tech_staff_qualifies_and_fifty_nine_does_not():
    ip = [IPFacts("design", granted_on=date(2024, 1, 1))]
    passing = evaluate(sme(tech=10, rd=D(600_000), ip=ip))  # 4 + 50 + 6
    assert (passing.score, passing.verdict) == (60, "pass")
    failing = evaluate(sme(tech=10, rd=D(599_999), ip=[*ip, *ip]))  # 4 + 40 + 12
    assert (failing.score, failing.verdict) == (56, "fail")


def test_a_zero_tech_staff_score_fails_whatever_the_total():
    ip = [IPFacts("invention", granted_on=date(2024, 1, 1))]
    result = evaluate(sme(tech=5, rd=D(600_000), ip=ip))
    assert result.score == 80
    assert result.verdict == "fail"
    assert "科技人员指标得分为 0" in result.reasons


@pytest.mark.parametrize(
    "overrides",
    [{"staff": 501, "tech": 200}, {"sales": D("200000000.01")}, {"assets": D("200000000.01")}],
)
def test_firms_over_the_size_limits_fail(overrides):
    result = evaluate(sme(**overrides))
    assert result.verdict == "fail"
    assert result.size_problems


def test_firms_at_the_size_limits_may_qualify():
    result = evaluate(
        sme(staff=500, tech=150, sales=D(200_000_000), rd=D(12_000_000), assets=D(200_000_000))
    )
    assert result.size_problems == ()
    assert result.verdict == "pass"


def test_a_valid_hte_certificate_qualifies_directly_within_the_limits():
    result = evaluate(sme(tech=1, rd=D(0), hte=True))
    assert result.verdict == "pass"
    assert "有效期内的高新技术企业" in result.direct_routes
    too_big = evaluate(sme(tech=1, rd=D(0), hte=True, staff=800))
    assert too_big.verdict == "fail"


@pytest.mark.parametrize("route", ["national_award", "provincial_rd_institution", "led_standard"])
def test_each_direct_route_qualifies(route):
    expert = replace(CLEAN, **{route: True})
    assert evaluate(sme(tech=1, rd=D(0), expert=expert)).verdict == "pass"


def test_an_unconfirmed_record_leaves_the_verdict_uncertain_and_a_bad_one_fails():
    assert evaluate(sme(expert=ExpertFacts())).verdict == "uncertain"
    assert evaluate(sme(expert=ExpertFacts(clean_record=False))).verdict == "fail"


def test_missing_figures_leave_the_score_unknown():
    result = assess_tech_sme(FirmFacts(expert=CLEAN), 2026, DEFAULTS)
    assert result.score is None
    assert result.verdict == "uncertain"
    assert result.missing


@pytest.mark.parametrize(
    "facts",
    [sme(), sme(staff=600, hte=True), sme(tech=None), FirmFacts()],
    ids=["qualifies", "too-big-but-certified", "missing-staff", "nothing-known"],
)
def test_stored_form_is_the_dataclass_as_json_with_the_score(facts):
    result = evaluate(facts)
    expected = {**jsonable(asdict(result)), "score": result.score}
    assert result.to_dict() == expected
    assert TechSmeAssessment.from_dict(result.to_dict()) == result
