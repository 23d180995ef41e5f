"""The admin blueprint: user accounts (`views`), the versions of the eligibility settings
(`settings_views`) and of the reminder rules (`reminder_views`).

Routes are attached here, to the view functions of those modules, which never import this one.
"""

from flask import Blueprint

from crm.admin import reminder_views, settings_views, views
from crm.core.web import FORM, GET, POST, add_routes

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/users", "users", views.users, GET),
    ("/users/new", "user_new", views.user_new, FORM),
    ("/users/<int:user_id>/edit", "user_edit", views.user_edit, FORM),
    ("/users/<int:user_id>/toggle", "user_toggle", views.user_toggle, POST),
    # settings_views
    ("/eligibility-settings", "eligibility_settings", settings_views.eligibility_settings, GET),
    (
        "/eligibility-settings/new",
        "eligibility_settings_new",
        settings_views.eligibility_settings_new,
        FORM,
    ),
    # reminder_views
    ("/reminder-rules", "reminder_rules", reminder_views.reminder_rules, GET),
    (
        "/reminder-rules/<int:rule_id>/new",
        "reminder_rule_new",
        reminder_views.reminder_rule_new,
        FORM,
    ),
)
add_routes(bp, ROUTES)
