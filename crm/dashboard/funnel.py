"""Funnel figures of the cultivation programmes (domain.md §8), each answered by one SQL statement.

Firms now in each stage, conversion between two stages by cohort year, median days in a stage, and
certificates expiring per year, optionally broken down by district, park, technology field or
account manager. `scope` limits the count to the firms a user may see (`firms.access.firm_scope`),
or to any other condition on the firm columns the funnel summary copies (district, park, field,
manager); soft-deleted firms never count. The figures read the summary (`crm.pipeline.summary`):
its counts of positions, first entries and stays, and its copies of the certificates. The
functions return plain rows with names, never ORM objects, the same way on SQLite and PostgreSQL.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Integer,
    Select,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import visitors
from sqlalchemy.sql.functions import FunctionElement

from crm.accounts.models import User
from crm.core import clock
from crm.extensions import db
from crm.firms.access import firm_scope
from crm.firms.models import Firm
from crm.pipeline import summary
from crm.pipeline.models import (
    FunnelCertificate,
    FunnelEntryCount,
    FunnelLengthCount,
    FunnelRunningCount,
    FunnelStageCount,
    Programme,
    Stage,
)
from crm.pipeline.rules import PROGRAMMES
from crm.reference.models import District, Park, TechField

#: The breakdowns the dashboard offers, with the name of the group of firms that have none.
BREAKDOWNS = {
    "district": "未填写县（市、区）",
    "park": "不在园区",
    "field": "未填写技术领域",
    "manager": "未指定服务专员",
}
#: The firm column each breakdown groups by.
GROUP_COLUMNS = {
    "district": "district_id",
    "park": "park_id",
    "field": "tech_field_id",
    "manager": "manager_id",
}
#: A user (the firms they may see), a condition on `Firm`, or a sequence of these, all of which
#: must hold (a user's reach narrowed by the dashboard's filters).
Scope = User | ColumnElement[bool] | Sequence[User | ColumnElement[bool]] | None


@dataclass(frozen=True)
class StageCount:
    """How many firms a programme has in a stage now, in one group of the breakdown."""

    stage: str
    stage_name: str
    firms: int
    #: The district, park, field or manager; None (and `group` None) without a breakdown.
    group_id: int | None = None
    group: str | None = None


@dataclass(frozen=True)
class Conversion:
    """Of the enrollments that first entered a stage in a cohort year, how many reached another."""

    cohort: int
    entered: int
    converted: int
    group_id: int | None = None
    group: str | None = None

    @property
    def rate(self) -> float | None:
        """Return converted ÷ entered, or None for an empty cohort."""
        return self.converted / self.entered if self.entered else None


@dataclass(frozen=True)
class StageMedian:
    """The median number of days the stays in a stage lasted, and how many stays there were."""

    stage: str
    stage_name: str
    median_days: float
    stays: int
    group_id: int | None = None
    group: str | None = None


@dataclass(frozen=True)
class ExpiringCount:
    """How many high-tech certificates expire in a year."""

    year: int
    certificates: int
    group_id: int | None = None
    group: str | None = None


# --- The queries ---------------------------------------------------------------------------------


def firms_per_stage(programme: str, by: str | None = None, scope: Scope = None) -> list[StageCount]:
    """Count the firms in each stage of a programme now.

    A firm counts once per programme, in the stage of its open enrollment or, when it has none,
    the stage its latest enrollment ended in (迁出, 上市, ...). Without a breakdown every stage is
    listed in board order, empty ones with 0; with one, only the groups that have firms.
    """
    spec = PROGRAMMES[programme]
    summary.settle(db.session)
    group = _group_column(by, FunnelStageCount, counted=True)
    counted = (
        select(
            FunnelStageCount.stage_id,
            group.label("group_id"),
            func.sum(FunnelStageCount.n).label("firms"),
        )
        .where(
            FunnelStageCount.programme_id == _programme_id(programme),
            *_counts_filter(FunnelStageCount, scope),
        )
        .group_by(FunnelStageCount.stage_id, *([group] if by else []))
        .subquery()
    )
    stmt = select(Stage.code, counted.c.group_id, counted.c.firms).join(
        Stage, Stage.id == counted.c.stage_id
    )
    rows = _named(stmt, by, counted.c.group_id, grouped=False)
    names = {s.code: s.name for s in spec.stages}
    order = {s.code: n for n, s in enumerate(spec.stages)}
    if by is None:
        counts = {row.code: row.firms for row in rows}
        return [StageCount(s.code, s.name, counts.get(s.code, 0)) for s in spec.stages]
    result = [
        StageCount(row.code, names[row.code], row.firms, row.group_id, _group_name(by, row))
        for row in rows
    ]
    # Python's sort is stable: the groups keep the reference-data order the query gave them.
    return sorted(result, key=lambda r: order[r.stage])


def conversion(
    programme: str,
    from_stage: str,
    to_stage: str,
    by: str | None = None,
    scope: Scope = None,
) -> list[Conversion]:
    """Count per cohort year the enrollments that entered `from_stage` and later `to_stage`.

    The cohort is the year an enrollment first entered `from_stage`; it converted when the same
    enrollment moved into `to_stage` after that first entry. Cohorts come oldest first.
    """
    spec = PROGRAMMES[programme]
    unknown = {from_stage, to_stage} - {s.code for s in spec.stages}
    if unknown:
        raise ValueError(f"unknown stage {sorted(unknown)} of programme {programme!r}")
    summary.settle(db.session)
    entries = FunnelEntryCount
    group = _group_column(by, entries, counted=True)
    reached = entries.later_mask.op("&")(summary.stage_bit(programme, to_stage)) != 0
    counted = (
        select(
            entries.cohort,
            group.label("group_id"),
            func.sum(entries.n).label("entered"),
            func.coalesce(func.sum(case((reached, entries.n), else_=0)), 0).label("converted"),
        )
        .where(
            entries.stage_id == _stage_id(programme, from_stage),
            *_counts_filter(entries, scope),
        )
        .group_by(entries.cohort, *([group] if by else []))
        .subquery()
    )
    stmt = select(counted.c.cohort, counted.c.group_id, counted.c.entered, counted.c.converted)
    rows = _named(stmt, by, counted.c.group_id, first=[counted.c.cohort], grouped=False)
    return [
        Conversion(
            int(row.cohort),
            row.entered,
            int(row.converted),
            row.group_id if by else None,
            _group_name(by, row),
        )
        for row in rows
    ]


def median_days_in_stage(
    programme: str,
    by: str | None = None,
    scope: Scope = None,
    *,
    today: date | None = None,
    include_current: bool = True,
) -> list[StageMedian]:
    """Return the median days spent in each stage of a programme, in board order.

    A stay runs from a move into the stage to the next move of the same enrollment. Completed
    stays always count; with `include_current` (the default) the current stay of each open
    enrollment counts too, measured up to `today`. The last stage of a closed enrollment is where
    it ended, not a stay. Only stages with at least one stay are listed.

    The database counts the stays of each length (the current ones by their first day, which
    their length follows from), and the median is read off those counts.
    """
    spec = PROGRAMMES[programme]
    today = today or clock.today()
    summary.settle(db.session)
    ended_group = _group_column(by, FunnelLengthCount, counted=True)
    ended = (
        select(
            FunnelLengthCount.stage_id,
            ended_group.label("group_id"),
            FunnelLengthCount.days,
            func.sum(FunnelLengthCount.n).label("stays"),
        )
        .where(
            FunnelLengthCount.programme_id == _programme_id(programme),
            *_counts_filter(FunnelLengthCount, scope),
        )
        .group_by(
            FunnelLengthCount.stage_id, *([ended_group] if by else []), FunnelLengthCount.days
        )
    )
    parts = [ended]
    if include_current:
        running = FunnelRunningCount
        running_group = _group_column(by, running, counted=True)
        parts.append(
            select(
                running.stage_id,
                running_group.label("group_id"),
                days_between(running.started_on, literal(today, Date)).label("days"),
                func.sum(running.n).label("stays"),
            )
            .where(
                running.programme_id == _programme_id(programme),
                *_counts_filter(running, scope),
            )
            .group_by(running.stage_id, *([running_group] if by else []), running.started_on)
        )
    counted = union_all(*parts).subquery()
    stmt = select(Stage.code, counted.c.group_id, counted.c.days, counted.c.stays).join(
        Stage, Stage.id == counted.c.stage_id
    )
    histograms: dict[tuple[str, int | None], Counter] = defaultdict(Counter)
    names_of: dict[int | None, str | None] = {}
    for row in _named(stmt, by, counted.c.group_id, grouped=False):
        histograms[(row.code, row.group_id)][row.days] += row.stays
        names_of.setdefault(row.group_id, _group_name(by, row))
    names = {s.code: s.name for s in spec.stages}
    board = {s.code: n for n, s in enumerate(spec.stages)}
    result = [
        StageMedian(
            code,
            names[code],
            _median(histogram),
            sum(histogram.values()),
            group_id if by else None,
            names_of[group_id],
        )
        for (code, group_id), histogram in histograms.items()
    ]
    # The groups keep the reference-data order the query gave them.
    return sorted(result, key=lambda r: board[r.stage])


def _median(histogram: Counter) -> float:
    """Return the median of the values counted in `histogram` (the middle two's mean)."""
    total = sum(histogram.values())
    wanted = ((total + 1) // 2, (total + 2) // 2)
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        while len(found) < 2 and seen >= wanted[len(found)]:
            found.append(value)
    return (found[0] + found[1]) / 2


def certificates_expiring(
    years: Iterable[int], by: str | None = None, scope: Scope = None
) -> list[ExpiringCount]:
    """Count the valid high-tech certificates expiring in each of `years` (domain.md §9).

    Replaced, lapsed and cancelled certificates do not count. Without a breakdown every year
    asked for is listed, in order, with 0 when none expire. The certificates are read off the
    funnel summary.
    """
    years = sorted(set(years))
    if not years:
        return []
    summary.settle(db.session)
    held = FunnelCertificate
    year = extract("year", held.expires_on).label("year")
    group = _group_column(by, held)
    stmt = (
        select(year, group.label("group_id"), func.count().label("certificates"))
        .where(
            held.status == "valid",
            # The range lets the database use the index that starts with expires_on.
            held.expires_on >= date(years[0], 1, 1),
            held.expires_on <= date(years[-1], 12, 31),
            year.in_(years),
            *_summary_filter(held, scope),
        )
        .group_by(year, *([group] if by else []))
    )
    rows = _named(stmt, by, group, first=[year])
    if by is None:
        counts = {int(row.year): row.certificates for row in rows}
        return [ExpiringCount(y, counts.get(y, 0)) for y in years]
    return [
        ExpiringCount(int(row.year), row.certificates, row.group_id, _group_name(by, row))
        for row in rows
    ]


# --- Building blocks -----------------------------------------------------------------------------


class days_between(FunctionElement):
    """The whole days from the first date to the second, on SQLite and PostgreSQL."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between(element, compiler, **kw) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({end} - {start})"  # PostgreSQL: date - date is an integer


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


def _scope_parts(scope: Scope) -> list:
    return list(scope) if isinstance(scope, list | tuple) else [] if scope is None else [scope]


def _programme_id(code: str):
    return select(Programme.id).where(Programme.code == code).scalar_subquery()


def _stage_id(programme: str, code: str):
    return (
        select(Stage.id)
        .join(Programme, Programme.id == Stage.programme_id)
        .where(Programme.code == programme, Stage.code == code)
        .scalar_subquery()
    )


def _group_column(by: str | None, source=Firm, counted: bool = False) -> ColumnElement:
    """Return the column a breakdown groups by, of `Firm`, of a summary table or of a count
    table (`counted`), or a constant without a breakdown."""
    if by is None:
        return cast(null(), Integer)
    if by not in GROUP_COLUMNS:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {sorted(BREAKDOWNS)}")
    if counted:
        return _copy(source, GROUP_COLUMNS[by])
    return getattr(source, GROUP_COLUMNS[by])


def _summary_filter(table, scope: Scope) -> list[ColumnElement[bool]]:
    """Return the conditions of `scope` on a summary table's copies of the firm columns.

    A condition on other firm columns selects the firm ids it holds for. Soft-deleted firms
    have no rows in the summary.
    """
    copies = {"id": table.firm_id, **{name: getattr(table, name) for name in summary.FIRM_COLUMNS}}
    conditions = []
    for condition in _conditions(scope):
        if _firm_columns(condition) <= set(copies):
            conditions.append(_on_copies(condition, copies))
        else:
            conditions.append(table.firm_id.in_(select(Firm.id).where(condition)))
    return conditions


def _counts_filter(model, scope: Scope) -> list[ColumnElement[bool]]:
    """Return the conditions of `scope` on a count table's copies of the firm columns (0 for
    none); a count table knows no other firm column."""
    copies = {name: _copy(model, name) for name in summary.FIRM_COLUMNS}
    conditions = []
    for condition in _conditions(scope):
        unknown = _firm_columns(condition) - set(copies)
        if unknown:
            raise ValueError(f"the funnel counts firms by {sorted(copies)}, not {sorted(unknown)}")
        conditions.append(_on_copies(condition, copies))
    return conditions


def _copy(model, name: str) -> ColumnElement:
    """Return a count table's copy of a firm column, with 0 read as none."""
    return func.nullif(getattr(model, name), 0)


def _conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """Return the conditions on `Firm` of a scope (a user's reach read in full)."""
    return [
        firm_scope(part, every=True) if isinstance(part, User) else part
        for part in _scope_parts(scope)
    ]


def _firm_columns(condition: ColumnElement[bool]) -> set[str]:
    return {
        column.key
        for column in visitors.iterate(condition)
        if isinstance(column, Column) and column.table is Firm.__table__
    }


def _on_copies(condition: ColumnElement[bool], copies: dict[str, ColumnElement]):
    """Return `condition` with the firm's columns replaced by their copies."""

    def swap(element):
        if isinstance(element, Column) and element.table is Firm.__table__:
            copy = copies[element.key]
            return getattr(copy, "expression", copy)
        return None

    return visitors.replacement_traverse(condition, {}, swap)


def _named(
    stmt: Select, by: str | None, group_id: ColumnElement, first=(), grouped: bool = True
) -> list:
    """Add the group's name to a select (grouped, or of rows already counted), order it, and
    return its rows."""
    if by is None:
        return list(db.session.execute(stmt.order_by(*first)))
    table, order = {
        "district": (District, (District.sort_order, District.name)),
        "park": (Park, (Park.name,)),
        "field": (TechField, (TechField.sort_order, TechField.name)),
        "manager": (User, (User.name,)),
    }[by]
    stmt = stmt.add_columns(table.name.label("group_name")).outerjoin(table, table.id == group_id)
    if grouped:
        stmt = stmt.group_by(table.id, table.name, *order)
    # The firms without a value come last.
    stmt = stmt.order_by(*first, group_id.is_(None), *order, group_id)
    return list(db.session.execute(stmt))


def _group_name(by: str | None, row) -> str | None:
    if by is None:
        return None
    return row.group_name if row.group_id is not None else BREAKDOWNS[by]
