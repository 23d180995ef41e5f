"""Data derived from a firm's records, computed again before the session commits.

A package that keeps such data (the eligibility assessments, the funnel summary) registers a
`Derived`: which firms a flush touched, and how to compute their data again. The session's
listeners here note the touched firms after each flush, refresh them just before the commit and
forget them on a rollback, so derived data is never older than the records a reader sees. Writes
the flush does not see (bulk statements) note their firms with `note_firms`; a reader that must
see this session's own writes brings one kind up to date first with `settle`.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.state import InstanceState

_PENDING = "derived_pending_firms"
_REFRESHING = "derived_refreshing"


@dataclass(frozen=True)
class Derived:
    """A kind of data derived from firms' records."""

    name: str
    #: The ids of the firms whose data a flush may have changed (read in `after_flush`).
    touched: Callable[[Session], set[int]]
    #: Compute the data of these firms again, in the session's transaction.
    refresh: Callable[[Session, set[int]], None]


_registry: dict[str, Derived] = {}


def register(derived: Derived) -> Derived:
    """Keep `derived` current from now on; return it."""
    _registry[derived.name] = derived
    return derived


def note_firms(session: Session, name: str, firm_ids: Iterable[int | None]) -> None:
    """Have the data `name` of `firm_ids` computed again before the session commits."""
    pending = session.info.setdefault(_PENDING, {}).setdefault(name, set())
    pending.update(i for i in firm_ids if i is not None)


def forget(session: Session, name: str) -> None:
    """Drop what was noted for `name`: its refresh covers every firm already."""
    session.info.get(_PENDING, {}).pop(name, None)


def settle(session: Session, name: str) -> None:
    """Bring the data `name` up to date with this session's writes, before reading it."""
    _refresh(session, [name])


def firm_ids_of(state: InstanceState) -> set[int]:
    """Return the firm ids a changed row names (its `firm_id`), before and after the change."""
    ids = {state.dict.get("firm_id")}
    ids.update(state.attrs.firm_id.history.deleted or ())
    return {i for i in ids if i is not None}


def _refresh(session: Session, names: Iterable[str]) -> None:
    if session.info.get(_REFRESHING):
        return
    session.info[_REFRESHING] = True
    try:
        session.flush()
        for name in names:
            pending = session.info.get(_PENDING, {}).pop(name, None)
            if pending:
                _registry[name].refresh(session, pending)
                # Notes the refresh's own flushes raised are covered by it.
                forget(session, name)
    finally:
        session.info.pop(_REFRESHING, None)


@event.listens_for(Session, "after_flush")
def _note_changed_firms(session: Session, flush_context) -> None:
    for derived in _registry.values():
        touched = derived.touched(session)
        if touched:
            note_firms(session, derived.name, touched)


@event.listens_for(Session, "before_commit")
def _refresh_before_commit(session: Session) -> None:
    _refresh(session, list(_registry))


@event.listens_for(Session, "after_rollback")
def _forget_changed_firms(session: Session) -> None:
    session.info.pop(_PENDING, None)
