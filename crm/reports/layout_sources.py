"""What the government layouts list, and the two that are not about certification.

Each layout has a source: a function of the parameters, the user (whose reach bounds the
firms), the shown column keys (only what they need is read) and today, returning a `Source`
with the title, the years of the yearly columns, the rows and the notes. The high-tech ones are
in `layout_hte`; here:

- 上市后备企业名单: the firms whose listing-reserve enrollment was open some day of the year,
  with the stage they stood in at its end (today, for the current year).
- 扶持资金汇总表: the support entries registered (by their date) in the year, summed by firm and
  kind, of one status or all.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from crm.accounts.models import User
from crm.extensions import db
from crm.firms.certificates import firms_certified_on
from crm.firms.models import Firm
from crm.listing.models import MARKETS, NEEQ_TIERS, ListingCase
from crm.pipeline import queries as pipeline_queries
from crm.pipeline.models import Enrollment, Stage, StageTransition
from crm.pipeline.rules import LISTING
from crm.reports.layout_book import chinese_date
from crm.reports.layout_rows import Row, contacts_filler, firm_select, stream, years_filler
from crm.support.models import SupportEntry
from crm.support.rules import ENTRY_STATUSES

#: How many accounting years of figures the layouts show.
FIGURE_YEARS = 3


@dataclass(frozen=True)
class Params:
    """What a layout is asked for; each layout reads the parameters it has."""

    year: int | None = None
    batch_id: int | None = None
    district_id: int | None = None
    #: A support entry status (`ENTRY_STATUSES`), or None for every entry.
    status: str | None = None


@dataclass
class Source:
    """A layout's rows and what its title and notes say about them."""

    #: The title without the city, e.g. "2026年高企后备库入库企业名单".
    title: str
    #: The years of the yearly columns, oldest first.
    years: list[int]
    rows: Any
    #: (note, the column keys it explains; empty: always shown).
    notes: list[tuple[str, frozenset[str]]] = field(default_factory=list)


def figure_years(year: int) -> list[int]:
    """Return the accounting years before `year` that a layout of `year` shows, oldest first."""
    return list(range(year - FIGURE_YEARS, year))


def closing_day(year: int, today: date) -> date:
    """Return the day a layout of `year` describes: the year's last day, or today if earlier."""
    return min(date(year, 12, 31), today)


# --- 上市后备企业名单 ----------------------------------------------------------------------------


def listing(params: Params, user: User, keys: set[str], today: date) -> Source:
    """Return the firms whose listing-reserve enrollment was open in `params.year`."""
    year = params.year
    first, last, as_of = date(year, 1, 1), date(year, 12, 31), closing_day(year, today)
    enrollments = (
        select(
            Enrollment.id,
            Enrollment.firm_id,
            Enrollment.opened_on,
            func.row_number()
            .over(
                partition_by=Enrollment.firm_id,
                order_by=(Enrollment.opened_on.desc(), Enrollment.id.desc()),
            )
            .label("rank"),
        )
        .where(
            Enrollment.programme_id == pipeline_queries.programme(LISTING).id,
            Enrollment.opened_on <= last,
            or_(Enrollment.closed_on.is_(None), Enrollment.closed_on >= first),
        )
        .subquery()
    )
    # The firm's latest enrollment and its stage on the day, in one subquery: joining two
    # ranked subqueries made PostgreSQL guess one row each and compare every pair (6.5 s).
    current = enrollments.c.rank == 1
    latest = (
        select(
            enrollments.c.id.label("enrollment_id"),
            enrollments.c.firm_id,
            enrollments.c.opened_on,
            StageTransition.to_stage_id,
            StageTransition.moved_on,
            StageTransition.document_number,
            func.row_number()
            .over(
                partition_by=StageTransition.enrollment_id,
                order_by=(
                    StageTransition.moved_on.desc(),
                    StageTransition.at.desc(),
                    StageTransition.id.desc(),
                ),
            )
            .label("rank"),
        )
        .join(enrollments, and_(enrollments.c.id == StageTransition.enrollment_id, current))
        .where(StageTransition.moved_on <= as_of)
        .subquery()
    )
    stmt = (
        firm_select(
            latest.c.opened_on.label("entered_on"),
            Stage.name.label("stage"),
            latest.c.moved_on.label("stage_on"),
            latest.c.document_number.label("document"),
            ListingCase.target_market.label("market_code"),
            ListingCase.neeq_tier.label("tier_code"),
            ListingCase.sponsor_broker.label("sponsor_broker"),
            ListingCase.law_firm.label("law_firm"),
            ListingCase.audit_firm.label("audit_firm"),
            ListingCase.stock_code.label("stock_code"),
            user=user,
            district_id=params.district_id,
        )
        .join(latest, and_(latest.c.firm_id == Firm.id, latest.c.rank == 1))
        .join(Stage, Stage.id == latest.c.to_stage_id)
        .outerjoin(ListingCase, ListingCase.enrollment_id == latest.c.enrollment_id)
    )
    years = figure_years(year)

    def describe(rows: list[Row]) -> None:
        certified = (
            firms_certified_on([row["firm_id"] for row in rows], as_of)
            if "is_hte" in keys
            else set()
        )
        for row in rows:
            row["target_market"] = MARKETS.get(row.pop("market_code") or "")
            row["neeq_tier"] = NEEQ_TIERS.get(row.pop("tier_code") or "")
            row["is_hte"] = "是" if row["firm_id"] in certified else "否"

    return Source(
        title=f"{year}年上市后备企业名单",
        years=years,
        rows=stream(stmt, [describe, years_filler(keys, years), contacts_filler(keys)]),
        notes=[
            (
                f"名单为{year}年内在上市后备资源库中的企业；所处阶段为{chinese_date(as_of)}的阶段。",
                frozenset(),
            ),
        ],
    )


