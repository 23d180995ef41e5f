"""The dashboard page (数据看板): the funnel, targets and indicators for bureau heads.

Administrators and bureau heads see the whole city, managers their own reach; an enterprise
user gets 404, as on every staff page whose existence is none of their business. The filters
are a GET form: a normal request draws the whole page, and htmx (changing a filter) gets only
the figures back, with the address pushed so that it keeps the filters.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort, make_response, render_template, request
from flask_login import current_user, login_required

from crm.core import clock
from crm.core.web import is_htmx
from crm.dashboard import figures, queries
from crm.dashboard.filters import DashboardFilters
from crm.dashboard.forms import DashboardFilterForm


def staff_only(view: Callable) -> Callable:
    """Restrict a view to logged-in bureau staff; anyone else gets 404."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


@staff_only
def index():
    """Show the dashboard for the filters in the query string (only the figures to htmx)."""
    today = clock.today()
    filters = DashboardFilters.from_args(request.args, today)
    board = figures.build(current_user, filters, today)
    # htmx asks for the whole page again when it restores a page missing from its history.
    partial = is_htmx() and request.headers.get("HX-History-Restore-Request") != "true"
    template = "dashboard/_figures.html" if partial else "dashboard/index.html"
    form = None
    if not partial:
        form = DashboardFilterForm(filters, queries.filter_choices(current_user), today)
    as_of = figures.indicator_day(filters.year, today)
    response = make_response(
        render_template(template, board=board, filters=filters, form=form, as_of=as_of)
    )
    # The same address answers a page or a fragment: caches must keep them apart.
    response.vary.add("HX-Request")
    return response
