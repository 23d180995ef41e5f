"""Firms built to pass, to fall just short and to stay uncertain, for the eligibility page tests."""

from datetime import date, datetime
from decimal import Decimal

from crm.core import clock
from crm.eligibility.expert import save_expert_assessment
from crm.extensions import db
from tests import factories

#: 2026-06-01 12:00 in Asia/Shanghai: the application date assessed is 2026-06-01.
NOW = datetime(2026, 6, 1, 4, 0)
TODAY = date(2026, 6, 1)
HIGH_SCORES = factories.FULL_MARKS


def add_growing_years(firm, rd_ratio: Decimal = Decimal("0.06")) -> None:
    """Give a firm three years (2023–2025) of figures growing 40% a year, small (< ¥50 M sales)."""
    for i, year in enumerate((2023, 2024, 2025)):
        sales = Decimal("20000000") * Decimal("1.4") ** i
        net = Decimal("10000000") * Decimal("1.4") ** i
        rd = (sales * rd_ratio).quantize(Decimal("1"))
        factories.make_year(
            firm,
            year,
            total_revenue=sales + Decimal("500000"),
            sales_revenue=sales,
            hightech_revenue=(sales * Decimal("0.8")).quantize(Decimal("1")),
            rd_expense=rd,
            domestic_rd_expense=(rd * Decimal("0.9")).quantize(Decimal("1")),
            total_assets=net + Decimal("5000000"),
            total_liabilities=Decimal("5000000"),
            total_staff=100,
            tech_staff=25,
            transformed_results=5,
        )


def make_candidate(
    name: str, *, rd_ratio=Decimal("0.06"), expert=True, actor=None, **firm_overrides
):
    """Create a firm meeting every condition except, perhaps, R&D intensity; commit."""
    firm = factories.make_firm(name=name, established_on=date(2015, 5, 8), **firm_overrides)
    add_growing_years(firm, rd_ratio)
    factories.make_ip(firm, "invention", granted_on=date(2022, 1, 1))
    if expert:
        save_expert_assessment(firm, HIGH_SCORES, actor)
    db.session.commit()
    return firm


def make_world(**firm_overrides):
    """Create a passing, an uncertain and a failing firm (and one never assessed); commit."""
    with clock.frozen(NOW):
        passing = make_candidate("甲级通过科技有限公司", **firm_overrides)
        uncertain = make_candidate("乙级待定科技有限公司", expert=False, **firm_overrides)
        failing = make_candidate(
            "丙级差距科技有限公司", rd_ratio=Decimal("0.046"), **firm_overrides
        )
    return {"pass": passing, "uncertain": uncertain, "fail": failing}
