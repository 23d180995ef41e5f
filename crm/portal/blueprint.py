"""The portal blueprint: a firm's own pages, its requests, invitations' landing, the review queue.

Routes are attached here, to the view functions of the modules, which never import this one.
Every request first passes `access.guard_enterprise_users`: an enterprise user reaches only the
pages `access.ENTERPRISE_ENDPOINTS` lists, here or anywhere in the app.
"""

from flask import Blueprint

from crm.core.web import FORM, GET, POST, add_routes
from crm.firms.tabs import FirmTab, register_tab
from crm.portal import (
    access,
    attachment_views,
    home_views,
    invitation_views,
    record_views,
    request_views,
    review_views,
)
from crm.reminders.pages import register_enterprise_page

bp = Blueprint("portal", __name__, url_prefix="/portal")
bp.before_app_request(access.guard_enterprise_users)
bp.app_context_processor(review_views.review_helpers)
register_enterprise_page(home_views.reminder_page)

#: The URL map: (rule, endpoint, view, methods).
ROUTES: tuple = (
    # home_views
    ("/", "home", home_views.home, GET),
    ("/measures/<int:measure_id>/done", "measure_done", home_views.measure_done, POST),
    ("/reminders/<int:reminder_id>/done", "reminder_done", home_views.reminder_done, POST),
    # record_views
    ("/profile", "profile", record_views.profile, GET),
    ("/profile/edit", "profile_edit", record_views.profile_edit, FORM),
    ("/contacts/new", "contact_new", record_views.contact_new, FORM),
    ("/contacts/<int:row_id>/edit", "contact_edit", record_views.contact_edit, FORM),
    ("/years", "years", record_views.years, GET),
    ("/years/new", "year_new", record_views.year_new, FORM),
    ("/years/<int:row_id>/edit", "year_edit", record_views.year_edit, FORM),
    ("/years/upload", "year_upload", record_views.year_upload, FORM),
    ("/years/template", "year_template", record_views.year_template, GET),
    ("/ip", "ip", record_views.ip, GET),
    ("/ip/new", "ip_new", record_views.ip_new, FORM),
    ("/ip/<int:row_id>/edit", "ip_edit", record_views.ip_edit, FORM),
    # request_views
    ("/requests", "requests", request_views.requests, GET),
    ("/requests/<int:request_id>", "request_detail", request_views.request_detail, GET),
    (
        "/requests/<int:request_id>/withdraw",
        "request_withdraw",
        request_views.request_withdraw,
        POST,
    ),
    # review_views (staff)
    ("/review", "review", review_views.review, GET),
    ("/review/<int:request_id>", "review_detail", review_views.review_detail, FORM),
    # invitation_views
    ("/invitations/<token>", "accept", invitation_views.accept, FORM),
    ("/firms/<int:firm_id>/invitations", "invite", invitation_views.invite, POST),
    (
        "/firms/<int:firm_id>/invitations/<int:invitation_id>/resend",
        "invitation_resend",
        invitation_views.resend,
        POST,
    ),
    (
        "/firms/<int:firm_id>/invitations/<int:invitation_id>/revoke",
        "invitation_revoke",
        invitation_views.revoke,
        POST,
    ),
    (
        "/firms/<int:firm_id>/users/<int:user_id>/disable",
        "user_disable",
        invitation_views.user_disable,
        POST,
    ),
    (
        "/firms/<int:firm_id>/users/<int:user_id>/enable",
        "user_enable",
        invitation_views.user_enable,
        POST,
    ),
    # attachment_views
    ("/attachments/<int:attachment_id>", "attachment", attachment_views.attachment, GET),
)
add_routes(bp, ROUTES)

register_tab(
    invitation_views.TAB,
    FirmTab(
        "企业账号",
        "portal/_accounts_tab.html",
        invitation_views.accounts_tab_context,
        85,
        staff_only=True,
    ),
)
