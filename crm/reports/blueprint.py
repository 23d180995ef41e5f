"""The reports blueprint: the list exports (`views`), and the links list pages show to them."""

from flask import Blueprint

from crm.core.exports import register_export
from crm.core.web import GET, add_routes
from crm.reports import views

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    ("/export/firms", "export_firms", views.export_firms, GET),
    ("/export/years", "export_years", views.export_years, GET),
    ("/export/readiness", "export_readiness", views.export_readiness, GET),
    ("/export/support", "export_ledger", views.export_ledger, GET),
    ("/export/cohort", "export_cohort", views.export_cohort, GET),
    ("/export/board-column", "export_board_column", views.export_board_column, GET),
)
add_routes(bp, ROUTES)

register_export("firms", "reports.export_firms")
register_export("firm_years", "reports.export_years")
register_export("readiness", "reports.export_readiness")
register_export("support_ledger", "reports.export_ledger")
register_export("cohort", "reports.export_cohort")
register_export("board_column", "reports.export_board_column")
