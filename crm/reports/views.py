"""The export view: any registered list, answered by `delivery.deliver`."""

from flask import abort, request
from flask_login import current_user, login_required

from crm.core.exports import export_named
from crm.reports import delivery


@login_required
def export_list(name: str):
    """Export the list `name` as the user sees it, with the filters and sort of its page (the
    query arguments); 404 for a list that does not exist or that the user may not export."""
    export = export_named(name)
    if export is None or not export.allowed(current_user):
        abort(404)
    if not export.accepts(current_user, request.args):
        abort(404)
    return delivery.deliver(export, current_user, request.args)
