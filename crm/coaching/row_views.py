"""htmx routes for the rows of a plan: measures edited in place, milestones added and ticked off.

Each route loads the plan and its firm through `views.load_plan` (readable to show, editable to
change) and the row through the plan, so a row of one plan never answers through another plan's
address. htmx requests get fragments back; plain form posts are redirected to the plan page.
"""

from flask import flash, redirect, render_template
from flask_login import login_required

from crm.coaching import queries, services
from crm.coaching.forms import MeasureForm, MilestoneForm
from crm.coaching.models import CoachingMeasure, CoachingMilestone
from crm.coaching.views import load_plan, plan_context, plan_url, render_plan
from crm.core.web import is_htmx
from crm.extensions import db


@login_required
def measure_create(plan_id: int):
    """Add a measure from the form above the measures table."""
    plan, firm = load_plan(plan_id, write=True)
    form = MeasureForm(prefix="new")
    if form.validate_on_submit():
        services.add_measure(plan, form.values())
        db.session.commit()
        if not is_htmx():
            flash("已添加措施。", "success")
            return redirect(plan_url(plan))
        form = MeasureForm(prefix="new", formdata=None)
    if is_htmx():
        context = plan_context(plan, firm, measure_form=form, refresh_actions=True)
        return render_template("coaching/_measures_panel.html", **context)
    return render_plan(plan, firm, measure_form=form)


@login_required
def measure_row(plan_id: int, row_id: int):
    """Show a measure as a table row (the 取消 of an inline edit)."""
    plan, firm = load_plan(plan_id)
    row = queries.get_plan_child(CoachingMeasure, plan, row_id)
    if not is_htmx():
        return redirect(plan_url(plan))
    return render_template("coaching/_measure_row.html", **plan_context(plan, firm, row=row))


@login_required
def measure_edit(plan_id: int, row_id: int):
    """Return a measure as an inline form, or save it."""
    plan, firm = load_plan(plan_id, write=True)
    row = queries.get_plan_child(CoachingMeasure, plan, row_id)
    form = MeasureForm(obj=row, prefix=f"row{row.id}")
    if form.validate_on_submit():
        services.update_measure(row, form.values())
        db.session.commit()
        if not is_htmx():
            flash("已保存。", "success")
            return redirect(plan_url(plan))
        return render_template("coaching/_measure_row.html", **plan_context(plan, firm, row=row))
    if is_htmx():
        context = plan_context(plan, firm, row=row, form=form)
        return render_template("coaching/_measure_row_form.html", **context)
    return render_plan(plan, firm, editing={row.id: form})


@login_required
def measure_delete(plan_id: int, row_id: int):
    """Delete a measure; htmx removes its row and refreshes the status actions."""
    plan, firm = load_plan(plan_id, write=True)
    row = queries.get_plan_child(CoachingMeasure, plan, row_id)
    services.delete_measure(row)
    db.session.commit()
    if is_htmx():
        context = plan_context(plan, firm, oob=True)
        return render_template("coaching/_plan_actions.html", **context)
    flash("已删除措施。", "success")
    return redirect(plan_url(plan))


def _milestones_answer(plan, firm, **overrides):
    if is_htmx():
        context = plan_context(plan, firm, **overrides)
        return render_template("coaching/_milestones_panel.html", **context)
    if "milestone_form" in overrides:
        return render_plan(plan, firm, **overrides)
    return redirect(plan_url(plan))


@login_required
def milestone_create(plan_id: int):
    """Add a dated milestone."""
    plan, firm = load_plan(plan_id, write=True)
    form = MilestoneForm(prefix="milestone")
    if not form.validate_on_submit():
        return _milestones_answer(plan, firm, milestone_form=form)
    services.add_milestone(plan, form.values())
    db.session.commit()
    return _milestones_answer(plan, firm)


@login_required
def milestone_toggle(plan_id: int, row_id: int):
    """Mark a milestone reached today, or not reached again."""
    plan, firm = load_plan(plan_id, write=True)
    services.toggle_milestone(queries.get_plan_child(CoachingMilestone, plan, row_id))
    db.session.commit()
    return _milestones_answer(plan, firm)


@login_required
def milestone_delete(plan_id: int, row_id: int):
    """Delete a milestone."""
    plan, firm = load_plan(plan_id, write=True)
    services.delete_milestone(queries.get_plan_child(CoachingMilestone, plan, row_id))
    db.session.commit()
    return _milestones_answer(plan, firm)
