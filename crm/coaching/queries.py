"""Read-side selects of the coaching pages."""

from flask import abort
from sqlalchemy import select

from crm.coaching.models import Activity, CoachingPlan
from crm.extensions import db

#: The most activities a firm's 走访记录 tab lists.
ACTIVITIES_SHOWN = 200


def get_plan(plan_id: int) -> CoachingPlan:
    """Load a plan by id, or answer 404; the caller checks the firm."""
    plan = db.session.get(CoachingPlan, plan_id)
    if plan is None:
        abort(404)
    return plan


def get_plan_child(model, plan: CoachingPlan, child_id: int):
    """Load a measure or milestone that belongs to `plan`, or answer 404."""
    row = db.session.get(model, child_id)
    if row is None or row.plan_id != plan.id:
        abort(404)
    return row


def get_activity(firm_id: int, activity_id: int) -> Activity:
    """Load an activity logged on the firm, or answer 404."""
    row = db.session.get(Activity, activity_id)
    if row is None or row.firm_id != firm_id:
        abort(404)
    return row


def plans_of(firm_id: int) -> list[CoachingPlan]:
    """Return the firm's plans, latest year first."""
    stmt = (
        select(CoachingPlan)
        .where(CoachingPlan.firm_id == firm_id)
        .order_by(CoachingPlan.year.desc())
    )
    return list(db.session.scalars(stmt))


def activities_of(firm_id: int) -> list[Activity]:
    """Return the firm's activities, newest first."""
    stmt = (
        select(Activity)
        .where(Activity.firm_id == firm_id)
        .order_by(Activity.occurred_on.desc(), Activity.id.desc())
        .limit(ACTIVITIES_SHOWN)
    )
    return list(db.session.scalars(stmt))
