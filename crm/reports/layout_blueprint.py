"""The blueprint of the government layouts (上报报表), mounted at /reports/layouts.

Routes are attached here to the view functions of `layout_views`, which never import this one.
"""

from flask import Blueprint

from crm.core.web import FORM, GET, POST, add_routes
from crm.reports import layout_views

bp = Blueprint("layouts", __name__, url_prefix="/reports/layouts")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    ("/", "list", layout_views.index, GET),
    ("/<layout_key>", "detail", layout_views.detail, GET),
    ("/<layout_key>/download", "download", layout_views.download, GET),
    ("/<layout_key>/edit", "edit", layout_views.edit, FORM),
    ("/<layout_key>/reset", "reset", layout_views.reset, POST),
)
add_routes(bp, ROUTES)
