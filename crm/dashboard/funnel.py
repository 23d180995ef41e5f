"""Funnel figures of the cultivation programmes (domain.md §8), each answered by one SQL statement.

Firms now in each stage, conversion between two stages by cohort year, median days in a stage, and
certificates expiring per year, optionally broken down by district, park, technology field or
account manager. `scope` limits the count to the firms a user may see (`firms.access.firm_scope`),
or to any other condition on `Firm`; soft-deleted firms never count. The functions return plain
rows with names, never ORM objects, and compute everything in the database (window functions for
"latest", "first" and the median), the same way on SQLite and PostgreSQL.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from crm.accounts.models import User
from crm.core import clock
from crm.extensions import db
from crm.firms.access import firm_scope
from crm.firms.models import Certificate, Firm
from crm.firms.rules import HTE_KIND
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition
from crm.pipeline.rules import PROGRAMMES
from crm.reference.models import District, Park, TechField

#: The breakdowns the dashboard offers, with the name of the group of firms that have none.
BREAKDOWNS = {
    "district": "未填写县（市、区）",
    "park": "不在园区",
    "field": "未填写技术领域",
    "manager": "未指定服务专员",
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
    group = _group_column(by)
    latest = (
        select(
            Enrollment.stage_id,
            group.label("group_id"),
            func.row_number()
            .over(
                partition_by=Enrollment.firm_id,
                order_by=(
                    Enrollment.closed_on.is_not(None),
                    Enrollment.opened_on.desc(),
                    Enrollment.id.desc(),
                ),
            )
            .label("rank"),
        )
        .join(Firm, Firm.id == Enrollment.firm_id)
        .where(Enrollment.programme_id == _programme_id(programme), *_firm_filter(scope))
        .subquery()
    )
    count = func.count().label("firms")
    stmt = (
        select(Stage.code, latest.c.group_id, count)
        .select_from(latest)
        .join(Stage, Stage.id == latest.c.stage_id)
        .where(latest.c.rank == 1)
        .group_by(Stage.code, latest.c.group_id)
    )
    rows = _named(stmt, by, latest.c.group_id)
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
    group = _group_column(by)
    entries = (
        select(
            StageTransition.id,
            StageTransition.enrollment_id,
            StageTransition.moved_on,
            group.label("group_id"),
            func.row_number()
            .over(
                partition_by=StageTransition.enrollment_id,
                order_by=(StageTransition.moved_on, StageTransition.id),
            )
            .label("rank"),
        )
        .join(Enrollment, Enrollment.id == StageTransition.enrollment_id)
        .join(Firm, Firm.id == Enrollment.firm_id)
        .where(
            StageTransition.to_stage_id == _stage_id(programme, from_stage),
            *_firm_filter(scope),
        )
        .subquery()
    )
    later = aliased(StageTransition)
    reached = exists().where(
        later.enrollment_id == entries.c.enrollment_id,
        later.to_stage_id == _stage_id(programme, to_stage),
        or_(
            later.moved_on > entries.c.moved_on,
            and_(later.moved_on == entries.c.moved_on, later.id > entries.c.id),
        ),
    )
    cohort = extract("year", entries.c.moved_on).label("cohort")
    stmt = (
        select(
            cohort,
            entries.c.group_id,
            func.count().label("entered"),
            func.coalesce(func.sum(case((reached, 1), else_=0)), 0).label("converted"),
        )
        .select_from(entries)
        .where(entries.c.rank == 1)
        .group_by(cohort, entries.c.group_id)
    )
    rows = _named(stmt, by, entries.c.group_id, first=[cohort])
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
    """
    spec = PROGRAMMES[programme]
    today = today or clock.today()
    group = _group_column(by)
    order = (StageTransition.moved_on, StageTransition.id)
    following = func.lead(StageTransition.moved_on).over(
        partition_by=StageTransition.enrollment_id, order_by=order
    )
    stays = (
        select(
            StageTransition.to_stage_id.label("stage_id"),
            StageTransition.moved_on.label("started_on"),
            following.label("ended_on"),
            Enrollment.closed_on,
            group.label("group_id"),
        )
        .join(Enrollment, Enrollment.id == StageTransition.enrollment_id)
        .join(Firm, Firm.id == Enrollment.firm_id)
        .where(Enrollment.programme_id == _programme_id(programme), *_firm_filter(scope))
        .subquery()
    )
    ended_on = stays.c.ended_on
    if include_current:
        still_open = stays.c.closed_on.is_(None)
        ended_on = func.coalesce(ended_on, case((still_open, literal(today, Date)), else_=None))
    days = days_between(stays.c.started_on, ended_on)
    partition = (stays.c.stage_id, stays.c.group_id)
    ranked = (
        select(
            stays.c.stage_id,
            stays.c.group_id,
            days.label("days"),
            func.row_number().over(partition_by=partition, order_by=days).label("position"),
            func.count().over(partition_by=partition).label("stays"),
        )
        .where(ended_on.is_not(None))
        .subquery()
    )
    # The middle row, or the two middle rows of an even count, averaged.
    middle = or_(
        ranked.c.position == (ranked.c.stays + 1) // 2,
        ranked.c.position == (ranked.c.stays + 2) // 2,
    )
    stmt = (
        select(
            Stage.code,
            ranked.c.group_id,
            func.avg(ranked.c.days).label("median"),
            func.max(ranked.c.stays).label("stays"),
        )
        .select_from(ranked)
        .join(Stage, Stage.id == ranked.c.stage_id)
        .where(middle)
        .group_by(Stage.code, ranked.c.group_id)
    )
    rows = _named(stmt, by, ranked.c.group_id)
    names = {s.code: s.name for s in spec.stages}
    board = {s.code: n for n, s in enumerate(spec.stages)}
    result = [
        StageMedian(
            row.code,
            names[row.code],
            float(row.median),
            row.stays,
            row.group_id if by else None,
            _group_name(by, row),
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: board[r.stage])


def certificates_expiring(
    years: Iterable[int], by: str | None = None, scope: Scope = None
) -> list[ExpiringCount]:
    """Count the valid high-tech certificates expiring in each of `years` (domain.md §9).

    Replaced, lapsed and cancelled certificates do not count. Without a breakdown every year
    asked for is listed, in order, with 0 when none expire.
    """
    years = sorted(set(years))
    if not years:
        return []
    year = extract("year", Certificate.expires_on).label("year")
    group = _group_column(by)
    stmt = (
        select(year, group.label("group_id"), func.count().label("certificates"))
        .select_from(Certificate)
        .join(Firm, Firm.id == Certificate.firm_id)
        .where(
            Certificate.kind == HTE_KIND,
            Certificate.status == "valid",
            # The range lets the database use the index on (kind, expires_on).
            Certificate.expires_on >= date(years[0], 1, 1),
            Certificate.expires_on <= date(years[-1], 12, 31),
            year.in_(years),
            *_firm_filter(scope),
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


def _firm_filter(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [Firm.deleted_at.is_(None)]
    parts = scope if isinstance(scope, list | tuple) else [] if scope is None else [scope]
    for part in parts:
        conditions.append(firm_scope(part) if isinstance(part, User) else part)
    return conditions


def _programme_id(code: str):
    return select(Programme.id).where(Programme.code == code).scalar_subquery()


def _stage_id(programme: str, code: str):
    return (
        select(Stage.id)
        .join(Programme, Programme.id == Stage.programme_id)
        .where(Programme.code == programme, Stage.code == code)
        .scalar_subquery()
    )


def _group_column(by: str | None) -> ColumnElement:
    """Return the firm column a breakdown groups by (a constant without one)."""
    columns = {
        "district": Firm.district_id,
        "park": Firm.park_id,
        "field": Firm.tech_field_id,
        "manager": Firm.manager_id,
    }
    if by is None:
        return cast(null(), Integer)
    if by not in columns:
        raise ValueError(f"unknown breakdown {by!r}; expected one of {sorted(BREAKDOWNS)}")
    return columns[by]


def _named(stmt: Select, by: str | None, group_id: ColumnElement, first=()) -> list:
    """Add the group's name to a grouped select, order it, and return its rows."""
    if by is None:
        return list(db.session.execute(stmt.order_by(*first)))
    table, order = {
        "district": (District, (District.sort_order, District.name)),
        "park": (Park, (Park.name,)),
        "field": (TechField, (TechField.sort_order, TechField.name)),
        "manager": (User, (User.name,)),
    }[by]
    stmt = (
        stmt.add_columns(table.name.label("group_name"))
        .outerjoin(table, table.id == group_id)
        .group_by(table.id, table.name, *order)
        # The firms without a value come last.
        .order_by(*first, group_id.is_(None), *order, group_id)
    )
    return list(db.session.execute(stmt))


def _group_name(by: str | None, row) -> str | None:
    if by is None:
        return None
    return row.group_name if row.group_id is not None else BREAKDOWNS[by]
