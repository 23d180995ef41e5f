"""The export views: each list's export, answered by `delivery.deliver`."""

from flask import abort, request
from flask_login import current_user, login_required

from crm.core.exports import ListExport
from crm.reports import delivery, lists, lists_work


def _export(export: ListExport):
    if not export.allowed(current_user):
        abort(404)
    return delivery.deliver(export, current_user, request.args)


@login_required
def export_firms():
    """Export the firm list as the user sees it, with its filters and sort."""
    return _export(lists.FIRMS)


@login_required
def export_years():
    """Export the yearly figures of the firms of the list, one row per firm and year."""
    return _export(lists.YEARS)


@login_required
def export_readiness():
    """Export the readiness list as the user sees it, with its filters and sort."""
    return _export(lists_work.READINESS)


@login_required
def export_ledger():
    """Export the support ledger as the user sees it, with its filters; amounts in 万元."""
    return _export(lists_work.LEDGER)


@login_required
def export_cohort():
    """Export the re-certification cohort of a year as the user sees it, with its filters."""
    return _export(lists_work.COHORT)


@login_required
def export_board_column():
    """Export every firm of one column of a programme's board (its `programme` and `stage`
    arguments), with the board's filters."""
    if lists_work.board_column_of(request.args) is None:
        abort(404)
    return _export(lists_work.BOARD_COLUMN)
