"""High-tech certification rules (domain.md §2): every condition and band at its boundaries."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.eligibility.facts import ExpertFacts, FirmFacts, IPFacts, YearFacts
from crm.eligibility.measures import growth_rate
from crm.eligibility.rules import assess_hte
from crm.eligibility.settings import DEFAULTS, HteSettings, RdTier, Settings

D = Decimal
APPLIED = date(2026, 6, 1)
YEARS = (2023, 2024, 2025)
#: Expert items all at their maximum, and a clean record.
FULL_EXPERT = ExpertFacts(
    tech_advancement=8,
    core_support=8,
    acquisition=6,
    standards=2,
    rd_rules=6,
    rd_institution=6,
    rd_incentives=4,
    rd_talent=4,
    clean_record=True,
)


def year(y, **overrides):
    """A year that meets every threshold of a small firm (sales ¥20 M, R&D 6%)."""
    values = {
        "total_revenue": D(21_000_000),
        "sales_revenue": D(20_000_000),
        "hightech_revenue": D(15_000_000),
        "rd_expense": D(1_200_000),
        "domestic_rd_expense": D(1_100_000),
        "total_assets": D(30_000_000),
        "total_liabilities": D(10_000_000),
        "total_staff": 100,
        "tech_staff": 20,
        "transformed_results": 5,
    }
    values.update(overrides)
    return YearFacts(y, **values)


def firm(years=None, ip=None, expert=FULL_EXPERT, **overrides):
    """A firm that passes with the default settings unless told otherwise."""
    return FirmFacts(
        established_on=overrides.pop("established_on", date(2015, 5, 8)),
        tech_field=overrides.pop("tech_field", "新材料"),
        years=tuple(years if years is not None else [year(y) for y in YEARS]),
        ip_items=tuple(
            ip if ip is not None else [IPFacts("invention", granted_on=date(2022, 3, 1))]
        ),
        expert=expert,
        **overrides,
    )


def same_years(**overrides):
    return [year(y, **overrides) for y in YEARS]


def status(facts, code, applied=APPLIED, settings=DEFAULTS):
    return assess_hte(facts, applied, settings).condition(code).status


def gap_messages(facts, applied=APPLIED):
    return [g.message for g in assess_hte(facts, applied, DEFAULTS).gaps]


def test_the_reference_firm_passes():
    result = assess_hte(firm(), APPLIED, DEFAULTS)
    assert [c.status for c in result.conditions] == ["met"] * 8
    assert result.verdict == "pass"
    assert result.score_min >= 71
    assert [g for g in result.gaps if g.shortfall > 0] == []


# --- 1. registered for a year ----------------------------------------------------------------


@pytest.mark.parametrize(("days", "expected"), [(365, "met"), (364, "unmet"), (366, "met")])
def test_registration_needs_365_days(days, expected):
    facts = firm(established_on=APPLIED - timedelta(days=days))
    assert status(facts, "registered") == expected


def test_a_young_firm_is_told_when_it_may_apply():
    facts = firm(established_on=date(2025, 3, 1))
    assert "成立未满一年：2026-03-01 起可申报" in gap_messages(facts, date(2026, 2, 1))
    assert assess_hte(facts, date(2026, 2, 1), DEFAULTS).verdict == "fail"


def test_an_unknown_establishment_date_is_unknown_not_unmet():
    assert status(firm(established_on=None), "registered") == "unknown"


# --- 2. IP ---------------------------------------------------------------------------------


def test_ip_granted_on_or_after_the_application_date_does_not_count():
    late = [IPFacts("invention", granted_on=APPLIED)]
    assert status(firm(ip=late), "owns_ip") == "unmet"
    ok = [IPFacts("invention", granted_on=APPLIED - timedelta(days=1))]
    assert status(firm(ip=ok), "owns_ip") == "met"


@pytest.mark.parametrize(
    "item",
    [
        IPFacts("invention", granted_on=date(2020, 1, 1), status="expired"),
        IPFacts("invention", granted_on=date(2020, 1, 1), acquisition="license"),
        IPFacts("software", granted_on=date(2020, 1, 1), used_in_year=2023),
    ],
    ids=["expired", "licensed", "class-ii-used-before"],
)
def test_ip_that_is_not_owned_valid_and_unused_does_not_count(item):
    assert status(firm(ip=[item]), "owns_ip") == "unmet"


def test_class_i_ip_may_be_reused_and_class_ii_reserved_for_this_year_counts():
    reused = IPFacts("invention", granted_on=date(2020, 1, 1), used_in_year=2023)
    this_year = IPFacts("software", granted_on=date(2020, 1, 1), used_in_year=2026)
    assert status(firm(ip=[reused]), "owns_ip") == "met"
    assert status(firm(ip=[this_year]), "owns_ip") == "met"


@pytest.mark.parametrize(
    ("count", "band", "hint"),
    [
        (0, (0, 0), "需 1 项 Ⅰ类知识产权或再取得 5 项 Ⅱ类"),
        (1, (1, 2), "需 1 项 Ⅰ类知识产权或再取得 4 项 Ⅱ类"),
        (2, (1, 2), "需 1 项 Ⅰ类知识产权或再取得 3 项 Ⅱ类"),
        (3, (3, 4), "需 1 项 Ⅰ类知识产权或再取得 2 项 Ⅱ类"),
        (4, (3, 4), "需 1 项 Ⅰ类知识产权或再取得 1 项 Ⅱ类"),
        (5, (5, 6), "需 1 项 Ⅰ类知识产权"),
    ],
)
def test_class_ii_only_ip_quantity_bands_and_hint(count, band, hint):
    ip = [IPFacts("utility_model", granted_on=date(2021, 1, 1)) for _ in range(count)]
    # Without expert scores the total is open, so the hint is given.
    result = assess_hte(firm(ip=ip, expert=ExpertFacts(clean_record=True)), APPLIED, DEFAULTS)
    quantity = next(i for i in result.indicator("ip").items if i.code == "ip_quantity")
    assert (quantity.low, quantity.high) == band
    assert hint in [g.message for g in result.gaps]


def test_one_class_i_item_scores_7_to_8_for_quantity():
    result = assess_hte(firm(), APPLIED, DEFAULTS)
    quantity = next(i for i in result.indicator("ip").items if i.code == "ip_quantity")
    assert (quantity.low, quantity.high) == (7, 8)


def test_the_ip_indicator_is_capped_at_30_with_the_standards_bonus():
    result = assess_hte(firm(), APPLIED, DEFAULTS)
    ip = result.indicator("ip")
    assert sum(i.high for i in ip.items) == 32
    assert ip.high == 30


def test_acquisition_points_follow_the_band_the_ip_allows():
    bought = [IPFacts("invention", granted_on=date(2020, 1, 1), acquisition="transfer")]
    result = assess_hte(firm(ip=bought), APPLIED, DEFAULTS)
    acquisition = next(i for i in result.indicator("ip").items if i.code == "acquisition")
    assert (acquisition.low, acquisition.high) == (3, 3)  # assessed 6, clamped into 1–3
    open_result = assess_hte(firm(ip=bought, expert=ExpertFacts()), APPLIED, DEFAULTS)
    acquisition = next(i for i in open_result.indicator("ip").items if i.code == "acquisition")
    assert (acquisition.low, acquisition.high, acquisition.source) == (1, 3, "open")


# --- 3. field ------------------------------------------------------------------------------


def test_a_missing_technology_field_is_unknown():
    assert status(firm(tech_field=None), "tech_field") == "unknown"


# --- 4. tech staff -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tech", "total", "expected"), [(10, 100, "met"), (9, 100, "unmet"), (1, 10, "met")]
)
def test_tech_staff_needs_ten_percent(tech, total, expected):
    years = [*same_years()[:2], year(2025, tech_staff=tech, total_staff=total)]
    assert status(firm(years=years), "tech_staff") == expected


def test_the_tech_staff_gap_counts_the_people_to_hire():
    years = [*same_years()[:2], year(2025, tech_staff=8, total_staff=100)]
    assert "科技人员占比 8.0%，还需 3 名科技人员" in gap_messages(firm(years=years))


def test_only_the_latest_year_counts_for_tech_staff():
    years = [year(2023, tech_staff=1), year(2024, tech_staff=1), year(2025)]
    assert status(firm(years=years), "tech_staff") == "met"


# --- 5. R&D intensity ----------------------------------------------------------------------


def rd_firm(sales_latest, ratio):
    """Three years of equal sales except the latest, with R&D at `ratio` of the total."""
    sales = [D(10_000_000), D(10_000_000), D(sales_latest)]
    total = sum(sales)
    rd = [total * ratio / 3] * 3
    years = [
        year(
            y,
            sales_revenue=s,
            total_revenue=s,
            hightech_revenue=s,
            rd_expense=r,
            domestic_rd_expense=r,
        )
        for y, s, r in zip(YEARS, sales, rd, strict=True)
    ]
    return firm(years=years)


@pytest.mark.parametrize(
    ("latest_sales", "ratio", "expected"),
    [
        (50_000_000, D("0.05"), "met"),
        (50_000_000, D("0.0499"), "unmet"),
        (D("50000000.01"), D("0.04"), "met"),
        (D("50000000.01"), D("0.0399"), "unmet"),
        (200_000_000, D("0.04"), "met"),
        (200_000_000, D("0.0399"), "unmet"),
        (D("200000000.01"), D("0.03"), "met"),
        (D("200000000.01"), D("0.0299"), "unmet"),
    ],
)
def test_rd_intensity_tiers_follow_the_latest_sales_inclusively(latest_sales, ratio, expected):
    assert status(rd_firm(latest_sales, ratio), "rd_intensity") == expected


def test_the_rd_gap_says_how_much_more_rd_is_needed():
    years = same_years(
        sales_revenue=D(20_000_000), rd_expense=D(640_000), domestic_rd_expense=D(640_000)
    )
    assert "研发费用占比 3.2%，需达到 5%：近三年研发投入还差 108.0 万元" in gap_messages(
        firm(years=years)
    )


@pytest.mark.parametrize(("domestic", "expected"), [(D(600_000), "met"), (D("599999.99"), "unmet")])
def test_domestic_rd_must_be_sixty_percent(domestic, expected):
    years = same_years(rd_expense=D(1_000_000), domestic_rd_expense=domestic)
    assert status(firm(years=years), "rd_intensity") == expected


def test_a_younger_firm_sums_the_years_it_has():
    facts = firm(years=[year(2024), year(2025)], established_on=date(2024, 1, 10))
    result = assess_hte(facts, APPLIED, DEFAULTS)
    assert result.condition("rd_intensity").status == "met"
    assert "近2年" in result.condition("rd_intensity").value


def test_missing_rd_figures_make_the_condition_unknown():
    years = [year(2023, rd_expense=None), year(2024), year(2025)]
    result = assess_hte(firm(years=years), APPLIED, DEFAULTS)
    assert result.condition("rd_intensity").status == "unknown"
    assert result.verdict == "uncertain"
    assert any("2023" in m for m in [g.message for g in result.gaps])


# --- 6. high-tech revenue ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hightech", "expected"), [(D(12_600_000), "met"), (D("12599999.99"), "unmet")]
)
def test_high_tech_revenue_must_be_sixty_percent_of_total(hightech, expected):
    years = [*same_years()[:2], year(2025, total_revenue=D(21_000_000), hightech_revenue=hightech)]
    assert status(firm(years=years), "hightech_revenue") == expected


# --- 7. the score ----------------------------------------------------------------------------


def scored_firm(expert, *, transformed, net_assets, sales):
    """A firm meeting conditions 1-6 and 8 whose score is tuned by the given figures."""
    years = [
        year(
            y,
            transformed_results=transformed,
            total_assets=D(10_000_000) + n,
            total_liabilities=D(10_000_000),
            sales_revenue=s,
            total_revenue=s * 2,
            hightech_revenue=s * 2,
            rd_expense=s / 10,
            domestic_rd_expense=s / 10,
        )
        for y, n, s in zip(YEARS, net_assets, sales, strict=True)
    ]
    return firm(years=years, expert=expert)


def test_a_score_whose_maximum_is_70_fails():
    expert = replace(FULL_EXPERT, rd_rules=0, rd_institution=0, rd_incentives=0, rd_talent=0)
    facts = scored_firm(
        expert,
        transformed=5,  # 25-30
        net_assets=[D(1_000_000), D(1_400_000), D(1_960_000)],  # 40% → 9-10
        sales=[D(1_000_000), D(1_000_000), D(1_000_000)],  # 0% → 0
    )
    result = assess_hte(facts, APPLIED, DEFAULTS)
    assert (result.score_min, result.score_max) == (64, 70)
    assert result.condition("score").status == "unmet"
    assert result.verdict == "fail"
    assert "创新能力评分最高 70 分，需达到 71 分" in [g.message for g in result.gaps]


def test_a_score_whose_minimum_is_71_passes_and_70_does_not():
    expert = replace(
        FULL_EXPERT,
        acquisition=5,
        standards=0,
        rd_rules=0,
        rd_institution=0,
        rd_incentives=0,
        rd_talent=0,
    )
    growing = [D(1_000_000), D(1_400_000), D(1_960_000)]  # 40% → 9-10
    facts = scored_firm(expert, transformed=5, net_assets=growing, sales=growing)
    result = assess_hte(facts, APPLIED, DEFAULTS)
    assert result.score_min == 71
    assert result.verdict == "pass"
    lower = scored_firm(
        replace(expert, acquisition=4), transformed=5, net_assets=growing, sales=growing
    )
    result = assess_hte(lower, APPLIED, DEFAULTS)
    assert result.score_min == 70
    assert result.score_max >= 71
    assert result.condition("score").status == "unknown"
    assert result.verdict == "uncertain"


@pytest.mark.parametrize(
    ("average", "band"),
    [(5, (25, 30)), (4, (19, 24)), (3, (13, 18)), (2, (7, 12)), (1, (1, 6)), (0, (0, 0))],
)
def test_transformation_bands(average, band):
    years = same_years(transformed_results=average)
    item = assess_hte(firm(years=years), APPLIED, DEFAULTS).indicator("transformation").items[0]
    assert (item.low, item.high) == band


def test_transformation_uses_the_yearly_average():
    years = [
        year(2023, transformed_results=2),
        year(2024, transformed_results=3),
        year(2025, transformed_results=4),
    ]  # 3.0 a year
    item = assess_hte(firm(years=years), APPLIED, DEFAULTS).indicator("transformation").items[0]
    assert (item.low, item.high) == (13, 18)


def test_unassessed_expert_items_leave_the_whole_range_open():
    result = assess_hte(firm(expert=ExpertFacts()), APPLIED, DEFAULTS)
    rd = result.indicator("rd_management")
    assert (rd.low, rd.high) == (0, 20)
    assert {i.source for i in rd.items} == {"open"}
    assert result.verdict == "uncertain"


# --- 8. clean record ---------------------------------------------------------------------------


def test_an_unconfirmed_record_keeps_the_verdict_uncertain_and_a_bad_one_fails():
    assert (
        assess_hte(firm(expert=replace(FULL_EXPERT, clean_record=None)), APPLIED, DEFAULTS).verdict
        == "uncertain"
    )
    assert (
        assess_hte(firm(expert=replace(FULL_EXPERT, clean_record=False)), APPLIED, DEFAULTS).verdict
        == "fail"
    )


# --- Growth --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "rate"),
    [
        ([D(100), D(150), D(180)], D("0.35")),  # ½(1.5 + 1.2) − 1
        ([D(0), D(100), D(140)], D("0.4")),  # v1 = 0: the last two years
        ([D(100), D(140)], D("0.4")),  # two years only
        ([D(100), D(90), D(81)], D("-0.1")),
    ],
)
def test_growth_rate(values, rate):
    assert growth_rate(values).rate == rate


@pytest.mark.parametrize(
    "values", [[D(100), D(0), D(50)], [D(-50), D(100), D(150)], [D(100), D(-20), D(10)], [D(5)]]
)
def test_growth_without_a_rate_scores_zero(values):
    assert growth_rate(values).rate is None


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        ("0.35", (9, 10)),
        ("0.3499", (7, 8)),
        ("0.25", (7, 8)),
        ("0.15", (5, 6)),
        ("0.05", (3, 4)),
        ("0.0499", (1, 2)),
        ("0.0001", (1, 2)),
        ("0", (0, 0)),
        ("-0.2", (0, 0)),
    ],
)
def test_growth_bands(rate, band):
    sales = [D(1_000_000), D(1_000_000), D(1_000_000) * (1 + 2 * D(rate))]
    # ½(1 + (1 + 2r)) − 1 = r
    facts = firm(years=[year(y, sales_revenue=s) for y, s in zip(YEARS, sales, strict=True)])
    item = next(
        i
        for i in assess_hte(facts, APPLIED, DEFAULTS).indicator("growth").items
        if i.code == "sales_growth"
    )
    assert (item.low, item.high) == band


def test_growth_over_negative_net_assets_scores_zero():
    years = [
        year(y, total_assets=D(5_000_000), total_liabilities=D(debt))
        for y, debt in zip(YEARS, (8_000_000, 6_000_000, 4_000_000), strict=True)
    ]
    item = next(
        i
        for i in assess_hte(firm(years=years), APPLIED, DEFAULTS).indicator("growth").items
        if i.code == "net_asset_growth"
    )
    assert (item.low, item.high) == (0, 0)


# --- Settings and stored results ---------------------------------------------------------------


def test_a_changed_threshold_changes_the_result():
    stricter = Settings(
        hte=replace(
            HteSettings(), rd_tiers=(RdTier(D(50_000_000), D("0.07")), RdTier(None, D("0.03")))
        )
    )
    assert status(firm(), "rd_intensity") == "met"
    assert status(firm(), "rd_intensity", settings=stricter) == "unmet"


def test_an_assessment_survives_storage():
    from crm.eligibility.facts import HteAssessment

    result = assess_hte(rd_firm(20_000_000, D("0.03")), APPLIED, DEFAULTS)
    assert HteAssessment.from_dict(result.to_dict()) == result


def test_the_fast_serialiser_gives_what_asdict_gives():
    from dataclasses import asdict

    from crm.eligibility.facts import jsonable

    for facts in (firm(), rd_firm(20_000_000, D("0.03")), firm(expert=ExpertFacts())):
        result = assess_hte(facts, APPLIED, DEFAULTS)
        assert result.to_dict() == jsonable(asdict(result))
