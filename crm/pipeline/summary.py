"""The funnel summary: a live firm's pipeline and indicator facts, shaped for the dashboard.

The dashboard's figures (firms per stage, conversion by cohort, median days in stage, holders
of a certificate, patents held, the reserve pool's R&D intensity) read every enrollment,
transition, certificate, patent and year of figures of the firms in a scope, joined to the
firms for the scope; at 100,000 firms that took from 40 ms to minutes a figure. Narrow tables
hold what they need, with the firm columns a scope or a breakdown asks for (`FIRM_COLUMNS`)
copied beside them, so that a figure reads one covering index and joins nothing:

- a row per firm (`FunnelFirm`), for the records of other packages to join instead of firms;
- per firm and programme (`FunnelPosition`) and per transition (`FunnelStay`);
- per high-tech certificate (`FunnelCertificate`), per invention patent held (`FunnelPatent`)
  and per year of figures of a firm in the reserve pool (`FunnelPoolYear`);
- and the positions and stays counted by what the funnel figures read (`COUNTS`), a few
  thousand rows where the others have a hundred thousand.

Soft-deleted firms have no rows. They are derived data: `refresh` computes a firm's rows from
its records and adds the difference to the counts. A flush that adds, changes or deletes one of
those records, or changes a copied column of a firm (or deletes or restores it), notes the
firm; its rows are computed again just before the commit (`crm.core.derived`, which keeps the
eligibility assessments current too), so they are never older than the data a reader sees.
Writes that bypass the ORM (the import's bulk updates and its undo) note their firms with
`note_firms`. `flask crm rebuild-funnel` (and the migration that made the tables) computes them
all again.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    and_,
    bindparam,
    cast,
    delete,
    extract,
    false,
    func,
    insert,
    inspect,
    select,
    true,
)
from sqlalchemy.orm import Session

from crm.core import derived
from crm.core.database import upsert
from crm.firms.models import Certificate, Firm, FirmYear, IPItem
from crm.firms.rules import HTE_KIND
from crm.pipeline.models import (
    Enrollment,
    FunnelCertificate,
    FunnelEntryCount,
    FunnelFirm,
    FunnelLengthCount,
    FunnelPatent,
    FunnelPoolYear,
    FunnelPosition,
    FunnelRunningCount,
    FunnelStageCount,
    FunnelStay,
    Programme,
    Stage,
    StageTransition,
)
from crm.pipeline.rules import HTE, PROGRAMMES

#: The firm columns copied into the summary: those the dashboard's scopes and breakdowns read.
FIRM_COLUMNS = ("district_id", "park_id", "tech_field_id", "manager_id")
#: The stages of the high-tech programme that make up the reserve pool: admitted (高企后备库)
#: and coached (一企一策辅导, still a pooled firm). Applied and later stages have left the pool.
POOL_STAGES = ("reserve", "coaching")
#: The summary tables, each with a `firm_id`.
TABLES = (FunnelFirm, FunnelStay, FunnelPosition, FunnelCertificate, FunnelPatent, FunnelPoolYear)
#: The records a firm's summary rows are computed from, each with a `firm_id`.
SOURCES = (Enrollment, StageTransition, Certificate, IPItem, FirmYear)


@dataclass(frozen=True)
class Counts:
    """A table of counts (`model`) of the summary rows of `rows` that `where` selects, by `key`
    (column name → expression on `rows`) and the copied firm columns (NULL as 0)."""

    model: type
    rows: type
    key: dict[str, ColumnElement]
    where: list[ColumnElement[bool]] = field(default_factory=list)

    def columns(self) -> list[ColumnElement]:
        """Return the key's expressions on `rows`, labelled with the count table's names."""
        copies = [func.coalesce(getattr(self.rows, name), 0).label(name) for name in FIRM_COLUMNS]
        return [expr.label(name) for name, expr in self.key.items()] + copies

    def names(self) -> list[str]:
        return [*self.key, *FIRM_COLUMNS]


#: The count tables the funnel figures read, of the positions and the stays.
COUNTS = (
    Counts(
        FunnelStageCount,
        FunnelPosition,
        {"programme_id": FunnelPosition.programme_id, "stage_id": FunnelPosition.stage_id},
    ),
    Counts(
        FunnelEntryCount,
        FunnelStay,
        {
            "stage_id": FunnelStay.stage_id,
            "cohort": cast(extract("year", FunnelStay.started_on), Integer),
            "later_mask": FunnelStay.later_mask,
        },
        [FunnelStay.first_entry == true()],
    ),
    Counts(
        FunnelLengthCount,
        FunnelStay,
        {
            "programme_id": FunnelStay.programme_id,
            "stage_id": FunnelStay.stage_id,
            "days": FunnelStay.days,
        },
        [FunnelStay.is_current == false(), FunnelStay.days.is_not(None)],
    ),
    Counts(
        FunnelRunningCount,
        FunnelStay,
        {
            "programme_id": FunnelStay.programme_id,
            "stage_id": FunnelStay.stage_id,
            "started_on": FunnelStay.started_on,
        },
        [FunnelStay.is_current == true()],
    ),
)
#: The patents that count as held (domain.md §8): invention patents.
INVENTION = "invention"
#: Firms computed per statement.
CHUNK = 500


def stage_bit(programme: str, stage: str) -> int:
    """Return the bit of `stage` in `FunnelStay.later_mask`: its place in the programme."""
    codes = [s.code for s in PROGRAMMES[programme].stages]
    return 1 << codes.index(stage)


def refresh(connection: Connection, firm_ids: Iterable[int]) -> None:
    """Compute the summary rows of `firm_ids` again from their enrollments and transitions.

    A firm that is gone or soft-deleted keeps no rows.
    """
    ids = sorted(set(firm_ids))
    if not ids:
        return
    bits = _stage_bits(connection)
    if connection.dialect.name == "postgresql":
        # Another transaction refreshing one of these firms holds its row until it commits;
        # waiting here, before reading anything, lets this one see and replace what it wrote.
        # Locked in order of id, so two refreshes never wait on each other in a circle. The
        # row is updated, never replaced, so the next waiter waits on its new version.
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            connection.execute(
                select(FunnelFirm.firm_id)
                .where(FunnelFirm.firm_id.in_(chunk))
                .order_by(FunnelFirm.firm_id)
                .with_for_update()
            )
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        before = [_tally(connection, counts, chunk) for counts in COUNTS]
        _refresh_chunk(connection, chunk, bits)
        for counts, old in zip(COUNTS, before, strict=True):
            change = _tally(connection, counts, chunk)
            change.subtract(old)
            _add(connection, counts, change)


def rebuild(connection: Connection, progress=None) -> int:
    """Compute the whole summary again; return the number of live firms it covers."""
    for table in (*TABLES, *(counts.model for counts in COUNTS)):
        connection.execute(delete(table))
    ids = list(
        connection.scalars(select(Firm.id).where(Firm.deleted_at.is_(None)).order_by(Firm.id))
    )
    bits = _stage_bits(connection)
    for start in range(0, len(ids), CHUNK):
        _refresh_chunk(connection, ids[start : start + CHUNK], bits, fresh=True)
        if progress is not None:
            progress(min(start + CHUNK, len(ids)), len(ids))
    for counts in COUNTS:
        connection.execute(
            insert(counts.model).from_select([*counts.names(), "n"], _tally_select(counts))
        )
    return len(ids)


def note_firms(session: Session, firm_ids: Iterable[int]) -> None:
    """Have the summary rows of `firm_ids` computed again before the session commits.

    For writes the flush does not see: bulk statements and deletes through the tables.
    """
    derived.note_firms(session, DERIVED.name, firm_ids)


def settle(session: Session) -> None:
    """Bring the summary up to date with this session's pending writes, before reading it."""
    derived.settle(session, DERIVED.name)


