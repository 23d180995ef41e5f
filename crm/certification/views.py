"""Pages of the certification blueprint: batches and their results, the re-certification cohort.

Bureau staff read the batches and the cohort, each list narrowed to the firms the user may see;
the administrator creates and edits batches; whoever may edit a firm (its manager, an admin)
enters its result. The firm's 高企认定 tab is a panel of the firm page (`firm_tab_context`); the
routes of its change forms live in `firm_views`, attached to the same blueprint in `blueprint`.
"""

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.certification import duties, queries, rules
from crm.certification.forms import (
    BatchForm,
    CertificateForm,
    ChangeForm,
    CohortFilterForm,
    FiledForm,
    RenameForm,
    ReportedForm,
    ResultLineForm,
    ResultsForm,
)
from crm.certification.models import APPLICATION_STATUSES, CertificationBatch
from crm.certification.results import ResultRow, record_results
from crm.certification.services import BatchError, create_batch, update_batch
from crm.core import clock
from crm.core.permissions import (
    ADMIN,
    EDITOR_ROLES,
    STAFF_ROLES,
    is_admin,
    is_editor,
    roles_required,
)
from crm.extensions import db
from crm.firms.access import can_edit_firm
from crm.firms.queries import firm_choices_data

#: Certificates per page of the cohort unless COHORT_PER_PAGE says otherwise.
COHORT_PER_PAGE = 100


def certification_helpers() -> dict[str, Any]:
    """Give templates the application statuses and the results of the bulk form."""
    return {"application_statuses": APPLICATION_STATUSES, "certification_results": rules.RESULTS}


def batch_url(batch: CertificationBatch) -> str:
    """Return the address of a batch's page."""
    return url_for("certification.detail", batch_id=batch.id)


def _show_error(form, error: BatchError) -> None:
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


@roles_required(*STAFF_ROLES)
def batches():
    """List the certification batches with their windows and application counts."""
    today = clock.today()
    rows = queries.batches()
    return render_template(
        "certification/list.html",
        batches=rows,
        counts=queries.application_counts(current_user),
        windows={b.id: rules.batch_window_label(b.opens_on, b.closes_on, today) for b in rows},
    )


@roles_required(ADMIN)
def new():
    """Create a certification batch."""
    form = BatchForm()
    if form.validate_on_submit():
        try:
            batch = create_batch(form.values())
        except BatchError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(f"已新建认定批次“{batch.label}”。", "success")
            return redirect(batch_url(batch))
    return render_template("certification/new.html", form=form)


@roles_required(ADMIN)
def edit(batch_id: int):
    """Change a certification batch's name and dates."""
    batch = db.get_or_404(CertificationBatch, batch_id)
    form = BatchForm(obj=batch)
    if form.validate_on_submit():
        try:
            update_batch(batch, form.values())
        except BatchError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(f"已保存认定批次“{batch.label}”。", "success")
            return redirect(batch_url(batch))
    return render_template("certification/edit.html", form=form, batch=batch)


def result_lines(applications, formdata=None) -> list[ResultLineForm]:
    """Return a result line for each pending application the user may record a result for."""
    return [
        ResultLineForm(a, formdata=formdata)
        for a in applications
        if a.status in rules.PENDING_STATUSES and can_edit_firm(current_user, a.firm)
    ]


def render_batch(batch: CertificationBatch, formdata=None, **overrides):
    """Render a batch's page: counts, applications and the result form for editors."""
    applications = queries.batch_applications(batch.id, current_user)
    counts = {code: 0 for code in APPLICATION_STATUSES}
    for application in applications:
        counts[application.status] = counts.get(application.status, 0) + 1
    may_record = is_editor(current_user)
    context: dict[str, Any] = {
        "batch": batch,
        "applications": applications,
        "counts": counts,
        "lines": result_lines(applications, formdata) if may_record else [],
        "results_form": ResultsForm(formdata=None),
        "outcomes": None,
    }
    context.update(overrides)
    return render_template("certification/detail.html", **context)


@roles_required(*STAFF_ROLES)
def detail(batch_id: int):
    """Show a batch, its applications by status and the result form."""
    return render_batch(db.get_or_404(CertificationBatch, batch_id))


@roles_required(*EDITOR_ROLES)
def results(batch_id: int):
    """Record the results of many applications of the batch, each through a pipeline move."""
    batch = db.get_or_404(CertificationBatch, batch_id)
    form = ResultsForm()
    lines = result_lines(queries.batch_applications(batch.id, current_user), request.form)
    valid = [line.validate() for line in lines]
    if not form.validate_on_submit() or not all(valid):
        return render_batch(batch, results_form=form, lines=lines)
    rows = [
        ResultRow(
            line.application.id,
            line.result.data,
            line.certificate_number.data or "",
            line.issued_on.data or form.issued_on.data,
            line.reason.data or "",
        )
        for line in lines
        if line.result.data
    ]
    if not rows:
        flash("没有填写任何结果。", "warning")
        return redirect(batch_url(batch))
    outcomes = record_results(batch, rows, current_user, form.result_on.data)
    db.session.commit()
    recorded = sum(outcome.recorded for outcome in outcomes)
    flash(f"已记录 {recorded} 家企业的结果，{len(outcomes) - recorded} 家未能记录。", "info")
    return render_batch(batch, request.form, results_form=form, outcomes=outcomes)


@roles_required(*STAFF_ROLES)
def cohort():
    """List the firms whose certificate expires in a year, by issue year (重新认定)."""
    form = CohortFilterForm(request.args, queries.expiry_years(), firm_choices_data())
    filters = form.filters()
    page = queries.cohort_page(
        current_user,
        filters,
        request.args.get("page", 1, type=int),
        current_app.config.get("COHORT_PER_PAGE", COHORT_PER_PAGE),
    )
    groups = queries.cohort_groups(current_user, filters, clock.today(), page.items)
    return render_template(
        "certification/cohort.html", form=form, groups=groups, page=page, year=filters.year
    )


def firm_tab_context(firm, **overrides) -> dict[str, Any]:
    """Return what the firm's 高企认定 tab shows: certificate, applications, change reports."""
    today = clock.today()
    certificate = queries.current_certificate(firm.id)
    reports = queries.change_reports(firm.id)
    firm_duties = duties.firm_duties(firm.id)
    may_edit = can_edit_firm(current_user, firm)
    context: dict[str, Any] = {
        "certificate": certificate,
        "days_left": rules.days_left(certificate.expires_on, today) if certificate else None,
        "cohort": rules.cohort_label(certificate.issued_on, certificate.expires_on)
        if certificate
        else "",
        "applications": queries.firm_applications(firm.id),
        "change_reports": reports,
        "overdue": {r.id for r in reports if rules.is_overdue(r.due_on, r.reported_on, today)},
        "rename_form": RenameForm(formdata=None) if may_edit else None,
        "certificate_form": CertificateForm(formdata=None)
        if may_edit and is_admin(current_user)
        else None,
        "change_form": ChangeForm(formdata=None) if may_edit else None,
        "duties": firm_duties,
        "missed_years": duties.missed_years(firm.id, today),
        "missed_limit": rules.MISSED_REPORTS_CANCEL,
        "filed_forms": {
            d.id: FiledForm(prefix=f"duty-{d.id}", formdata=None)
            for d in firm_duties
            if d.filed_on is None
        }
        if may_edit
        else {},
        "may_mark": may_edit,
        "today": today,
        "reported_forms": {
            r.id: ReportedForm(r.id, formdata=None) for r in reports if r.reported_on is None
        }
        if may_edit
        else {},
    }
    context.update(overrides)
    return context
