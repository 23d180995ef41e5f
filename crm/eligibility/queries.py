"""Read-side selects for the eligibility pages; every firm list goes through firms.access."""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.sql import operators

from crm.accounts.models import User
from crm.core.web import Page, page_number
from crm.eligibility.facts import VERDICT_RANK
from crm.eligibility.models import Assessment, ExpertAssessment, SettingsVersion
from crm.extensions import db
from crm.firms.models import Firm
from crm.firms.queries import FirmFilters, filtered_firms, worth_walking

#: The verdict filter: a verdict, or `none` for firms not assessed yet.
VERDICT_FILTERS = ("pass", "uncertain", "fail", "none")
#: Rows fetched from the database at a time by an unpaged read.
_CHUNK = 2000
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


def _order(sort: str) -> list:
    """Return the ORDER BY of the assessed firms for `sort`, the order of one of the indexes.

    Each column has a natural direction whose ties follow the default order (nearest to passing
    first), the firm id last; the other direction is that order exactly reversed, which is the
    same index read backwards.
    """
    key = sort.removeprefix("-") or "verdict"
    rank = Assessment.verdict_rank
    natural = {
        "verdict": ("", [rank, Assessment.score_min.desc(), Assessment.largest_gap]),
        "score_min": ("-", [Assessment.score_min.desc(), rank, Assessment.largest_gap]),
        "score_max": (
            "-",
            [
                Assessment.score_max.desc(),
                rank,
                Assessment.score_min.desc(),
                Assessment.largest_gap,
            ],
        ),
        "largest_gap": ("", [Assessment.largest_gap, rank, Assessment.score_min.desc()]),
        "name": ("", [Firm.name, Firm.id]),
    }
    direction, order = natural[key]
    order = [*order, Assessment.firm_id] if key != "name" else order
    if sort and sort.startswith("-") != (direction == "-"):
        order = [_reversed(term) for term in order]
    return order


def _reversed(term):
    """Return an ORDER BY term in the opposite direction."""
    modifier = getattr(term, "modifier", None)
    if modifier is operators.desc_op:
        return term.element.asc()
    return term.desc()


def _firms(user: User, filters: ReadinessFilters, today: date, walk: bool = False) -> Select:
    """Return the select of the live firms `user` sees, narrowed by the firm filters.

    `walk`: the district filter is written with `+ 0`, so that SQLite walks the index of the
    sort and tests each firm's district instead of fetching the district's firms and sorting
    them (97 ms for a district of 11,000 at 100,000 firms); see `_walks`.
    """
    firm = replace(filters.firm, deleted=False)
    if not walk or firm.district_id is None:
        return filtered_firms(user, firm, today)
    stmt = filtered_firms(user, replace(firm, district_id=None), today)
    return stmt.where(Firm.district_id + 0 == firm.district_id)


def _walks(filters: ReadinessFilters, wanted: int) -> bool:
    """Tell whether the rows up to `wanted` are found sooner by walking the sort's index than
    through the district filter's (`firms.queries.worth_walking`)."""
    district = filters.firm.district_id
    if district is None:
        return False
    in_district = select(func.count()).where(
        Firm.district_id == district, Firm.deleted_at.is_(None)
    )
    return worth_walking(db.session.scalar(in_district), wanted)


def assessed_select(
    user: User, filters: ReadinessFilters, today: date, walk: bool = False
) -> Select:
    """Return the (firm, current assessment) rows `user` sees, in the order of the sort.

    The order is that of one index over the current assessments (or of the firm names), so the
    database walks it to the end of the page and joins each row to its firm. `+ 0` keeps SQLite
    on that walk where another index would find the rows sooner but out of order: the verdict
    index for a verdict filter under another sort, and the assessments for the name sort (the
    firms are walked by name and their assessment looked up).
    """
    sort = normalise_sort(filters.sort)
    key = sort.removeprefix("-") or "verdict"
    firm_id = Firm.id + 0 if key == "name" else Firm.id
    stmt = (
        _firms(user, filters, today, walk)
        .join(Assessment, and_(Assessment.firm_id == firm_id, Assessment.is_current))
        .add_columns(Assessment)
    )
    if filters.verdict in VERDICT_RANK:
        rank = Assessment.verdict_rank if key == "verdict" else Assessment.verdict_rank + 0
        stmt = stmt.where(rank == VERDICT_RANK[filters.verdict])
    return stmt.order_by(*_order(sort))