# --- Computing a firm's rows ---------------------------------------------------------------------


def _stage_bits(connection: Connection) -> dict[int, tuple[int, bool]]:
    """Return each stage's bit and whether it is a stage of the reserve pool, by stage id."""
    rows = connection.execute(
        select(Stage.id, Stage.code, Programme.code).join(
            Programme, Programme.id == Stage.programme_id
        )
    )
    return {
        stage_id: (
            stage_bit(programme, code) if programme in PROGRAMMES else 0,
            programme == HTE and code in POOL_STAGES,
        )
        for stage_id, code, programme in rows
    }


def _refresh_chunk(
    connection: Connection, ids: list[int], bits: dict[int, tuple[int, bool]], fresh=False
) -> None:
    if not fresh:
        for table in TABLES:
            if table is not FunnelFirm:
                connection.execute(delete(table).where(table.firm_id.in_(ids)))
    firms = {
        row.id: {name: getattr(row, name) for name in FIRM_COLUMNS}
        for row in connection.execute(
            select(Firm.id, *(getattr(Firm, name) for name in FIRM_COLUMNS)).where(
                Firm.id.in_(ids), Firm.deleted_at.is_(None)
            )
        )
    }
    # A firm's own row is updated in place, not replaced: it is what a concurrent refresh of the
    # firm waits on (`refresh`), and a replaced row would let every waiter through at once.
    gone = [firm_id for firm_id in ids if firm_id not in firms]
    if gone and not fresh:
        connection.execute(delete(FunnelFirm).where(FunnelFirm.firm_id.in_(gone)))
    if not firms:
        return
    upsert(
        connection,
        FunnelFirm.__table__,
        [{"firm_id": firm_id, **columns} for firm_id, columns in firms.items()],
        ["firm_id"],
        {name: FunnelFirm.__table__.c[name] for name in FIRM_COLUMNS},
    )
    live = list(firms)
    enrollments = list(
        connection.execute(
            select(
                Enrollment.id,
                Enrollment.firm_id,
                Enrollment.programme_id,
                Enrollment.stage_id,
                Enrollment.opened_on,
                Enrollment.closed_on,
            ).where(Enrollment.firm_id.in_(live))
        )
    )
    moves: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(
        select(
            StageTransition.id,
            StageTransition.enrollment_id,
            StageTransition.to_stage_id,
            StageTransition.moved_on,
        )
        .where(StageTransition.firm_id.in_(live))
        .order_by(StageTransition.enrollment_id, StageTransition.moved_on, StageTransition.id)
    ):
        moves[row.enrollment_id].append(row)
    positions = _positions(enrollments, firms)
    stays = [
        stay
        for enrollment in enrollments
        for stay in _stays(enrollment, moves.get(enrollment.id, []), firms, bits)
    ]
    pooled = [row["firm_id"] for row in positions if bits[row["stage_id"]][1]]
    for table, rows in (
        (FunnelPosition, positions),
        (FunnelStay, stays),
        (FunnelCertificate, _certificates(connection, firms)),
        (FunnelPatent, _patents(connection, firms)),
        (FunnelPoolYear, _pool_years(connection, pooled, firms)),
    ):
        if rows:
            connection.execute(table.__table__.insert(), rows)


