"""The reports blueprint: the list exports (`views`), served at one address for every list."""

from flask import Blueprint

from crm.core.exports import serve_exports_at
from crm.core.web import GET, add_routes
from crm.reports import lists, lists_tasks, lists_work, views  # noqa: F401  (lists register)

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (("/export/<name>", "export_list", views.export_list, GET),)
add_routes(bp, ROUTES)

serve_exports_at("reports.export_list")
