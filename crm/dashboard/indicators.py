"""The dashboard indicators the funnel does not answer (domain.md §8), each one SQL statement.

High-tech enterprises on a day, R&D intensity of the high-tech reserve pool, invention patents
held, and support money paid in a year, optionally broken down by district, park, technology field
or account manager, with the same `by` and `scope` as `crm.dashboard.funnel`. Soft-deleted firms
never count; the functions return plain rows with names, never ORM objects.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from crm.dashboard.funnel import Scope, _firm_filter, _group_column, _group_name, _named
from crm.firms.certificates import valid_on
from crm.firms.models import Certificate, Firm, FirmYear, IPItem
from crm.pipeline.models import Enrollment, Programme, Stage
from crm.pipeline.rules import HTE
from crm.support.models import SupportEntry
from crm.support.rules import SUPPORT_KINDS

#: The stages of the high-tech programme that make up the reserve pool: admitted (高企后备库)
#: and coached (一企一策辅导, still a pooled firm). Applied and later stages have left the pool.
POOL_STAGES = ("reserve", "coaching")
INVENTION = "invention"
PAID = "paid"


@dataclass(frozen=True)
class GroupCount:
    """A count of firms or items in one group of the breakdown (None: the whole scope)."""

    count: int
    group_id: int | None = None
    group: str | None = None


@dataclass(frozen=True)
class RdIntensity:
    """The reserve pool's R&D expense and sales revenue of a year, summed over its firms."""

    #: Firms in the pool now.
    firms: int
    #: Of these, the firms whose figures of the year have both R&D expense and sales revenue.
    firms_with_figures: int
    rd_expense: Decimal
    revenue: Decimal
    group_id: int | None = None
    group: str | None = None

    @property
    def percent(self) -> float | None:
        """Return R&D expense ÷ sales revenue as a percentage, or None without revenue."""
        if not self.revenue:
            return None
        return float(self.rd_expense / self.revenue * 100)


@dataclass(frozen=True)
class SupportPaid:
    """The support money (yuan) paid out in a year, of one kind or all (`kind` None)."""

    amount: Decimal
    entries: int
    kind: str | None = None
    kind_name: str | None = None
    group_id: int | None = None
    group: str | None = None


def hte_count(day: date, by: str | None = None, scope: Scope = None) -> list[GroupCount]:
    """Count the firms holding a valid high-tech certificate on `day` (domain.md §9).

    A firm with several valid certificates counts once. Without a breakdown there is one row,
    0 when none hold one; with one, only the groups that have such firms.
    """
    group = _group_column(by)
    holders = select(Certificate.firm_id).where(valid_on(day)).distinct().subquery()
    stmt = (
        select(group.label("group_id"), func.count().label("count"))
        .select_from(Firm)
        .join(holders, holders.c.firm_id == Firm.id)
        .where(*_firm_filter(scope))
        .group_by(*([group] if by else []))
    )
    return _counts(stmt, by, group)


def invention_patents(day: date, by: str | None = None, scope: Scope = None) -> list[GroupCount]:
    """Count the invention patents held on `day`: granted by then, still valid, and owned.

    An item without a grant date is an application, not a patent held; one used under a licence
    is not the firm's own (domain.md §9). Rows as `hte_count`.
    """
    group = _group_column(by)
    stmt = (
        select(group.label("group_id"), func.count().label("count"))
        .select_from(IPItem)
        .join(Firm, Firm.id == IPItem.firm_id)
        .where(
            IPItem.kind == INVENTION,
            IPItem.status == "valid",
            IPItem.acquisition != "license",
            IPItem.granted_on <= day,
            *_firm_filter(scope),
        )
        .group_by(*([group] if by else []))
    )
    return _counts(stmt, by, group)