def unassessed_select(
    user: User, filters: ReadinessFilters, today: date, walk: bool = False
) -> Select:
    """Return the firms `user` sees that have no assessment yet, by name (read off its index)."""
    current = select(Assessment.id).where(Assessment.firm_id == Firm.id, Assessment.is_current)
    descending = normalise_sort(filters.sort) == "-name"
    order = [Firm.name.desc(), Firm.id.desc()] if descending else [Firm.name, Firm.id]
    return _firms(user, filters, today, walk).where(~current.exists()).order_by(*order)


def readiness_page(
    user: User, filters: ReadinessFilters, number: int, per_page: int, today: date
) -> Page:
    """Return one page of (firm, assessment or None) rows of the readiness list.

    The assessed firms come first in the order of the sort, then the firms not assessed yet by
    name: two selects, each read off an index to the end of the page. Only a page past the
    assessed firms counts them, to know where the unassessed ones start.
    """
    number = page_number(number)
    offset, wanted = (number - 1) * per_page, per_page + 1
    rows: list = []
    with_assessed = filters.verdict != "none"
    with_unassessed = filters.verdict not in VERDICT_FILTERS or filters.verdict == "none"
    walk = _walks(filters, offset + wanted)
    assessed = assessed_select(user, filters, today, walk)
    if with_assessed:
        rows = [tuple(row) for row in db.session.execute(assessed.limit(wanted).offset(offset))]
    if with_unassessed and len(rows) < wanted:
        if rows or not with_assessed or offset == 0:
            before = offset + len(rows) if with_assessed else 0
        else:
            before = db.session.scalar(
                select(func.count()).select_from(
                    assessed.order_by(None).with_only_columns(Assessment.id).subquery()
                )
            )
        rest = unassessed_select(user, filters, today, walk).limit(wanted - len(rows))
        rows += [(firm, None) for firm in db.session.scalars(rest.offset(max(0, offset - before)))]
    return Page(items=rows[:per_page], number=number, has_next=len(rows) > per_page)


def readiness_rows(user: User, filters: ReadinessFilters, today: date) -> Iterator[tuple]:
    """Yield every (firm, assessment or None) row of the readiness list in its order, unpaged:
    the assessed firms in the order of the sort, then those not assessed yet by name."""
    if filters.verdict != "none":
        yield from db.session.execute(assessed_select(user, filters, today)).yield_per(_CHUNK)
    if filters.verdict not in VERDICT_FILTERS or filters.verdict == "none":
        rest = db.session.scalars(unassessed_select(user, filters, today)).yield_per(_CHUNK)
        yield from ((firm, None) for firm in rest)


def count_readiness(user: User, filters: ReadinessFilters, today: date) -> int:
    """Return how many rows the readiness list has for `filters`."""
    total = 0
    if filters.verdict != "none":
        assessed = assessed_select(user, filters, today).order_by(None)
        total += _count(assessed.with_only_columns(Assessment.id))
    if filters.verdict not in VERDICT_FILTERS or filters.verdict == "none":
        rest = unassessed_select(user, filters, today).order_by(None)
        total += _count(rest.with_only_columns(Firm.id))
    return total


def _count(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def expert_assessment(firm_id: int) -> ExpertAssessment | None:
    """Return the manager's assessment of a firm, if any."""
    return db.session.scalar(select(ExpertAssessment).where(ExpertAssessment.firm_id == firm_id))


def settings_versions() -> list[SettingsVersion]:
    """Return every settings version, newest first."""
    return list(db.session.scalars(select(SettingsVersion).order_by(SettingsVersion.id.desc())))
