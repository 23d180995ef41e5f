"""What an enterprise user may open, decided here and nowhere else.

An enterprise user works in the portal: its own firm's profile, figures, IP, qualifications,
certificates, self-check, assigned measures, its own requests and the reminders addressed to it,
through the pages listed in `ENTERPRISE_ENDPOINTS`. Every other page of the app, whatever its
own checks, answers them 404: the bureau's pages, its internal notes and change log, other
firms and the staff lists stay out of sight. Staff never open the firm's own portal pages
(404 too); the review queue is theirs.
"""

from flask import abort, current_app, request
from flask_login import current_user

from crm.core.permissions import is_enterprise

#: The pages an enterprise user may open: the portal's own, the account pages and the files.
ENTERPRISE_ENDPOINTS = frozenset(
    {
        "static",
        "index",
        "accounts.login",
        "accounts.logout",
        "accounts.password",
        "reminder_email.choices",
        "portal.home",
        "portal.profile",
        "portal.profile_edit",
        "portal.contact_new",
        "portal.contact_edit",
        "portal.years",
        "portal.year_new",
        "portal.year_edit",
        "portal.year_upload",
        "portal.year_template",
        "portal.ip",
        "portal.ip_new",
        "portal.ip_edit",
        "portal.requests",
        "portal.request_detail",
        "portal.request_withdraw",
        "portal.measure_done",
        "portal.attachment",
        "portal.accept",
        "portal.reminder_done",
    }
)


def is_enterprise_page(endpoint: str | None) -> bool:
    """Tell whether an enterprise user may open the page of `endpoint`."""
    return endpoint in ENTERPRISE_ENDPOINTS


def guard_enterprise_users() -> None:
    """Answer 404 to an enterprise user asking for any page not listed for them (before every
    request)."""
    # An unknown address has no endpoint: it answers 404 anyway.
    endpoint = request.endpoint
    if endpoint is None or not current_user.is_authenticated:
        return
    if is_enterprise(current_user) and not is_enterprise_page(endpoint):
        abort(404)


def enterprise_only() -> None:
    """Send an anonymous visitor to the login page, and answer 404 to anyone but an active
    enterprise user bound to a live firm."""
    user = current_user
    if not user.is_authenticated:
        abort(current_app.login_manager.unauthorized())
    if not (is_enterprise(user) and user.firm_id is not None):
        abort(404)
    if user.firm is None or user.firm.deleted_at is not None:
        abort(404)
