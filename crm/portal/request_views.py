"""The firm's own change requests: the list, one request with its fields and decision, and
taking one back."""

from flask import abort, flash, redirect, render_template, url_for

from crm.extensions import db
from crm.portal import attachments, changes, queries, services
from crm.portal.forms import ButtonForm
from crm.portal.record_views import own_firm


def requests():
    """List the firm's requests, the newest first."""
    firm = own_firm()
    return render_template("portal/requests.html", firm=firm, rows=queries.firm_requests(firm.id))


def request_detail(request_id: int):
    """Show one of the firm's requests; opening a decided one marks its decision seen."""
    firm = own_firm()
    request = queries.get_request(request_id, firm.id) or abort(404)
    services.mark_seen(request)
    db.session.commit()
    return render_template(
        "portal/request_detail.html",
        firm=firm,
        request=request,
        lines=changes.lines(request),
        files=attachments.attachments_of("request", [request.id]).get(request.id, []),
        form=ButtonForm(),
    )


def request_withdraw(request_id: int):
    """Take back a request the bureau has not decided."""
    firm = own_firm()
    request = queries.get_request(request_id, firm.id) or abort(404)
    if ButtonForm().validate_on_submit():
        try:
            services.withdraw(request)
        except services.PortalError as error:
            flash(str(error), "warning")
        else:
            db.session.commit()
            flash("申请已撤回。", "info")
    return redirect(url_for("portal.request_detail", request_id=request.id))
