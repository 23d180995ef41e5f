"""The funnel report download: the dashboard's figures of a year as an Excel workbook.

The same query arguments as the dashboard page narrow it. Administrators and bureau heads get the
whole city, account managers the firms they look after; enterprise users have no such page (404).
The workbook is small (a row per group or stage) and is built in the request.
"""

from io import BytesIO

from flask import Blueprint, abort, current_app, request, send_file
from flask_login import current_user, login_required

from crm.core import clock
from crm.core.permissions import STAFF_ROLES, sees_all_firms
from crm.dashboard.filters import DashboardFilters
from crm.dashboard.workbook import ReportContext, build_report, filename
from crm.reference.cities import CITIES

bp = Blueprint("funnel_report", __name__, url_prefix="/dashboard/report")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/")
@login_required
def download():
    """Send the funnel report of the year and groups in the query arguments."""
    if current_user.role not in STAFF_ROLES:
        abort(404)
    today = clock.today()
    filters = DashboardFilters.from_args(request.args, today)
    city = CITIES[current_app.config["CITY"]]["name"]
    context = ReportContext(
        filters=filters,
        scope=filters.scope(current_user),
        city=city,
        today=today,
        partial=not sees_all_firms(current_user),
    )
    return send_file(
        BytesIO(build_report(context)),
        as_attachment=True,
        download_name=filename(city, filters.year),
        mimetype=XLSX,
    )
