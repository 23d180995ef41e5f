"""The kanban board's bulk move: every selected firm through its own gate, in its own savepoint.

A refusal rolls back only that firm's savepoint, so the others still move; the caller commits
once at the end. Everything here flushes and never commits.
"""

from dataclasses import dataclass, field

from sqlalchemy import select

from crm.accounts.models import User
from crm.extensions import db
from crm.firms.access import visible_firms
from crm.firms.models import Firm
from crm.pipeline import services
from crm.pipeline.board_queries import may_move
from crm.pipeline.models import Enrollment, Programme
from crm.pipeline.services import GateRefused, MoveInputs

NOT_ALLOWED = "您无权变更该企业的阶段"


@dataclass
class BulkOutcome:
    """What happened to one selected firm."""

    firm: Firm
    enrollment_id: int
    moved: bool
    #: Why the firm did not move, or the warnings of a move that went ahead.
    messages: list[str] = field(default_factory=list)
    is_override: bool = False


@dataclass
class BulkResult:
    """The outcomes of a bulk move, and how many selected ids were out of reach."""

    outcomes: list[BulkOutcome]
    skipped: int = 0

    @property
    def moved(self) -> list[BulkOutcome]:
        """Return the outcomes of the firms that moved."""
        return [o for o in self.outcomes if o.moved]

    @property
    def refused(self) -> list[BulkOutcome]:
        """Return the outcomes of the firms that did not move."""
        return [o for o in self.outcomes if not o.moved]


def bulk_move(
    user: User,
    programme: Programme,
    enrollment_ids: list[int],
    target: str,
    inputs: MoveInputs,
    override_reason: str | None = None,
) -> BulkResult:
    """Move each selected enrollment of `programme` to `target`, each through its own gate."""
    wanted = set(enrollment_ids)
    enrollments = db.session.scalars(
        select(Enrollment)
        .join(Firm, Firm.id == Enrollment.firm_id)
        .where(
            Enrollment.id.in_(wanted),
            Enrollment.programme_id == programme.id,
            visible_firms(user).whereclause,
        )
        .order_by(Firm.name, Firm.id)
    ).all()
    outcomes = [_move_one(user, e, target, inputs, override_reason) for e in enrollments]
    return BulkResult(outcomes, skipped=len(wanted) - len(enrollments))


def _move_one(
    user: User,
    enrollment: Enrollment,
    target: str,
    inputs: MoveInputs,
    override_reason: str | None,
) -> BulkOutcome:
    firm = enrollment.firm
    outcome = BulkOutcome(firm, enrollment.id, moved=False)
    if not may_move(user, firm):
        outcome.messages = [NOT_ALLOWED]
        return outcome
    try:
        with db.session.begin_nested():
            result = services.move_firm(enrollment, target, inputs, user, override_reason)
    except GateRefused as refused:
        outcome.messages = refused.messages
    else:
        outcome.moved = True
        outcome.messages = result.warnings
        outcome.is_override = result.transition.is_override
    return outcome
