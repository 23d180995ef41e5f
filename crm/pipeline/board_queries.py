"""Read-side selects of the kanban board: per-stage counts and cards over the filtered firms.

The firms come from `crm.firms.queries.filtered_firms`, so the board sees exactly the firms the
firm list would show the user with the same filters. Counts are one grouped select; each column's
cards are limited in SQL and loaded together, so a city with thousands of firms stays fast.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import Select, and_, func, null, or_, select

from crm.accounts.models import User
from crm.core.permissions import may_override_gates
from crm.core.web import Page, page_number, paginate
from crm.eligibility.models import Assessment
from crm.extensions import db
from crm.firms.access import can_edit_firm, firm_ids_in_reach
from crm.firms.models import Firm
from crm.firms.queries import FirmFilters, filtered_firms, firm_span, worth_walking
from crm.pipeline import rules
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition

#: Cards loaded together by an unpaged read of a column.
_CHUNK = 1000


@dataclass
class BoardFilters:
    """What the board is narrowed by: the firm-list filters and the year enrollments opened."""

    firm: FirmFilters = field(default_factory=FirmFilters)
    year: int | None = None


@dataclass(frozen=True)
class BoardCard:
    """One firm on the board."""

    enrollment_id: int
    stage_id: int
    firm: Firm
    #: The day the firm entered its current stage (the latest transition's date).
    entered_on: date | None
    #: The verdict of the firm's current eligibility assessment (high-tech programme only).
    verdict: str | None
    days: int
    #: The user may drag the card: they may edit the firm, or override as a bureau head.
    movable: bool


@dataclass
class BoardColumn:
    """A stage of the programme, how many firms are in it, and the first of their cards."""

    stage: Stage
    count: int
    cards: list[BoardCard]

    @property
    def hidden(self) -> int:
        """Return how many firms of the column are not shown as cards."""
        return max(0, self.count - len(self.cards))

    @property
    def is_narrow(self) -> bool:
        """Tell whether the column is an exit or a side outcome, drawn narrower."""
        return self.stage.kind != "stage"


def may_move(user: User, firm: Firm) -> bool:
    """Tell whether `user` may drag the firm's card (a bureau head only with an override)."""
    return can_edit_firm(user, firm) or (may_override_gates(user) and not firm.is_deleted)


def _enrollment_conditions(programme_id: int, filters: BoardFilters) -> list:
    """Return the conditions on the enrollments themselves: open, in the programme, the year."""
    conditions = [Enrollment.programme_id == programme_id, Enrollment.closed_on.is_(None)]
    if filters.year is not None:
        conditions += [
            Enrollment.opened_on >= date(filters.year, 1, 1),
            Enrollment.opened_on <= date(filters.year, 12, 31),
        ]
    return conditions


def _conditions(user: User, programme_id: int, filters: BoardFilters, today: date) -> list:
    """Return the conditions on enrollments joined to firms selecting the cards `user` sees."""
    firm_filters = replace(filters.firm, deleted=False)
    # The firm list's own WHERE clause: the user's reach and the filters, in one place. A join
    # on it lets the database stop early; an IN (subquery) would list every visible firm first.
    return [
        *_enrollment_conditions(programme_id, filters),
        filtered_firms(user, firm_filters, today).whereclause,
    ]


def _reach(user: User, filters: BoardFilters, today: date):
    """Return the condition on the enrollments' firms for counting: in reach and filtered."""
    firm_filters = replace(filters.firm, deleted=False)
    narrowed = None
    if firm_filters.narrows():
        narrowed = filtered_firms(user, firm_filters, today, every=True)
    return firm_ids_in_reach(user, Enrollment.firm_id, narrowed)


def _in_stage(stage_id: int, count: int, wanted: int, span: int | None = None):
    """Return the condition selecting a column's enrollments, for a select by firm name.

    SQLite fetches a stage's enrollments by the stage index and sorts them all by name (17 ms
    for a column of 21,000 at 100,000 firms); walking the firm names and looking each firm's
    enrollment up stops once `wanted` are found (0.1 ms), but is slower for a column of few
    (8 ms for 437). `+ 0` keeps SQLite off the stage index where walking is worth it.
    """
    if worth_walking(count, wanted, span):
        return Enrollment.stage_id + 0 == stage_id
    return Enrollment.stage_id == stage_id


def _ids(conditions: list) -> Select:
    """Return the select of enrollment ids meeting `conditions`, by firm name."""
    return (
        select(Enrollment.id)
        .join(Firm, Firm.id == Enrollment.firm_id)
        .where(*conditions)
        .order_by(Firm.name, Firm.id)
    )


def _cards(user: User, programme: Programme, ids: list[int], today: date) -> list[BoardCard]:
    """Return the cards of the enrollments `ids`, in that order (one select)."""
    if not ids:
        return []
    entered_on = (
        select(func.max(StageTransition.moved_on))
        .where(StageTransition.enrollment_id == Enrollment.id)
        .correlate(Enrollment)
        .scalar_subquery()
    )
    stmt = (
        select(Enrollment.id, Enrollment.stage_id, Firm, entered_on.label("entered_on"))
        .join(Firm, Firm.id == Enrollment.firm_id)
        .where(Enrollment.id.in_(ids))
    )
    if programme.code == rules.HTE:
        stmt = stmt.outerjoin(
            Assessment, and_(Assessment.firm_id == Firm.id, Assessment.is_current)
        ).add_columns(Assessment.verdict)
    else:
        stmt = stmt.add_columns(null().label("verdict"))
    cards = {}
    for enrollment_id, stage_id, firm, entered, verdict in db.session.execute(stmt).unique():
        days = max(0, (today - entered).days) if entered else 0
        movable = may_move(user, firm)
        cards[enrollment_id] = BoardCard(
            enrollment_id, stage_id, firm, entered, verdict, days, movable
        )
    return [cards[i] for i in ids if i in cards]


