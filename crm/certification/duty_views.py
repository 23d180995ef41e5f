"""Pages of the yearly reports certified firms owe (年报): the list by year and report, marking
filed (in bulk, or one from the firm's tab), the deadline of a year, and the firms at risk.

Bureau staff read; account managers and administrators mark the reports of the firms they may
change (any other answers 404, as everywhere); only an administrator sets a deadline.
"""

from urllib.parse import urlencode

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.certification import duties, rules
from crm.certification.forms import DeadlineForm, DutyFilterForm, FiledForm
from crm.certification.models import Duty
from crm.core import clock
from crm.core.forms import whole_numbers
from crm.core.permissions import (
    ADMIN,
    EDITOR_ROLES,
    STAFF_ROLES,
    is_admin,
    is_editor,
    roles_required,
)
from crm.core.web import tab_url
from crm.extensions import db
from crm.firms.access import firm_scope, get_editable_firm
from crm.firms.models import Firm
from crm.firms.queries import firm_choices_data

#: Reports per page of the list unless DUTIES_PER_PAGE says otherwise.
PER_PAGE = 100
#: Firms per page of the 未按时填报 list unless DUTIES_RISK_PER_PAGE says otherwise.
RISK_PER_PAGE = 100
#: Reports one bulk marking takes: a city's certified firms, with room to spare.
MARK_LIMIT = 5000


def _filters(args) -> DutyFilterForm:
    return DutyFilterForm(args, duties.duty_years(), firm_choices_data())


def _list_url(form: DutyFilterForm) -> str:
    query = form.query()
    return url_for("certification.duties") + ("?" + urlencode(query) if query else "")


@roles_required(*STAFF_ROLES)
def duty_list():
    """List the reports of a year, by status, with what marks them filed."""
    form = _filters(request.args)
    filters = duties.DutyFilters(
        form.year.data, form.kind.data, form.status.data, form.district.data, form.manager.data
    )
    today = clock.today()
    return render_template(
        "certification/duties.html",
        form=form,
        filters=filters,
        page=duties.duty_page(
            current_user,
            filters,
            today,
            request.args.get("page", 1, type=int),
            current_app.config.get("DUTIES_PER_PAGE", PER_PAGE),
        ),
        counts=duties.duty_counts(current_user, filters, today),
        deadline=duties.deadline(filters.kind, filters.year),
        today=today,
        statuses=rules.DUTY_STATUSES,
        kinds=rules.DUTY_KINDS,
        filed_form=FiledForm(formdata=None) if is_editor(current_user) else None,
        deadline_form=DeadlineForm(formdata=None) if is_admin(current_user) else None,
    )


@roles_required(*EDITOR_ROLES)
def mark_duties():
    """Mark the ticked reports as filed on one day."""
    form = _filters(request.form)
    filed = FiledForm()
    back = _list_url(form)
    if not filed.validate_on_submit():
        for errors in filed.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(back)
    ids = whole_numbers(request.form.getlist("duty"))[:MARK_LIMIT]
    if not ids:
        flash("请先勾选要标记为已填报的企业。", "warning")
        return redirect(back)
    # An editor changes exactly the live firms it sees: one select finds the reports in reach.
    chosen = list(
        db.session.scalars(
            select(Duty)
            .join(Firm, Firm.id == Duty.firm_id)
            .where(Duty.id.in_(ids), firm_scope(current_user), Firm.deleted_at.is_(None))
        )
    )
    if len(chosen) != len(ids):
        abort(404)
    marked = duties.mark_filed(chosen, filed.filed_on.data, current_user)
    db.session.commit()
    flash(
        f"已将 {marked} 家企业的{rules.DUTY_KINDS[form.kind.data]}标记为已填报"
        f"（{filed.filed_on.data.isoformat()}）。",
        "success",
    )
    return redirect(back)


@roles_required(ADMIN)
def set_deadline():
    """Set the deadline of the chosen report and year."""
    form = _filters(request.form)
    deadline = DeadlineForm()
    if not deadline.validate_on_submit():
        for errors in deadline.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(_list_url(form))
    moved = duties.set_deadline(form.kind.data, form.year.data, deadline.due_on.data)
    db.session.commit()
    flash(
        f"{form.year.data} 年度{rules.DUTY_KINDS[form.kind.data]}的填报截止日期已设为 "
        f"{deadline.due_on.data.isoformat()}（{moved} 条记录随之调整）。",
        "success",
    )
    return redirect(_list_url(form))


@roles_required(*STAFF_ROLES)
def at_risk():
    """List the certified firms that missed annual reports, those at risk of cancellation first."""
    form = _filters(request.args)
    today = clock.today()
    page = duties.missing_reports_page(
        current_user,
        today,
        request.args.get("page", 1, type=int),
        current_app.config.get("DUTIES_RISK_PER_PAGE", RISK_PER_PAGE),
        form.district.data,
        form.manager.data,
    )
    return render_template(
        "certification/duties_risk.html",
        form=form,
        page=page,
        today=today,
        threshold=rules.MISSED_REPORTS_CANCEL,
    )


@login_required
def duty_filed(duty_id: int):
    """Mark one report filed from the firm's 高企认定 tab."""
    duty = db.get_or_404(Duty, duty_id)
    firm = get_editable_firm(current_user, duty.firm_id)
    form = FiledForm(prefix=f"duty-{duty.id}")
    if form.validate_on_submit():
        duties.mark_filed([duty], form.filed_on.data, current_user)
        db.session.commit()
        flash(f"已记录 {duty.year} 年度{duty.kind_label}的填报日期。", "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
    return redirect(tab_url(firm.id, "certification"))


@login_required
def duty_unfiled(duty_id: int):
    """Take back a report marked filed by mistake (CSRFProtect checks the token)."""
    duty = db.get_or_404(Duty, duty_id)
    firm = get_editable_firm(current_user, duty.firm_id)
    duties.unmark(duty)
    db.session.commit()
    flash(f"已撤销 {duty.year} 年度{duty.kind_label}的填报标记。", "info")
    return redirect(tab_url(firm.id, "certification"))
