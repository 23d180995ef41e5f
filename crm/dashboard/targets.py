"""The targets of the dashboard indicators (domain.md §8): reading, setting and seeding them.

Targets are data: administrators set them per year, for the whole city or a district. A fresh
database gets placeholders from the doubling plan (倍增计划): the count of high-tech enterprises
at the end of a base year, doubled over the plan's years in equal yearly steps, city-wide and per
district. The bureau replaces them with its own figures; a value it sets is never overwritten by
seeding again.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select

from crm.dashboard.models import Target
from crm.extensions import db
from crm.firms.certificates import valid_on
from crm.firms.models import Certificate, Firm


@dataclass(frozen=True)
class Indicator:
    """An indicator that can have a target: its key, Chinese name and unit."""

    key: str
    name: str
    unit: str
    #: Digits shown after the decimal point.
    places: int = 0


#: The indicators a target can be set for, in the order pages list them.
INDICATORS = {
    indicator.key: indicator
    for indicator in (
        Indicator("hte_count", "高新技术企业数", "家"),
        Indicator("reserve_count", "高企后备库入库企业数", "家"),
        Indicator("listing_reserve_count", "上市后备企业数", "家"),
        Indicator("invention_patents", "有效发明专利", "件"),
        Indicator("rd_intensity", "后备库企业研发投入强度", "%", 2),
        Indicator("support_paid", "扶持资金兑现", "万元", 2),
    )
}
HTE_COUNT = "hte_count"
#: The doubling plan's years: the count doubles in this many years after the base year.
DOUBLING_YEARS = 5


def targets_of(year: int, indicator: str | None = None) -> list[Target]:
    """Return the targets of `year` (of one indicator, if given), city-wide first."""
    stmt = select(Target).where(Target.year == year)
    if indicator is not None:
        stmt = stmt.where(Target.indicator == indicator)
    stmt = stmt.order_by(Target.indicator, Target.district_id.is_not(None), Target.district_id)
    return list(db.session.scalars(stmt))


def target_values(year: int, indicator: str) -> dict[int | None, Decimal]:
    """Return an indicator's targets for `year` by district id (None: the whole city)."""
    return {target.district_id: target.value for target in targets_of(year, indicator)}


def set_target(year: int, indicator: str, district_id: int | None, value: Decimal | None) -> None:
    """Set (or, with `value` None, remove) one target; the bureau's value is no placeholder.

    Flushes; the caller commits.
    """
    if indicator not in INDICATORS:
        raise ValueError(f"unknown indicator {indicator!r}")
    target = db.session.scalar(
        select(Target).where(
            Target.year == year,
            Target.indicator == indicator,
            Target.district_id.is_(None)
            if district_id is None
            else Target.district_id == district_id,
        )
    )
    if value is None:
        if target is not None:
            db.session.delete(target)
    elif target is None:
        db.session.add(Target(year=year, indicator=indicator, district_id=district_id, value=value))
    else:
        target.value = value
        target.placeholder = False
    db.session.flush()


def hte_counts_on(day: date) -> dict[int | None, int]:
    """Return how many firms held a valid high-tech certificate on `day`, by district id.

    Deleted firms do not count; a firm with several valid certificates counts once.
    """
    holders = select(Certificate.firm_id).where(valid_on(day)).distinct().subquery()
    rows = db.session.execute(
        select(Firm.district_id, func.count())
        .join(holders, holders.c.firm_id == Firm.id)
        .where(Firm.deleted_at.is_(None))
        .group_by(Firm.district_id)
    )
    return {district_id: count for district_id, count in rows}


def doubling_plan(base: int, years: int = DOUBLING_YEARS) -> list[int]:
    """Return the yearly targets that double `base` in `years` equal (geometric) steps."""
    return [
        int((Decimal(base) * Decimal(2 ** (step / years))).quantize(Decimal(1), ROUND_HALF_UP))
        for step in range(1, years + 1)
    ]


def seed_doubling_plan(base_year: int, years: int = DOUBLING_YEARS) -> int:
    """Seed placeholder HTE targets for the years after `base_year`; return how many were set.

    The base is the count of high-tech enterprises on 31 December of `base_year`, city-wide and
    per district (districts without one get none). Placeholders are replaced; values the bureau
    set stay. Flushes; the caller commits.
    """
    counts = hte_counts_on(date(base_year, 12, 31))
    bases: dict[int | None, int] = {None: sum(counts.values())}
    bases.update((district_id, n) for district_id, n in counts.items() if district_id is not None)
    existing = {
        (target.year, target.district_id): target
        for target in db.session.scalars(
            select(Target).where(
                Target.indicator == HTE_COUNT,
                Target.year > base_year,
                Target.year <= base_year + years,
            )
        )
    }
    seeded = 0
    for district_id, base in bases.items():
        if base <= 0:
            continue
        for year, value in zip(
            range(base_year + 1, base_year + years + 1), doubling_plan(base, years), strict=True
        ):
            target = existing.get((year, district_id))
            if target is None:
                db.session.add(
                    Target(
                        year=year,
                        indicator=HTE_COUNT,
                        district_id=district_id,
                        value=Decimal(value),
                        placeholder=True,
                    )
                )
            elif target.placeholder:
                target.value = Decimal(value)
            else:
                continue
            seeded += 1
    db.session.flush()
    return seeded
