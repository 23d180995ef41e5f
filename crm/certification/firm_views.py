"""Routes of the firm's 高企认定 tab: rename the firm, record a change, mark a report as made.

Each loads the firm through firms.access: out of reach answers 404, a read-only role 403.
A refused change re-renders the tab with the form's errors; a saved one redirects to the tab.
"""

from flask import abort, flash, redirect
from flask_login import current_user, login_required

from crm.certification import certificates, changes
from crm.certification.forms import CertificateForm, ChangeForm, RenameForm, ReportedForm
from crm.certification.models import ChangeReport
from crm.certification.views import firm_tab_context
from crm.core import clock
from crm.core.permissions import is_admin
from crm.core.web import tab_url
from crm.extensions import db
from crm.firms.access import get_editable_firm
from crm.firms.views import render_detail

TAB = "certification"


def _show_error(form, error: changes.ChangeError) -> None:
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


def _refused(firm, **forms):
    db.session.rollback()
    return render_detail(firm, TAB, **firm_tab_context(firm, **forms))


@login_required
def rename(firm_id: int):
    """Rename the firm from a date; a certified firm gets a change report to make."""
    firm = get_editable_firm(current_user, firm_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _refused(firm, rename_form=form)
    old = firm.name
    try:
        report = changes.rename_firm(firm, form.name.data, form.changed_on.data, clock.today())
    except changes.ChangeError as error:
        _show_error(form, error)
        return _refused(firm, rename_form=form)
    db.session.commit()
    flash(f"企业名称已由“{old}”变更为“{firm.name}”，原名称已作为曾用名保留。", "success")
    if report is not None:
        flash(
            f"该企业为高新技术企业，须在 {report.due_on.isoformat()} 前向认定机构报告名称变更。",
            "warning",
        )
    return redirect(tab_url(firm.id, TAB))


@login_required
def change(firm_id: int):
    """Record a merger or change of business the certified firm must report."""
    firm = get_editable_firm(current_user, firm_id)
    form = ChangeForm()
    if not form.validate_on_submit():
        return _refused(firm, change_form=form)
    try:
        report = changes.record_change(
            firm, form.kind.data, form.changed_on.data, form.description.data, clock.today()
        )
    except changes.ChangeError as error:
        _show_error(form, error)
        return _refused(firm, change_form=form)
    db.session.commit()
    flash(f"已登记{report.kind_label}，报告期限 {report.due_on.isoformat()}。", "success")
    return redirect(tab_url(firm.id, TAB))


@login_required
def reported(report_id: int):
    """Mark a change report as made, with its date and document number."""
    report = db.get_or_404(ChangeReport, report_id)
    firm = get_editable_firm(current_user, report.firm_id)
    form = ReportedForm(report.id)
    if form.validate_on_submit():
        try:
            changes.mark_reported(
                report, form.reported_on.data, form.document_number.data or "", clock.today()
            )
        except changes.ChangeError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(f"已记录{report.kind_label}的报告情况。", "success")
            return redirect(tab_url(firm.id, TAB))
    forms = firm_tab_context(firm)["reported_forms"]
    return _refused(firm, reported_forms={**forms, report.id: form})


@login_required
def record_certificate(firm_id: int):
    """Record a certificate an administrator enters from a document (the existing stock).

    A firm out of reach answers 404 as everywhere; only an administrator may record, else 403.
    """
    firm = get_editable_firm(current_user, firm_id)
    if not is_admin(current_user):
        abort(403)
    form = CertificateForm()
    if not form.validate_on_submit():
        return _refused(firm, certificate_form=form)
    certificate, warnings = certificates.record_certificate(
        firm.id, form.issued_on.data, form.number.data, "manual", document=form.document.data
    )
    db.session.commit()
    flash(
        f"已录入高新技术企业证书（{certificate.issued_on.isoformat()} 发证，"
        f"有效期至 {certificate.expires_on.isoformat()}）。",
        "success",
    )
    for warning in warnings:
        flash(warning, "warning")
    return redirect(tab_url(firm.id, TAB))
