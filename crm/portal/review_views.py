"""The bureau's review queue: the requests of the firms a user reaches, each as a diff, and the
decision (approve, approve some fields, reject with a reason)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.core.permissions import STAFF_ROLES, is_editor, roles_required
from crm.core.web import paginate
from crm.extensions import db
from crm.firms.access import can_edit_firm, get_visible_firm
from crm.portal import attachments, changes, notify, queries, services
from crm.portal.forms import DecisionForm
from crm.portal.models import OPEN

#: The queue's two lists.
VIEWS = {OPEN: "待审核", "decided": "已审核"}


@roles_required(*STAFF_ROLES)
def review():
    """List the requests waiting for review (or decided) among the firms the user reaches."""
    view = request.args.get("view", OPEN)
    view = view if view in VIEWS else OPEN
    page = paginate(
        queries.review_select(current_user, view),
        request.args.get("page", 1, type=int),
        queries.REVIEW_PAGE_SIZE,
    )
    return render_template("portal/review.html", page=page, view=view, views=VIEWS)


@roles_required(*STAFF_ROLES)
def review_detail(request_id: int):
    """Show a request as a diff with its conflicts, and take the decision on it."""

    change = queries.get_request(request_id) or abort(404)
    firm = get_visible_firm(current_user, change.firm_id)
    may_decide = change.is_open and can_edit_firm(current_user, firm)
    form = DecisionForm()
    if form.is_submitted() and not change.is_open:
        flash("该申请已审核或已撤回，未作更改。", "warning")
        return redirect(url_for("portal.review_detail", request_id=change.id))
    if form.is_submitted() and not may_decide:
        abort(403)
    if form.validate_on_submit():
        approved = [] if "reject" in request.form else request.form.getlist("approve")
        try:
            services.decide(
                change, reviewer=current_user, approved=approved, reason=form.reason.data
            )
        except services.PortalError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            queued = notify.queue_decision(change)
            db.session.commit()
            told = f"，已发邮件通知企业（{queued} 人）" if queued else ""
            flash(f"申请“{change.title}”已审核：{change.status_label}{told}。", "success")
            return redirect(url_for("portal.review"))
    return render_template(
        "portal/review_detail.html",
        change=change,
        firm=firm,
        form=form,
        may_decide=may_decide,
        lines=_lines(change),
        files=attachments.attachments_of("request", [change.id]).get(change.id, []),
    )


def _lines(change) -> list[changes.Line]:
    """Return the request's fields in words; an open one's with the record now and conflicts."""
    if not change.is_open:
        return changes.lines(change)
    now, conflicts = services.review(change)
    return changes.lines(change, now, conflicts)


def review_helpers() -> dict:
    """Offer the number of requests waiting for the user's review to every page, computed only
    when a page shows it."""

    def count() -> int:
        if not (current_user.is_authenticated and is_editor(current_user)):
            return 0
        return queries.open_count(current_user)

    return {"portal_review_count": count}
