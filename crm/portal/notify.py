"""Telling a firm the bureau's decision on its request: by e-mail to its users who have an
address (when e-mail is on), and on its home page until one of them opens the request."""

from flask import render_template

from crm.accounts.invitations import firm_users
from crm.mail.links import link_builder
from crm.mail.outbox import queue_message
from crm.portal import changes
from crm.portal.models import ChangeRequest


def firm_addresses(firm_id: int) -> list[str]:
    """Return the e-mail addresses of the firm's active users."""
    return sorted({u.email for u in firm_users(firm_id) if u.is_active and u.email})


def queue_decision(request: ChangeRequest) -> int:
    """Queue the e-mail telling the firm's users the decision on `request`; return how many
    were queued. The link to the request needs `BASE_URL`, as in every e-mail."""
    build = link_builder()
    url = build("portal.request_detail", {"request_id": request.id}) if build else None
    context = {"request": request, "lines": changes.lines(request), "url": url}
    text = render_template("emails/portal_decision.txt", **context)
    html = render_template("emails/portal_decision.html", **context)
    subject = f"您的变更申请已审核：{request.title}（{request.status_label}）"
    queued = 0
    for address in firm_addresses(request.firm_id):
        try:
            message = queue_message(
                address, subject, text, html, kind=f"portal:{request.id}", again=True
            )
        except ValueError:
            continue
        queued += message is not None
    return queued