def _certificates(connection: Connection, firms: dict[int, dict]) -> list[dict[str, Any]]:
    """Return a row per high-tech certificate of the firms, whatever its status."""
    columns = (Certificate.issued_on, Certificate.expires_on, Certificate.ended_on)
    stmt = select(Certificate.id, Certificate.firm_id, Certificate.status, *columns).where(
        Certificate.firm_id.in_(list(firms)), Certificate.kind == HTE_KIND
    )
    return [
        {
            "certificate_id": row.id,
            "firm_id": row.firm_id,
            "issued_on": row.issued_on,
            "expires_on": row.expires_on,
            "ended_on": row.ended_on,
            "status": row.status,
            **firms[row.firm_id],
        }
        for row in connection.execute(stmt)
    ]


def _patents(connection: Connection, firms: dict[int, dict]) -> list[dict[str, Any]]:
    """Return a row per invention patent the firms hold: granted, valid and not licensed."""
    stmt = select(IPItem.id, IPItem.firm_id, IPItem.granted_on).where(
        IPItem.firm_id.in_(list(firms)),
        IPItem.kind == INVENTION,
        IPItem.status == "valid",
        IPItem.acquisition != "license",
        IPItem.granted_on.is_not(None),
    )
    return [
        {"item_id": item_id, "firm_id": firm_id, "granted_on": granted_on, **firms[firm_id]}
        for item_id, firm_id, granted_on in connection.execute(stmt)
    ]


def _pool_years(
    connection: Connection, pooled: list[int], firms: dict[int, dict]
) -> list[dict[str, Any]]:
    """Return a row per year of the pooled firms whose R&D expense and revenue are known."""
    if not pooled:
        return []
    stmt = select(
        FirmYear.firm_id, FirmYear.year, FirmYear.rd_expense, FirmYear.sales_revenue
    ).where(
        FirmYear.firm_id.in_(pooled),
        FirmYear.rd_expense.is_not(None),
        FirmYear.sales_revenue.is_not(None),
    )
    return [
        {
            "firm_id": row.firm_id,
            "year": row.year,
            "rd_expense": row.rd_expense,
            "sales_revenue": row.sales_revenue,
            **firms[row.firm_id],
        }
        for row in connection.execute(stmt)
    ]


