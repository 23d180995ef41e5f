"""Pages of the coaching blueprint: a firm's plans, one plan, its edit form, status and print view.

Coaching plans and the visits log are the bureau's working notes: every route loads the firm
through firms.access (out of reach: 404; read-only roles changing data: 403) and then turns
enterprise users away with 403, even on their own firm. The htmx rows of measures, milestones and
activities live in `row_views` and `activity_views`, attached to the same blueprint in `blueprint`.
"""

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from crm.coaching import queries, services
from crm.coaching.forms import (
    ActivityForm,
    ClosePlanForm,
    MeasureForm,
    MilestoneForm,
    NewPlanForm,
    PlanForm,
)
from crm.coaching.models import ACTIVITY_KINDS, MEASURE_STATUSES, PLAN_STATUSES
from crm.core import clock
from crm.core.web import tab_url
from crm.extensions import db
from crm.firms.access import can_edit_firm, get_staff_firm


def coaching_helpers() -> dict[str, Any]:
    """Give the coaching templates the vocabularies."""
    return {
        "plan_statuses": PLAN_STATUSES,
        "measure_statuses": MEASURE_STATUSES,
        "activity_kinds": ACTIVITY_KINDS,
    }


def load_plan(plan_id: int, *, write: bool = False):
    """Load a plan and its firm under the same rules as the firm."""
    plan = queries.get_plan(plan_id)
    return plan, get_staff_firm(current_user, plan.firm_id, write=write)


def plan_url(plan) -> str:
    """Return the address of a plan's page."""
    return url_for("coaching.detail", plan_id=plan.id)


def plans_tab_context(firm) -> dict[str, Any]:
    """Return what the firm's 一企一策 tab shows: its plans, and the year a new plan would take."""
    plans = queries.plans_of(firm.id)
    taken = {plan.year for plan in plans}
    this_year = clock.today().year
    free = [year for year in (this_year, this_year + 1) if year not in taken]
    return {"plans": plans, "new_plan_year": free[0] if free else None}


def activities_tab_context(firm) -> dict[str, Any]:
    """Return what the firm's 走访记录 tab shows."""
    return {
        "activities": queries.activities_of(firm.id),
        "activity_form": ActivityForm(prefix="new", formdata=None),
    }


def plan_context(plan, firm, **overrides) -> dict[str, Any]:
    """Return what the plan page and its panels need."""
    context: dict[str, Any] = {
        "plan": plan,
        "firm": firm,
        "can_edit": can_edit_firm(current_user, firm),
        "measure_form": MeasureForm(prefix="new", formdata=None),
        "milestone_form": MilestoneForm(prefix="milestone", formdata=None),
        "close_form": ClosePlanForm(formdata=None),
        "problems": services.activation_problems(plan) if plan.status == "draft" else [],
        "editing": {},
    }
    context.update(overrides)
    return context


def render_plan(plan, firm, **overrides):
    """Render the plan page, with forms or rows in edit mode given in `overrides`."""
    return render_template("coaching/detail.html", **plan_context(plan, firm, **overrides))


@login_required
def new_plan(firm_id: int):
    """Start the firm's plan for a year, its diagnosis taken from the gap list."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    form = NewPlanForm()
    if not form.validate_on_submit():
        flash("；".join(form.year.errors) or "请求有误，请刷新页面后重试。", "danger")
        return redirect(tab_url(firm.id, "coaching"))
    try:
        plan = services.create_plan(firm, form.year.data, current_user)
    except services.CoachingError as error:
        flash(str(error), "danger")
        return redirect(tab_url(firm.id, "coaching"))
    db.session.commit()
    flash(f"已新建 {plan.year} 年度一企一策方案，请完善目标、措施和责任人。", "success")
    return redirect(plan_url(plan))


@login_required
def detail(plan_id: int):
    """Show a plan: diagnosis, goal, people, measures, milestones, outcome."""
    plan, firm = load_plan(plan_id)
    return render_plan(plan, firm)


@login_required
def edit(plan_id: int):
    """Change a plan's diagnosis, goal and the people responsible."""
    plan, firm = load_plan(plan_id, write=True)
    form = PlanForm(plan)
    if form.validate_on_submit():
        services.update_plan(plan, form.values())
        db.session.commit()
        flash("方案已保存。", "success")
        return redirect(plan_url(plan))
    return render_template("coaching/edit.html", form=form, plan=plan, firm=firm)


@login_required
def activate(plan_id: int):
    """Put a draft plan into effect, or say what it lacks."""
    plan, _ = load_plan(plan_id, write=True)
    try:
        services.activate_plan(plan)
    except services.CoachingError as error:
        flash(str(error), "danger")
        return redirect(plan_url(plan))
    db.session.commit()
    flash("方案已启动实施。", "success")
    return redirect(plan_url(plan))


@login_required
def close(plan_id: int):
    """End a plan with its outcome."""
    plan, firm = load_plan(plan_id, write=True)
    form = ClosePlanForm()
    if form.validate_on_submit():
        try:
            services.close_plan(plan, form.outcome.data)
        except services.CoachingError as error:
            flash(str(error), "danger")
            return redirect(plan_url(plan))
        db.session.commit()
        flash("方案已结束。", "success")
        return redirect(plan_url(plan))
    return render_plan(plan, firm, close_form=form)


@login_required
def print_plan(plan_id: int):
    """Show a plan laid out for one A4 page."""
    plan, firm = load_plan(plan_id)
    return render_template("coaching/print.html", plan=plan, firm=firm)
