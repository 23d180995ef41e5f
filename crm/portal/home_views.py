"""The firm's home in the portal: what the bureau asks of it now, where it stands, its
self-check, the measures assigned to it, and the bureau's decisions on its requests."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from crm.coaching import services as coaching
from crm.core.audit import audit_source
from crm.eligibility.services import current_assessment
from crm.extensions import db
from crm.portal import attachments, queries
from crm.portal.forms import ButtonForm, MeasureDoneForm
from crm.portal.record_views import own_firm
from crm.reminders import inbox


def home():
    """Show the firm's home page."""

    firm = own_firm()
    measures = queries.assigned_measures(firm.id)
    assessment = current_assessment(firm.id)
    return render_template(
        "portal/home.html",
        firm=firm,
        reminders=queries.open_reminders(current_user),
        positions=queries.positions(firm.id),
        hte=assessment.hte if assessment else None,
        plain_status=queries.PLAIN_STATUS,
        measures=measures,
        measure_files=attachments.attachments_of("measure", [m.id for m in measures]),
        decisions=queries.unseen_decisions(firm.id),
        requests=queries.firm_requests(firm.id, queries.HOME_ROWS),
        form=MeasureDoneForm(),
    )


def measure_done(measure_id: int):
    """Report an assigned measure done, with a note and an optional supporting file."""
    firm = own_firm()
    measure = queries.assigned_measure(firm.id, measure_id) or abort(404)
    form = MeasureDoneForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash("；".join(errors), "danger")
        return redirect(url_for("portal.home"))
    if measure.status == "done":
        flash("该措施已标记为完成。", "info")
        return redirect(url_for("portal.home"))
    try:
        with audit_source("portal", current_user.id):
            coaching.update_measure(measure, {"status": "done", "result": form.note.data})
        attachments.attach(
            form.attachment.data,
            firm_id=firm.id,
            owner_kind="measure",
            owner_id=measure.id,
            user=current_user,
        )
    except attachments.AttachmentError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("portal.home"))
    db.session.commit()
    flash(f"已将措施“{measure.title}”标记为完成。", "success")
    return redirect(url_for("portal.home"))


def reminder_done(reminder_id: int):
    """Mark one of the firm's reminders done."""
    own_firm()
    reminder = inbox.reminder_for(current_user, reminder_id) or abort(404)
    if ButtonForm().validate_on_submit():
        inbox.mark([reminder], "done")
        db.session.commit()
        flash("已标记为完成。", "success")
    return redirect(url_for("portal.home"))


def reminder_page(reminder) -> tuple[str, dict]:
    """Return the portal page an enterprise user acts on a reminder at (registered with the
    reminders): the certificate's on the profile, the rest on the home page."""
    if reminder.kind == "cert_expiring":
        return "portal.profile", {}
    return "portal.home", {}