# --- 扶持资金汇总表 ------------------------------------------------------------------------------


def support(params: Params, user: User, keys: set[str], today: date) -> Source:
    """Return the support entries registered in `params.year`, summed by firm and kind."""
    year = params.year
    conditions = [SupportEntry.granted_on.between(date(year, 1, 1), date(year, 12, 31))]
    if params.status in ENTRY_STATUSES:
        conditions.append(SupportEntry.status == params.status)
    stmt = firm_select(user=user, district_id=params.district_id).where(
        Firm.id.in_(select(SupportEntry.firm_id).where(*conditions))
    )

    def sums(rows: list[Row]) -> None:
        ids = sorted({row["firm_id"] for row in rows})
        paid = case((SupportEntry.status == "paid", SupportEntry.amount), else_=0)
        found: dict[int, dict[str, Any]] = {}
        grouped = (
            select(
                SupportEntry.firm_id,
                SupportEntry.kind,
                func.coalesce(func.sum(SupportEntry.amount), 0),
                func.count(SupportEntry.id),
                func.coalesce(func.sum(paid), 0),
            )
            .where(SupportEntry.firm_id.in_(ids), *conditions)
            .group_by(SupportEntry.firm_id, SupportEntry.kind)
        )
        for firm_id, kind, amount, count, paid_amount in db.session.execute(grouped):
            firm = found.setdefault(
                firm_id, {"total": Decimal(0), "paid": Decimal(0), "entries": 0}
            )
            firm[f"kind_{kind}"] = Decimal(amount)
            firm["total"] += Decimal(amount)
            firm["paid"] += Decimal(paid_amount)
            firm["entries"] += count
        documents: dict[int, list[str]] = {}
        if "documents" in keys:
            numbers = (
                select(SupportEntry.firm_id, SupportEntry.document_number)
                .where(
                    SupportEntry.firm_id.in_(ids),
                    SupportEntry.document_number.is_not(None),
                    *conditions,
                )
                .distinct()
                .order_by(SupportEntry.firm_id, SupportEntry.document_number)
            )
            for firm_id, number in db.session.execute(numbers):
                documents.setdefault(firm_id, []).append(number)
        for row in rows:
            row.update(found.get(row["firm_id"], {}))
            row["documents"] = "；".join(documents.get(row["firm_id"], [])) or None

    status = ENTRY_STATUSES.get(params.status or "")
    return Source(
        title=f"{year}年扶持资金汇总表",
        years=[],
        rows=stream(stmt, [sums, contacts_filler(keys)]),
        notes=[
            (
                f"按登记日期统计{year}年的扶持事项"
                + (f"（仅状态为「{status}」的）" if status else "（含可申领、已申请和已拨付的）")
                + "；未定金额的事项按 0 计。",
                frozenset(),
            ),
        ],
    )