def stage_counts(
    user: User, programme: Programme, filters: BoardFilters, today: date
) -> dict[int, int]:
    """Return the number of open enrollments in each stage, by stage id (one grouped select)."""
    rows = db.session.execute(
        select(Enrollment.stage_id, func.count(Enrollment.id))
        .where(*_enrollment_conditions(programme.id, filters), _reach(user, filters, today))
        .group_by(Enrollment.stage_id)
    )
    return {stage_id: count for stage_id, count in rows}


def board_columns(
    user: User, programme: Programme, filters: BoardFilters, limit: int, today: date
) -> list[BoardColumn]:
    """Return the programme's columns in board order, each with its first `limit` cards."""
    conditions = _conditions(user, programme.id, filters, today)
    counts = stage_counts(user, programme, filters, today)
    span = firm_span()
    # One small select per non-empty column: each stops after `limit` rows, where one ranking
    # over every open enrollment would sort them all.
    ids = {
        stage.id: list(
            db.session.scalars(
                _ids([*conditions, _in_stage(stage.id, counts[stage.id], limit, span)]).limit(limit)
            )
        )
        for stage in programme.stages
        if counts.get(stage.id)
    }
    cards = _cards(user, programme, [i for column in ids.values() for i in column], today)
    by_stage: dict[int, list[BoardCard]] = {}
    for card in cards:
        by_stage.setdefault(card.stage_id, []).append(card)
    return [
        BoardColumn(stage, counts.get(stage.id, 0), by_stage.get(stage.id, []))
        for stage in programme.stages
    ]


def column_page(
    user: User,
    programme: Programme,
    stage: Stage,
    filters: BoardFilters,
    number: int,
    per_page: int,
    today: date,
) -> Page:
    """Return one page of every card of a column, by firm name."""
    conditions = _conditions(user, programme.id, filters, today)
    count = stage_counts(user, programme, filters, today).get(stage.id, 0)
    wanted = page_number(number) * per_page + 1
    in_stage = _in_stage(stage.id, count, wanted)
    page = paginate(_ids([*conditions, in_stage]), number, per_page)
    page.items = _cards(user, programme, page.items, today)
    return page


def column_cards(
    user: User, programme: Programme, stage: Stage, filters: BoardFilters, today: date
) -> Iterator[BoardCard]:
    """Yield every card of a column by firm name, as its pages show them, unpaged: the ids at
    once, the cards a thousand at a time."""
    conditions = _conditions(user, programme.id, filters, today)
    ids = list(db.session.scalars(_ids([*conditions, Enrollment.stage_id == stage.id])))
    for start in range(0, len(ids), _CHUNK):
        yield from _cards(user, programme, ids[start : start + _CHUNK], today)


def column_count(
    user: User, programme: Programme, stage: Stage, filters: BoardFilters, today: date
) -> int:
    """Return how many cards a column holds."""
    return stage_counts(user, programme, filters, today).get(stage.id, 0)


def cards_after(
    user: User,
    programme: Programme,
    stage: Stage,
    filters: BoardFilters,
    after: tuple[str, int],
    per_page: int,
    today: date,
) -> Page:
    """Return the cards of a column that follow the firm (name, id) `after`, by firm name.

    The board loads a column's next cards from its last card rather than by offset: a card
    moved out of the column (or into it) since its first cards were shown would otherwise make
    the next offset skip a card (or show one twice). The key comes from the page, so nothing
    about a firm out of reach is looked up.
    """
    name, firm_id = after
    following = or_(Firm.name > name, and_(Firm.name == name, Firm.id > firm_id))
    conditions = _conditions(user, programme.id, filters, today)
    count = stage_counts(user, programme, filters, today).get(stage.id, 0)
    in_stage = _in_stage(stage.id, count, per_page + 1)
    stmt = _ids([*conditions, in_stage, following])
    page = paginate(stmt, 1, per_page)
    page.items = _cards(user, programme, page.items, today)
    return page


def board_card(user: User, enrollment: Enrollment, today: date) -> BoardCard | None:
    """Return the card of one enrollment, or None once it is closed."""
    if not enrollment.is_open:
        return None
    cards = _cards(user, enrollment.programme, [enrollment.id], today)
    return cards[0] if cards else None


def opened_years(programme: Programme, today: date) -> list[int]:
    """Return the years from the programme's first enrollment to this year, latest first."""
    first, last = db.session.execute(
        select(func.min(Enrollment.opened_on), func.max(Enrollment.opened_on)).where(
            Enrollment.programme_id == programme.id
        )
    ).one()
    low = first.year if first else today.year
    high = max(last.year if last else today.year, today.year)
    return list(range(high, low - 1, -1))
