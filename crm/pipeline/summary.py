"""The funnel summary: the pipeline's facts per firm, shaped for the dashboard's counts.

The funnel figures (firms per stage, conversion by cohort, median days in stage) read every
enrollment and transition of the firms in a scope; at 100,000 firms that took from 100 ms to
minutes a figure. Two tables hold what they need, one narrow row per firm and programme
(`FunnelPosition`) and per transition (`FunnelStay`), with the firm columns a scope or a
breakdown asks for (`FIRM_COLUMNS`) copied beside them, so each figure is one pass over one
covering index and no join.

They are derived data: `refresh` computes a firm's rows from its enrollments and transitions.
A flush that adds or changes an enrollment or a transition, or changes a copied column of a firm
(or deletes or restores it), notes the firm; its rows are computed again just before the commit
(as the eligibility assessments are), so they are never older than the data a reader sees.
Writes that bypass the ORM (the import's bulk updates and its undo) note their firms with
`note_firms`. `flask crm rebuild-funnel` (and the migration that made the tables) computes them
all again.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, event, inspect, select
from sqlalchemy.orm import Session

from crm.firms.models import Firm
from crm.pipeline.models import (
    Enrollment,
    FunnelPosition,
    FunnelStay,
    Programme,
    Stage,
    StageTransition,
)
from crm.pipeline.rules import PROGRAMMES

#: The firm columns copied into the summary: those the dashboard's scopes and breakdowns read.
FIRM_COLUMNS = ("district_id", "park_id", "tech_field_id", "manager_id")
#: Firms computed per statement.
CHUNK = 500
_PENDING = "funnel_pending_firms"
_REFRESHING = "funnel_refreshing"


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
    for start in range(0, len(ids), CHUNK):
        _refresh_chunk(connection, ids[start : start + CHUNK], bits)


def rebuild(connection: Connection, progress=None) -> int:
    """Compute the whole summary again; return the number of live firms it covers."""
    connection.execute(delete(FunnelStay))
    connection.execute(delete(FunnelPosition))
    ids = list(
        connection.scalars(select(Firm.id).where(Firm.deleted_at.is_(None)).order_by(Firm.id))
    )
    bits = _stage_bits(connection)
    for start in range(0, len(ids), CHUNK):
        _refresh_chunk(connection, ids[start : start + CHUNK], bits, fresh=True)
        if progress is not None:
            progress(min(start + CHUNK, len(ids)), len(ids))
    return len(ids)


def note_firms(session: Session, firm_ids: Iterable[int]) -> None:
    """Have the summary rows of `firm_ids` computed again before the session commits.

    For writes the flush does not see: bulk statements and deletes through the tables.
    """
    session.info.setdefault(_PENDING, set()).update(i for i in firm_ids if i is not None)


def settle(session: Session) -> None:
    """Bring the summary up to date with this session's pending writes, before reading it."""
    _refresh_pending(session)


# --- Computing a firm's rows ---------------------------------------------------------------------


def _stage_bits(connection: Connection) -> dict[int, tuple[int, int]]:
    """Return each stage's programme id and bit, by stage id."""
    rows = connection.execute(
        select(Stage.id, Stage.code, Programme.id, Programme.code).join(
            Programme, Programme.id == Stage.programme_id
        )
    )
    return {
        stage_id: (programme_id, stage_bit(programme, code) if programme in PROGRAMMES else 0)
        for stage_id, code, programme_id, programme in rows
    }


def _refresh_chunk(
    connection: Connection, ids: list[int], bits: dict[int, tuple[int, int]], fresh=False
) -> None:
    if not fresh:
        connection.execute(delete(FunnelStay).where(FunnelStay.firm_id.in_(ids)))
        connection.execute(delete(FunnelPosition).where(FunnelPosition.firm_id.in_(ids)))
    firms = {
        row.id: {name: getattr(row, name) for name in FIRM_COLUMNS}
        for row in connection.execute(
            select(Firm.id, *(getattr(Firm, name) for name in FIRM_COLUMNS)).where(
                Firm.id.in_(ids), Firm.deleted_at.is_(None)
            )
        )
    }
    if not firms:
        return
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
    if positions:
        connection.execute(FunnelPosition.__table__.insert(), positions)
    if stays:
        connection.execute(FunnelStay.__table__.insert(), stays)


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
        later |= bits.get(row["stage_id"], (None, 0))[1]
    return rows


def _days(start: date, end: date) -> int:
    return (end - start).days


# --- Keeping it current --------------------------------------------------------------------------


def _firm_ids_of(state) -> set[int]:
    """Return the firm ids a changed row names, before and after the change."""
    ids = {state.dict.get("firm_id")}
    ids.update(state.attrs.firm_id.history.deleted or ())
    return {i for i in ids if i is not None}


def _touched_firms(session: Session) -> set[int]:
    """Return the ids of the firms whose summary rows this flush may have changed."""
    touched: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Enrollment | StageTransition):
            touched |= _firm_ids_of(inspect(obj))
    for obj in session.dirty:
        state = inspect(obj)
        if isinstance(obj, Firm):
            names = (*FIRM_COLUMNS, "deleted_at")
            if any(state.attrs[name].history.has_changes() for name in names):
                touched.add(obj.id)
        elif isinstance(obj, Enrollment | StageTransition) and session.is_modified(
            obj, include_collections=False
        ):
            touched |= _firm_ids_of(state)
    for obj in session.deleted:
        # Read the instance dict only: a deleted row must not be reloaded.
        state = inspect(obj)
        if isinstance(obj, Firm):
            touched.add(state.dict.get("id"))
        elif isinstance(obj, Enrollment | StageTransition):
            touched |= _firm_ids_of(state)
    touched.discard(None)
    return touched


def _refresh_pending(session: Session) -> None:
    if session.info.get(_REFRESHING):
        return
    session.info[_REFRESHING] = True
    try:
        session.flush()
        pending = session.info.pop(_PENDING, None)
        if pending:
            refresh(session.connection(), pending)
    finally:
        session.info.pop(_REFRESHING, None)


@event.listens_for(Session, "after_flush")
def _note_changed_firms(session: Session, flush_context) -> None:
    touched = _touched_firms(session)
    if touched:
        note_firms(session, touched)


@event.listens_for(Session, "before_commit")
def _refresh_before_commit(session: Session) -> None:
    _refresh_pending(session)


@event.listens_for(Session, "after_rollback")
def _forget_changed_firms(session: Session) -> None:
    session.info.pop(_PENDING, None)
