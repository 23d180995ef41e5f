"""Use cases of coaching plans and the activities log: change, flush, never commit.

The audit listener records every change (each row carries its firm's id); nothing here writes
history by hand. A refused change raises `CoachingError` with the reason in Chinese.
"""

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.coaching.models import Activity, CoachingMeasure, CoachingMilestone, CoachingPlan
from crm.core import clock
from crm.core.permissions import is_manager
from crm.eligibility.services import current_assessment
from crm.extensions import db
from crm.pipeline.rules import HTE
from crm.pipeline.signals import gathering_move_facts

NO_ASSESSMENT = "暂无预评估结果"
NO_GAPS = "预评估暂无差距"


class CoachingError(ValueError):
    """A change to a plan that the rules refuse; the message is in Chinese."""


class GateFacts(NamedTuple):
    """What the pipeline's `coaching` gate reads about a firm's plan for a year."""

    #: True when the firm has a plan for the year that is not closed.
    has_plan: bool
    #: The plan's measures, not counting dropped ones.
    measures: int
    #: True when the plan names a responsible account manager.
    has_manager: bool


# --- Plans ----------------------------------------------------------------------------------------


def plan_taken(firm_id: int, year: int) -> bool:
    """Tell whether the firm already has a plan for `year`."""
    stmt = select(CoachingPlan.id).where(CoachingPlan.firm_id == firm_id, CoachingPlan.year == year)
    return db.session.scalar(stmt) is not None


def diagnosis_for(firm_id: int) -> str:
    """Return the firm's current eligibility gaps, one per line, as a starting diagnosis."""
    assessment = current_assessment(firm_id)
    if assessment is None:
        return NO_ASSESSMENT
    gaps = assessment.hte.gaps
    if not gaps:
        return NO_GAPS
    return "\n".join(gap.message for gap in gaps)


def create_plan(firm, year: int, actor=None) -> CoachingPlan:
    """Start a draft plan for the firm and year, its diagnosis taken from the gap list."""
    if plan_taken(firm.id, year):
        raise CoachingError(f"该企业 {year} 年度的一企一策方案已存在，请直接编辑该方案")
    manager_id = firm.manager_id
    if manager_id is None and is_manager(actor):
        manager_id = actor.id
    plan = CoachingPlan(
        firm_id=firm.id,
        year=year,
        status="draft",
        diagnosis=diagnosis_for(firm.id),
        manager_id=manager_id,
    )
    try:
        # A savepoint, so a plan created at the same moment elsewhere leaves the session usable.
        with db.session.begin_nested():
            db.session.add(plan)
            db.session.flush()
    except IntegrityError:
        raise CoachingError(f"该企业 {year} 年度的一企一策方案已存在，请直接编辑该方案") from None
    return plan


def _set(row, values: dict[str, Any]):
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    return row


def update_plan(plan: CoachingPlan, values: dict[str, Any]) -> CoachingPlan:
    """Change a plan's diagnosis, goal and the people responsible."""
    values = {k: v for k, v in values.items() if k not in ("firm_id", "year", "status")}
    return _set(plan, values)


def activation_problems(plan: CoachingPlan) -> list[str]:
    """Return what the plan lacks before it can be put into effect, in Chinese."""
    problems = []
    if plan.status != "draft":
        problems.append(f"方案当前状态为“{plan.status_label}”，只有草拟中的方案可以启动实施")
    if not any(m.status != "dropped" for m in plan.measures):
        problems.append("请至少添加一项辅导措施")
    if plan.manager_id is None:
        problems.append("请指定负责的服务专员")
    return problems


def activate_plan(plan: CoachingPlan) -> CoachingPlan:
    """Put a draft plan into effect; refuse without a measure and a responsible manager."""
    problems = activation_problems(plan)
    if problems:
        raise CoachingError("无法启动实施：" + "；".join(problems) + "。")
    plan.status = "active"
    db.session.flush()
    return plan


def close_plan(plan: CoachingPlan, outcome: str, closed_on: date | None = None) -> CoachingPlan:
    """End a plan, recording what it achieved."""
    if plan.status == "closed":
        raise CoachingError("该方案已结束")
    if not (outcome or "").strip():
        raise CoachingError("结束方案前请填写成效")
    plan.outcome = outcome.strip()
    plan.closed_on = closed_on or clock.today()
    plan.status = "closed"
    db.session.flush()
    return plan