def pool_rd_intensity(year: int, by: str | None = None, scope: Scope = None) -> list[RdIntensity]:
    """Return the R&D intensity of the high-tech reserve pool over the figures of `year`.

    The pool is the firms with an open enrollment of the high-tech programme in the stages
    `POOL_STAGES` (高企后备库 and 一企一策辅导). Intensity is Σ R&D expense ÷ Σ sales revenue of
    their `FirmYear` of `year`, summed over the firms that have both figures. Without a breakdown
    there is one row (all zero for an empty pool); with one, only the groups with pooled firms.
    """
    group = _group_column(by)
    pooled = (
        select(Enrollment.firm_id)
        .join(Stage, Stage.id == Enrollment.stage_id)
        .join(Programme, Programme.id == Enrollment.programme_id)
        .where(
            Programme.code == HTE,
            Stage.code.in_(POOL_STAGES),
            Enrollment.closed_on.is_(None),
        )
        .distinct()
        .subquery()
    )
    complete = and_(FirmYear.rd_expense.is_not(None), FirmYear.sales_revenue.is_not(None))
    stmt = (
        select(
            group.label("group_id"),
            func.count().label("firms"),
            func.count(case((complete, 1))).label("with_figures"),
            func.coalesce(func.sum(case((complete, FirmYear.rd_expense))), 0).label("rd"),
            func.coalesce(func.sum(case((complete, FirmYear.sales_revenue))), 0).label("revenue"),
        )
        .select_from(Firm)
        .join(pooled, pooled.c.firm_id == Firm.id)
        .outerjoin(FirmYear, and_(FirmYear.firm_id == Firm.id, FirmYear.year == year))
        .where(*_firm_filter(scope))
        .group_by(*([group] if by else []))
    )
    rows = _named(stmt, by, group)
    if by is None and not rows:
        return [RdIntensity(0, 0, Decimal(0), Decimal(0))]
    return [
        RdIntensity(
            row.firms,
            row.with_figures,
            Decimal(row.rd),
            Decimal(row.revenue),
            row.group_id if by else None,
            _group_name(by, row),
        )
        for row in rows
    ]


def support_paid(
    year: int, by: str | None = None, scope: Scope = None, by_kind: bool = False
) -> list[SupportPaid]:
    """Return the support money paid out in `year`: entries paid with a pay day in the year.

    An entry counts when its status is 已拨付 and `paid_on` falls in `year`; an entry without an
    amount counts as an entry with 0 yuan. With `by_kind` there is a row per kind that had
    payments (in the order of `SUPPORT_KINDS`); without, one total per group. Without a breakdown
    and `by_kind`, there is always one row.
    """
    group = _group_column(by)
    kind_columns = [SupportEntry.kind] if by_kind else []
    stmt = (
        select(
            group.label("group_id"),
            *kind_columns,
            func.coalesce(func.sum(SupportEntry.amount), 0).label("amount"),
            func.count().label("entries"),
        )
        .select_from(SupportEntry)
        .join(Firm, Firm.id == SupportEntry.firm_id)
        .where(
            SupportEntry.status == PAID,
            SupportEntry.paid_on >= date(year, 1, 1),
            SupportEntry.paid_on <= date(year, 12, 31),
            *_firm_filter(scope),
        )
        .group_by(*([group] if by else []), *kind_columns)
    )
    rows = _named(stmt, by, group)
    if by is None and not by_kind and not rows:
        return [SupportPaid(Decimal(0), 0)]
    result = [
        SupportPaid(
            Decimal(row.amount),
            row.entries,
            row.kind if by_kind else None,
            SUPPORT_KINDS.get(row.kind, row.kind) if by_kind else None,
            row.group_id if by else None,
            _group_name(by, row),
        )
        for row in rows
    ]
    if by_kind:
        order = {kind: n for n, kind in enumerate(SUPPORT_KINDS)}
        # Stable: the groups keep their order, the kinds follow SUPPORT_KINDS within each.
        groups = {row.group_id: n for n, row in enumerate(result)}
        result.sort(key=lambda r: (groups[r.group_id], order.get(r.kind, len(order))))
    return result


def _counts(stmt, by: str | None, group) -> list[GroupCount]:
    rows = _named(stmt, by, group)
    if by is None:
        return [GroupCount(rows[0].count if rows else 0)]
    return [GroupCount(row.count, row.group_id, _group_name(by, row)) for row in rows]
