"""Read-side selects for the eligibility pages; every firm list goes through firms.access."""

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Select, and_, case, select

from crm.accounts.models import User
from crm.core.web import Page, paginate
from crm.eligibility.facts import VERDICT_RANK
from crm.eligibility.models import Assessment, ExpertAssessment, SettingsVersion
from crm.extensions import db
from crm.firms.models import Firm
from crm.firms.queries import FirmFilters, firm_list_select

#: The verdict filter: a verdict, or `none` for firms not assessed yet.
VERDICT_FILTERS = ("pass", "uncertain", "fail", "none")
#: Sortable columns; the default (empty) puts the firms nearest to passing first.
SORTS = ("verdict", "score_min", "score_max", "largest_gap", "name")


@dataclass
class ReadinessFilters:
    """The firm-list filters plus a verdict, and the sort of the readiness list."""

    firm: FirmFilters
    verdict: str | None = None
    sort: str = ""


def normalise_sort(sort: str | None) -> str:
    """Return `sort` when it names a sortable column (with an optional `-`), else the default."""
    if sort and sort.removeprefix("-") in SORTS:
        return sort
    return ""


def verdict_rank():
    """Return the SQL expression ranking verdicts from nearest to passing to farthest."""
    return case(VERDICT_RANK, value=Assessment.verdict, else_=len(VERDICT_RANK))


def readiness_select(user: User, filters: ReadinessFilters, today: date) -> Select:
    """Return the select of (firm, current assessment or None) rows `user` sees, sorted."""
    firm_filters = replace(filters.firm, sort="name", deleted=False)
    stmt = (
        firm_list_select(user, firm_filters, today)
        .order_by(None)
        .outerjoin(Assessment, and_(Assessment.firm_id == Firm.id, Assessment.is_current))
        .add_columns(Assessment)
    )
    if filters.verdict == "none":
        stmt = stmt.where(Assessment.id.is_(None))
    elif filters.verdict in VERDICT_FILTERS:
        stmt = stmt.where(Assessment.verdict == filters.verdict)
    # Firms not assessed yet come last whatever the sort.
    order = [case((Assessment.id.is_(None), 1), else_=0)]
    sort = normalise_sort(filters.sort)
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    columns = {
        "verdict": verdict_rank(),
        "score_min": Assessment.score_min,
        "score_max": Assessment.score_max,
        "largest_gap": Assessment.largest_gap,
        "name": Firm.name,
    }
    if key:
        column = columns[key]
        order.append(column.desc() if descending else column.asc())
    order += [
        verdict_rank(),
        Assessment.score_min.desc(),
        Assessment.largest_gap.asc(),
        Firm.name.asc(),
        Firm.id.asc(),
    ]
    return stmt.order_by(*order)


def readiness_page(
    user: User, filters: ReadinessFilters, number: int, per_page: int, today: date
) -> Page:
    """Return one page of (firm, assessment) rows of the readiness list."""
    return paginate(readiness_select(user, filters, today), number, per_page, scalars=False)


def expert_assessment(firm_id: int) -> ExpertAssessment | None:
    """Return the manager's assessment of a firm, if any."""
    return db.session.scalar(select(ExpertAssessment).where(ExpertAssessment.firm_id == firm_id))


def settings_versions() -> list[SettingsVersion]:
    """Return every settings version, newest first."""
    return list(db.session.scalars(select(SettingsVersion).order_by(SettingsVersion.id.desc())))
