"""What the portal's pages read: a firm's requests, reminders, programmes and measures, and the
bureau's review queue."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from crm.accounts.models import User
from crm.coaching.models import CoachingMeasure, CoachingPlan
from crm.extensions import db
from crm.firms.access import firm_scope
from crm.firms.models import Certificate, Firm
from crm.pipeline.models import Enrollment, StageTransition
from crm.portal.models import OPEN, ChangeRequest
from crm.reminders.inbox import addressed_to
from crm.reminders.models import Reminder

#: How a condition of the self-check reads to a firm.
PLAIN_STATUS = {"met": "符合", "unmet": "暂不符合", "unknown": "需补充数据"}
#: Reminders and requests the home page shows at most.
HOME_ROWS = 10
REVIEW_PAGE_SIZE = 30


def get_request(request_id: int, firm_id: int | None = None) -> ChangeRequest | None:
    """Return a request, of `firm_id` when given."""
    stmt = select(ChangeRequest).where(ChangeRequest.id == request_id)
    if firm_id is not None:
        stmt = stmt.where(ChangeRequest.firm_id == firm_id)
    return db.session.scalar(stmt)


def firm_requests(firm_id: int, limit: int | None = None) -> list[ChangeRequest]:
    """Return a firm's requests, the newest first."""
    stmt = (
        select(ChangeRequest)
        .where(ChangeRequest.firm_id == firm_id)
        .order_by(ChangeRequest.submitted_at.desc(), ChangeRequest.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def unseen_decisions(firm_id: int) -> list[ChangeRequest]:
    """Return the firm's decided requests its users have not opened since."""
    stmt = (
        select(ChangeRequest)
        .where(
            ChangeRequest.firm_id == firm_id,
            ChangeRequest.status.in_(("approved", "partial", "rejected")),
            ChangeRequest.seen_at.is_(None),
        )
        .order_by(ChangeRequest.decided_at.desc())
        .limit(HOME_ROWS)
    )
    return list(db.session.scalars(stmt))


def open_reminders(user: User, limit: int = HOME_ROWS) -> list[Reminder]:
    """Return what the bureau asks of the user's firm now: its open reminders, the soonest due
    first."""
    stmt = (
        select(Reminder)
        .where(addressed_to(user), Reminder.closed_at.is_(None), Reminder.done_at.is_(None))
        .order_by(Reminder.due_on.is_(None), Reminder.due_on, Reminder.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class Position:
    """Where a firm stands in one programme, in plain words."""

    programme: str
    stage: str
    since: date | None
    closed: bool


def positions(firm_id: int) -> list[Position]:
    """Return the firm's place in each programme it has entered (its latest enrollment)."""
    moved = (
        select(func.max(StageTransition.moved_on))
        .where(StageTransition.enrollment_id == Enrollment.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Enrollment, moved)
        .where(Enrollment.firm_id == firm_id)
        .order_by(Enrollment.programme_id, Enrollment.opened_on.desc(), Enrollment.id.desc())
    )
    found: dict[int, Position] = {}
    for enrollment, since in rows:
        if enrollment.programme_id not in found:
            found[enrollment.programme_id] = Position(
                enrollment.programme.name,
                enrollment.stage.name,
                since or enrollment.opened_on,
                enrollment.closed_on is not None,
            )
    return list(found.values())


def assigned_measures(firm_id: int) -> list[CoachingMeasure]:
    """Return the measures of the firm's coaching plans under way (not drafts), open first."""
    stmt = (
        select(CoachingMeasure)
        .join(CoachingPlan, CoachingPlan.id == CoachingMeasure.plan_id)
        .where(
            CoachingMeasure.firm_id == firm_id,
            CoachingPlan.status != "draft",
            CoachingMeasure.status != "dropped",
        )
        .options(selectinload(CoachingMeasure.plan))
        .order_by(
            CoachingMeasure.status == "done",
            CoachingMeasure.due_on.is_(None),
            CoachingMeasure.due_on,
            CoachingMeasure.id,
        )
    )
    return list(db.session.scalars(stmt))


def assigned_measure(firm_id: int, measure_id: int) -> CoachingMeasure | None:
    """Return one of the firm's assigned measures, or None."""
    return next((m for m in assigned_measures(firm_id) if m.id == measure_id), None)


def certificates(firm_id: int) -> list[Certificate]:
    """Return the firm's certificates, the latest first."""
    stmt = (
        select(Certificate)
        .where(Certificate.firm_id == firm_id)
        .order_by(Certificate.issued_on.desc())
    )
    return list(db.session.scalars(stmt))


def review_select(user: User, status: str = OPEN) -> Select:
    """Return the requests of the firms `user` reaches in `status` (`all` for any decided), the
    oldest open first and the latest decided first."""
    stmt = (
        select(ChangeRequest)
        .join(Firm, Firm.id == ChangeRequest.firm_id)
        .where(firm_scope(user), Firm.deleted_at.is_(None))
        .options(selectinload(ChangeRequest.firm), selectinload(ChangeRequest.submitted_by))
    )
    if status == OPEN:
        return stmt.where(ChangeRequest.status == OPEN).order_by(
            ChangeRequest.submitted_at, ChangeRequest.id
        )
    return stmt.where(ChangeRequest.status != OPEN).order_by(
        ChangeRequest.decided_at.desc(), ChangeRequest.id.desc()
    )


def open_count(user: User) -> int:
    """Return how many requests of the firms `user` reaches wait for review (the navigation
    bar's badge, on every page: the few open requests are read, and their firms checked)."""
    stmt = (
        select(func.count())
        .select_from(ChangeRequest)
        .join(Firm, Firm.id == ChangeRequest.firm_id)
        .where(ChangeRequest.status == OPEN, firm_scope(user), Firm.deleted_at.is_(None))
    )
    return db.session.scalar(stmt) or 0
