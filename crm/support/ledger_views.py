"""The ledger page: every entry of the firms the user can see, filtered, totalled and paged."""

from flask import current_app, render_template, request
from flask_login import current_user

from crm.core import clock
from crm.core.permissions import STAFF_ROLES, roles_required
from crm.firms.queries import firm_choices_data
from crm.support import queries
from crm.support.forms import LedgerFilterForm

#: Entries per page of the ledger unless the app config says otherwise.
PER_PAGE = 50


@roles_required(*STAFF_ROLES)
def ledger():
    """List the support entries within the user's reach, with the totals of the filtered set."""
    form = LedgerFilterForm(request.args, firm_choices_data()["districts"], clock.today())
    filters = form.filters()
    page = queries.ledger_page(
        current_user,
        filters,
        request.args.get("page", 1, type=int),
        current_app.config.get("SUPPORT_PER_PAGE", PER_PAGE),
    )
    return render_template(
        "support/list.html",
        form=form,
        page=page,
        totals=queries.ledger_totals(current_user, filters),
    )
