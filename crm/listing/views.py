"""Pages of the listing blueprint: the case details of a listing-reserve enrollment.

The case is shown and edited on the listing card of the firm's 培育进程 tab; the evidence of
each stage reached is the document number and date on the stage transitions.
"""

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required

from crm.extensions import db
from crm.firms.access import get_editable_firm
from crm.firms.views import render_detail
from crm.listing import services
from crm.listing.forms import ListingCaseForm
from crm.pipeline import queries, rules
from crm.pipeline.signals import showing_card


@showing_card.connect_via(rules.LISTING)
def _show_case(programme: str, *, card, firm, may_edit: bool) -> None:
    """Show the case of a listing-reserve enrollment on its card, with its form for editors."""
    case = services.case_of(card.enrollment.id)
    card.panels.append("listing/_case.html")
    card.extra["listing_case"] = case
    if may_edit:
        card.extra["case_form"] = ListingCaseForm(card.enrollment.id, obj=case, formdata=None)


@login_required
def save_case(enrollment_id: int):
    """Save the target market, intermediaries and stock code of a listing enrollment."""
    enrollment = queries.get_enrollment(enrollment_id)
    if enrollment is None or enrollment.programme.code != rules.LISTING:
        abort(404)
    firm = get_editable_firm(current_user, enrollment.firm_id)
    form = ListingCaseForm(enrollment.id)
    if not form.validate_on_submit():
        return render_detail(firm, "pipeline", listing_case_form=form)
    services.save_case(enrollment, form.data)
    db.session.commit()
    flash("已保存上市案卷信息。", "success")
    return redirect(
        url_for(
            "firms.detail", firm_id=firm.id, tab="pipeline", _anchor=f"programme-{rules.LISTING}"
        )
    )
