"""Measures the eligibility rules share: formatting, the years and IP that count, growth rates."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from crm.eligibility.facts import FirmFacts, IPFacts
from crm.eligibility.settings import Band, HteSettings

ZERO = Decimal(0)
ONE = Decimal(1)
WAN = Decimal(10000)


# --- Formatting ------------------------------------------------------------------------------


def percent(ratio: Decimal) -> str:
    """Show a ratio as a percentage with one decimal: 0.032 → 3.2%."""
    return f"{(ratio * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def threshold_percent(ratio: Decimal) -> str:
    """Show a threshold ratio without needless decimals: 0.05 → 5%, 0.035 → 3.5%."""
    value = (ratio * 100).normalize()
    return f"{value:f}%"


def wan_needed(amount: Decimal) -> str:
    """Show an amount still needed in 万元, rounded up to 0.1 so following it is enough."""
    return f"{(amount / WAN).quantize(Decimal('0.1'), ROUND_CEILING)}"


def wan(amount: Decimal) -> str:
    """Show an amount in 万元 with two decimals."""
    return f"{(amount / WAN).quantize(Decimal('0.01'), ROUND_HALF_UP):,}"


def years_text(years: Sequence[int]) -> str:
    return "、".join(str(y) for y in years)


# --- Which years and which IP count ------------------------------------------------------------


def window_years(facts: FirmFacts, applied_on: date, count: int) -> list[int]:
    """Return the accounting years before the application that count (fewer for young firms)."""
    years = list(range(applied_on.year - count, applied_on.year))
    if facts.established_on is not None:
        years = [y for y in years if y >= facts.established_on.year]
    return years


def counted_ip(items: Sequence[IPFacts], applied_on: date) -> list[IPFacts]:
    """Return the IP items that count: owned, valid, granted before the application date.

    A Class II item serves one application only, so one used in another year's application is
    left out; Class I items may be used again.
    """
    counted = []
    for item in items:
        if item.ip_class is None or item.status != "valid" or item.acquisition == "license":
            continue
        if item.granted_on is None or item.granted_on >= applied_on:
            continue
        if item.ip_class == "II" and item.used_in_year not in (None, applied_on.year):
            continue
        counted.append(item)
    return counted


# --- Growth ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Growth:
    """A growth rate, or why there is none (which then scores 0)."""

    rate: Decimal | None
    note: str


def growth_rate(values: Sequence[Decimal]) -> Growth:
    """Return `½ × (v2/v1 + v3/v2) − 1` over year-end values, oldest first, with the special cases.

    v1 = 0: the last two years only; v2 = 0: no rate (scores 0); two years: `v3/v2 − 1` with the
    earlier value as v2; one year or none: no rate. A negative denominator (negative net assets)
    gives no rate either: the ratio of two negative values would show growth that is not there.
    """
    if len(values) < 2:
        return Growth(None, "经营不足两个会计年度，无法计算增长率，按 0 分计")
    if len(values) == 2:
        v2, v3 = values
        v1 = None
    else:
        v1, v2, v3 = values[-3:]
    if v2 == 0:
        return Growth(None, "第二年末数值为 0，按 0 分计")
    if v2 < 0 or (v1 is not None and v1 < 0):
        return Growth(None, "存在为负的年末数值，按 0 分计")
    if v1 is None or v1 == 0:
        note = "按后两年计算" if v1 == 0 else "按实际经营年度计算"
        return Growth(v3 / v2 - ONE, note)
    return Growth((v2 / v1 + v3 / v2) / 2 - ONE, "")


def band_for(value: Decimal, bands: Sequence[Band]) -> tuple[int, int] | None:
    """Return the (low, high) points of the first band `value` reaches, or None."""
    for band in bands:
        if value >= band.at_least:
            return band.low, band.high
    return None


def growth_points(rate: Decimal | None, hte: HteSettings) -> tuple[int, int]:
    """Return the point range a growth rate scores."""
    if rate is None or rate <= 0:
        return 0, 0
    return band_for(rate, hte.growth_bands) or hte.growth_positive