def plan_gate_facts(firm_id: int, year: int) -> GateFacts:
    """Return whether the firm has an open plan for `year`, its live measures and its manager."""
    counted = (
        select(func.count(CoachingMeasure.id))
        .where(CoachingMeasure.plan_id == CoachingPlan.id, CoachingMeasure.status != "dropped")
        .scalar_subquery()
    )
    row = db.session.execute(
        select(CoachingPlan.manager_id, counted).where(
            CoachingPlan.firm_id == firm_id,
            CoachingPlan.year == year,
            CoachingPlan.status != "closed",
        )
    ).first()
    if row is None:
        return GateFacts(False, 0, False)
    return GateFacts(True, int(row[1]), row[0] is not None)


@gathering_move_facts.connect_via(HTE)
def _plan_facts(programme: str, *, firm, inputs, today: date) -> dict[str, Any]:
    """Tell the coaching gate about the firm's plan of this year."""
    has_plan, measures, has_manager = plan_gate_facts(firm.id, today.year)
    return {
        "plan_exists": bool(has_plan),
        "plan_measures": int(measures),
        "plan_has_manager": bool(has_manager),
    }


# --- Measures and milestones ----------------------------------------------------------------------


def _finished_on(values: dict[str, Any], status_done: bool) -> dict[str, Any]:
    values = dict(values)
    if status_done and values.get("done_on") is None:
        values["done_on"] = clock.today()
    return values


def add_measure(plan: CoachingPlan, values: dict[str, Any]) -> CoachingMeasure:
    """Add a measure to a plan."""
    values = _finished_on(values, values.get("status") == "done")
    measure = CoachingMeasure(plan=plan, firm_id=plan.firm_id, **values)
    db.session.add(measure)
    db.session.flush()
    return measure


def update_measure(measure: CoachingMeasure, values: dict[str, Any]) -> CoachingMeasure:
    """Change a measure; one marked done without a date is done today."""
    return _set(measure, _finished_on(values, values.get("status") == "done"))


def delete_measure(measure: CoachingMeasure) -> None:
    """Remove a measure from its plan."""
    measure.plan.measures.remove(measure)
    db.session.delete(measure)
    db.session.flush()


def add_milestone(plan: CoachingPlan, values: dict[str, Any]) -> CoachingMilestone:
    """Add a dated milestone to a plan."""
    milestone = CoachingMilestone(plan=plan, firm_id=plan.firm_id, **values)
    db.session.add(milestone)
    db.session.flush()
    return milestone


def update_milestone(milestone: CoachingMilestone, values: dict[str, Any]) -> CoachingMilestone:
    """Change a milestone (title, dates)."""
    return _set(milestone, values)


def toggle_milestone(milestone: CoachingMilestone) -> CoachingMilestone:
    """Mark a milestone reached today, or not reached again."""
    milestone.done_on = None if milestone.done_on else clock.today()
    db.session.flush()
    return milestone


def delete_milestone(milestone: CoachingMilestone) -> None:
    """Remove a milestone from its plan."""
    milestone.plan.milestones.remove(milestone)
    db.session.delete(milestone)
    db.session.flush()


# --- Activities -----------------------------------------------------------------------------------


def log_activity(firm, values: dict[str, Any], actor=None) -> Activity:
    """Record a visit, call, meeting or other contact with the firm."""
    activity = Activity(firm_id=firm.id, created_by_id=actor.id if actor else None, **values)
    db.session.add(activity)
    db.session.flush()
    return activity


def update_activity(activity: Activity, values: dict[str, Any]) -> Activity:
    """Change a logged activity."""
    return _set(activity, values)


def set_follow_up_done(activity: Activity, done: bool) -> Activity:
    """Mark an activity's follow-up as done or open."""
    activity.follow_up_done = done
    db.session.flush()
    return activity


def delete_activity(activity: Activity) -> None:
    """Remove a logged activity."""
    db.session.delete(activity)
    db.session.flush()


def last_contact_on(firm_id: int) -> date | None:
    """Return the date of the firm's latest logged activity, if any."""
    return db.session.scalar(
        select(func.max(Activity.occurred_on)).where(Activity.firm_id == firm_id)
    )
