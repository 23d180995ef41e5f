"""htmx routes of a firm's 走访记录 tab: log, show, edit and delete activities, tick off follow-ups.

Each route loads the firm through `firms.access.get_staff_firm` (readable to show, editable to
change) and the activity through the firm, so an activity never answers through another firm's
address.
"""

from flask import flash, redirect, render_template
from flask_login import current_user, login_required

from crm.coaching import queries, services
from crm.coaching.forms import ActivityForm
from crm.core.web import is_htmx, tab_url
from crm.extensions import db
from crm.firms.access import get_staff_firm

TAB = "activities"


def _render(template: str, firm, **overrides):
    from crm.firms.views import tab_context

    return render_template(template, **tab_context(firm, TAB, **overrides))


def _render_tab(firm, **overrides):
    from crm.firms.views import render_detail

    return render_detail(firm, TAB, **overrides)


@login_required
def activity_create(firm_id: int):
    """Log a visit or other contact from the form above the list."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    form = ActivityForm(prefix="new")
    if form.validate_on_submit():
        services.log_activity(firm, form.values(), current_user)
        db.session.commit()
        if not is_htmx():
            flash("已添加走访记录。", "success")
            return redirect(tab_url(firm.id, TAB))
        form = ActivityForm(prefix="new", formdata=None)
    if is_htmx():
        return _render("coaching/_activities_panel.html", firm, activity_form=form)
    return _render_tab(firm, activity_form=form)


@login_required
def activity_row(firm_id: int, row_id: int):
    """Show an activity as a table row (the 取消 of an inline edit)."""
    firm = get_staff_firm(current_user, firm_id)
    row = queries.get_activity(firm.id, row_id)
    if not is_htmx():
        return redirect(tab_url(firm.id, TAB))
    return _render("coaching/_activity_row.html", firm, row=row)


@login_required
def activity_edit(firm_id: int, row_id: int):
    """Return an activity as an inline form, or save it."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    row = queries.get_activity(firm.id, row_id)
    form = ActivityForm(obj=row, prefix=f"row{row.id}")
    if form.validate_on_submit():
        services.update_activity(row, form.values())
        db.session.commit()
        if not is_htmx():
            flash("已保存。", "success")
            return redirect(tab_url(firm.id, TAB))
        return _render("coaching/_activity_row.html", firm, row=row)
    if is_htmx():
        return _render("coaching/_activity_row_form.html", firm, row=row, form=form)
    return _render_tab(firm, editing={row.id: form})


@login_required
def activity_follow_up(firm_id: int, row_id: int):
    """Mark an activity's follow-up done, or open again."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    row = queries.get_activity(firm.id, row_id)
    services.set_follow_up_done(row, not row.follow_up_done)
    db.session.commit()
    if is_htmx():
        return _render("coaching/_activity_row.html", firm, row=row)
    return redirect(tab_url(firm.id, TAB))


@login_required
def activity_delete(firm_id: int, row_id: int):
    """Delete an activity; htmx removes its row."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    services.delete_activity(queries.get_activity(firm.id, row_id))
    db.session.commit()
    if is_htmx():
        return ""
    flash("已删除走访记录。", "success")
    return redirect(tab_url(firm.id, TAB))