def _positions(enrollments: list, firms: dict[int, dict]) -> list[dict[str, Any]]:
    """Return a row per firm and programme: its open enrollment's stage or, without one, the
    stage its latest enrollment ended in."""
    latest: dict[tuple[int, int], Any] = {}
    for enrollment in enrollments:
        key = (enrollment.firm_id, enrollment.programme_id)
        held = latest.get(key)
        if held is None or _recency(enrollment) > _recency(held):
            latest[key] = enrollment
    return [
        {
            "firm_id": firm_id,
            "programme_id": programme_id,
            "stage_id": enrollment.stage_id,
            **firms[firm_id],
        }
        for (firm_id, programme_id), enrollment in latest.items()
    ]


def _recency(enrollment) -> tuple:
    return (enrollment.closed_on is None, enrollment.opened_on, enrollment.id)


def _stays(enrollment, moves: list, firms: dict[int, dict], bits) -> list[dict[str, Any]]:
    """Return a row per move of an enrollment, in the order the moves were made."""
    is_open = enrollment.closed_on is None
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for n, move in enumerate(moves):
        following = moves[n + 1] if n + 1 < len(moves) else None
        rows.append(
            {
                "transition_id": move.id,
                "firm_id": enrollment.firm_id,
                "programme_id": enrollment.programme_id,
                "stage_id": move.to_stage_id,
                "started_on": move.moved_on,
                "days": _days(move.moved_on, following.moved_on) if following else None,
                "is_current": following is None and is_open,
                "first_entry": move.to_stage_id not in seen,
                "later_mask": 0,
                **firms[enrollment.firm_id],
            }
        )
        seen.add(move.to_stage_id)
    later = 0
    for row in reversed(rows):
        row["later_mask"] = later
        later |= bits.get(row["stage_id"], (0, False))[0]
    return rows


def _days(start: date, end: date) -> int:
    return (end - start).days


# --- The count tables ---------------------------------------------------------------------------


def _tally_select(counts: Counts, firm_ids: list[int] | None = None):
    columns = counts.columns()
    stmt = (
        select(*columns, func.count().label("n"))
        .select_from(counts.rows)
        .where(*counts.where)
        .group_by(*columns)
    )
    if firm_ids is not None:
        stmt = stmt.where(counts.rows.firm_id.in_(firm_ids))
    return stmt


def _tally(connection: Connection, counts: Counts, firm_ids: list[int]) -> Counter:
    """Return how many summary rows of `firm_ids` each key of `counts` has."""
    return Counter(
        {tuple(row[:-1]): row.n for row in connection.execute(_tally_select(counts, firm_ids))}
    )


def _add(connection: Connection, counts: Counts, change: Counter) -> None:
    """Add `change` (key → rows more or fewer) to the count table, dropping the keys left at 0.

    Adding commutes: two transactions changing the same key both count, in either order.
    """
    names = counts.names()
    rows = [dict(zip(names, key, strict=True), n=n) for key, n in sorted(change.items()) if n]
    if not rows:
        return
    table = counts.model.__table__
    upsert(connection, table, rows, names, {"n": table.c.n}, add=True)
    emptied = [{f"k_{name}": row[name] for name in names} for row in rows if row["n"] < 0]
    if emptied:
        key = and_(*(table.c[name] == bindparam(f"k_{name}") for name in names))
        connection.execute(delete(table).where(key, table.c.n == 0), emptied)


# --- Keeping it current --------------------------------------------------------------------------


def _touched_firms(session: Session) -> set[int]:
    """Return the ids of the firms whose summary rows this flush may have changed."""
    touched: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Firm):
            touched.add(obj.id)
        elif isinstance(obj, SOURCES):
            touched |= derived.firm_ids_of(inspect(obj))
    for obj in session.dirty:
        state = inspect(obj)
        if isinstance(obj, Firm):
            names = (*FIRM_COLUMNS, "deleted_at")
            if any(state.attrs[name].history.has_changes() for name in names):
                touched.add(obj.id)
        elif isinstance(obj, SOURCES) and session.is_modified(obj, include_collections=False):
            touched |= derived.firm_ids_of(state)
    for obj in session.deleted:
        # Read the instance dict only: a deleted row must not be reloaded.
        state = inspect(obj)
        if isinstance(obj, Firm):
            touched.add(state.dict.get("id"))
        elif isinstance(obj, SOURCES):
            touched |= derived.firm_ids_of(state)
    touched.discard(None)
    return touched


#: The summary, computed again before each commit for the firms whose records changed.
DERIVED = derived.register(
    derived.Derived(
        "funnel", _touched_firms, lambda session, firm_ids: refresh(session.connection(), firm_ids)
    )
)
