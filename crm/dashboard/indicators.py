"""The dashboard indicators the funnel does not answer (domain.md §8), each one SQL statement.

High-tech enterprises on a day, R&D intensity of the high-tech reserve pool, invention patents
held, and support money paid in a year, optionally broken down by district, park, technology field
or account manager, with the same `by` and `scope` as `crm.dashboard.funnel`. Soft-deleted firms
never count; the functions return plain rows with names, never ORM objects. All but the support
paid read the funnel summary (`crm.pipeline.summary`); the support ledger joins its firm copies.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, or_, select

from crm.accounts.models import User
from crm.core.permissions import sees_all_firms
from crm.dashboard.funnel import (
    Scope,
    _group_column,
    _group_name,
    _named,
    _programme_id,
    _scope_parts,
    _stage_id,
    _summary_filter,
)
from crm.extensions import db
from crm.firms.models import Firm
from crm.pipeline import summary
from crm.pipeline.models import (
    FunnelCertificate,
    FunnelFirm,
    FunnelPatent,
    FunnelPoolYear,
    FunnelPosition,
)
from crm.pipeline.rules import HTE
from crm.support.models import SupportEntry
from crm.support.rules import SUPPORT_KINDS

POOL_STAGES = summary.POOL_STAGES
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
    0 when none hold one; with one, only the groups that have such firms. The certificates are
    read off the funnel summary, with the condition of `crm.firms.certificates.valid_on`.
    """
    summary.settle(db.session)
    group = _group_column(by, FunnelCertificate)
    held = FunnelCertificate
    stmt = (
        select(group.label("group_id"), func.count(held.firm_id.distinct()).label("count"))
        .where(
            held.issued_on <= day,
            held.expires_on >= day,
            or_(held.ended_on.is_(None), held.ended_on > day),
            *_summary_filter(held, scope),
        )
        .group_by(*([group] if by else []))
    )
    return _counts(stmt, by, group)


def invention_patents(day: date, by: str | None = None, scope: Scope = None) -> list[GroupCount]:
    """Count the invention patents held on `day`: granted by then, still valid, and owned.

    An item without a grant date is an application, not a patent held; one used under a licence
    is not the firm's own (domain.md §9); the funnel summary keeps the others. Rows as
    `hte_count`.
    """
    summary.settle(db.session)
    group = _group_column(by, FunnelPatent)
    stmt = (
        select(group.label("group_id"), func.count().label("count"))
        .where(FunnelPatent.granted_on <= day, *_summary_filter(FunnelPatent, scope))
        .group_by(*([group] if by else []))
    )
    return _counts(stmt, by, group)


def pool_rd_intensity(year: int, by: str | None = None, scope: Scope = None) -> list[RdIntensity]:
    """Return the R&D intensity of the high-tech reserve pool over the figures of `year`.

    The pool is the firms with an open enrollment of the high-tech programme in the stages
    `POOL_STAGES` (高企后备库 and 一企一策辅导). Intensity is Σ R&D expense ÷ Σ sales revenue of
    their `FirmYear` of `year`, summed over the firms that have both figures. Without a breakdown
    there is one row (all zero for an empty pool); with one, only the groups with pooled firms.
    Both the pool and its figures are read off the funnel summary.
    """
    summary.settle(db.session)
    pool = _group_column(by, FunnelPosition)
    stmt = (
        select(pool.label("group_id"), func.count().label("firms"))
        .where(
            FunnelPosition.programme_id == _programme_id(HTE),
            FunnelPosition.stage_id.in_([_stage_id(HTE, stage) for stage in POOL_STAGES]),
            *_summary_filter(FunnelPosition, scope),
        )
        .group_by(*([pool] if by else []))
    )
    group = _group_column(by, FunnelPoolYear)
    figures = (
        select(
            group.label("group_id"),
            func.count().label("firms"),
            func.sum(FunnelPoolYear.rd_expense).label("rd"),
            func.sum(FunnelPoolYear.sales_revenue).label("revenue"),
        )
        .where(FunnelPoolYear.year == year, *_summary_filter(FunnelPoolYear, scope))
        .group_by(*([group] if by else []))
    )
    known = {row.group_id: row for row in db.session.execute(figures)}
    rows = _named(stmt, by, pool)
    if by is None and not rows:
        return [RdIntensity(0, 0, Decimal(0), Decimal(0))]
    result = []
    for row in rows:
        # Without a breakdown the sums come back as one row, of NULLs when no firm has figures.
        found = known.get(row.group_id if by else None)
        result.append(
            RdIntensity(
                row.firms,
                found.firms if found else 0,
                Decimal(found.rd or 0) if found else Decimal(0),
                Decimal(found.revenue or 0) if found else Decimal(0),
                row.group_id if by else None,
                _group_name(by, row),
            )
        )
    return result


def support_paid(
    year: int, by: str | None = None, scope: Scope = None, by_kind: bool = False
) -> list[SupportPaid]:
    """Return the support money paid out in `year`: entries paid with a pay day in the year.

    An entry counts when its status is 已拨付 and `paid_on` falls in `year`; an entry without an
    amount counts as an entry with 0 yuan. With `by_kind` there is a row per kind that had
    payments (in the order of `SUPPORT_KINDS`); without, one total per group. Without a breakdown
    and `by_kind`, there is always one row.
    """
    group = _group_column(by, FunnelFirm)
    kind_columns = [SupportEntry.kind] if by_kind else []
    stmt = (
        select(
            group.label("group_id"),
            *kind_columns,
            func.coalesce(func.sum(SupportEntry.amount), 0).label("amount"),
            func.count().label("entries"),
        )
        .select_from(SupportEntry)
        .where(
            SupportEntry.status == PAID,
            SupportEntry.paid_on >= date(year, 1, 1),
            SupportEntry.paid_on <= date(year, 12, 31),
        )
        .group_by(*([group] if by else []), *kind_columns)
    )
    rows = _named(_of_firms(stmt, SupportEntry.firm_id, by, scope), by, group)
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


def _of_firms(stmt: Select, firm_id, by: str | None, scope: Scope) -> Select:
    """Narrow a select of rows of firms (`firm_id`) to the live firms of `scope`.

    For the whole city without a breakdown the rows are read alone off their index, leaving out
    the few deleted firms by id; otherwise they join the funnel summary's narrow copy of their
    firms, whose columns the breakdown groups by.
    """
    parts = _scope_parts(scope)
    if by is None and all(isinstance(part, User) and sees_all_firms(part) for part in parts):
        return stmt.where(firm_id.not_in(select(Firm.id).where(Firm.deleted_at.is_not(None))))
    summary.settle(db.session)
    return stmt.join(FunnelFirm, FunnelFirm.firm_id == firm_id).where(
        *_summary_filter(FunnelFirm, scope)
    )


def _counts(stmt, by: str | None, group) -> list[GroupCount]:
    rows = _named(stmt, by, group)
    if by is None:
        return [GroupCount(rows[0].count if rows else 0)]
    return [GroupCount(row.count, row.group_id, _group_name(by, row)) for row in rows]
