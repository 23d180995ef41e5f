"""Pages of the support blueprint: the 扶持台账 tab of a firm and its rows edited in place.

The ledger is bureau staff's record: every route loads the firm through firms.access (out of
reach: 404; read-only roles changing data: 403) and turns enterprise users away with 403, even on
their own firm. htmx requests get fragments back (the row, with the totals refreshed out of band);
plain form posts are redirected to the tab. The ledger list and the subsidy rules pages live in
`ledger_views` and `rule_views`, attached to the same blueprint in `blueprint`.
"""

from typing import Any

from flask import flash, jsonify, redirect, render_template
from flask_login import current_user, login_required

from crm.core.web import is_htmx, tab_url
from crm.extensions import db
from crm.firms.access import can_edit_firm, get_staff_firm
from crm.firms.views import render_detail
from crm.support import queries, services
from crm.support.forms import EntryForm, PayForm

TAB = "support"


def firm_tab_context(firm) -> dict[str, Any]:
    """Return what the firm's 扶持台账 tab shows: entries, totals by status and the add form."""
    return {
        "support_entries": queries.entries_of(firm.id),
        "support_totals": queries.firm_totals(firm.id),
        "entry_form": EntryForm(prefix="new", formdata=None),
        "paying": {},
    }


def entry_context(firm, **overrides) -> dict[str, Any]:
    """Return what the tab's fragments need, as the firm page would give it."""
    context: dict[str, Any] = {
        "firm": firm,
        "can_edit": can_edit_firm(current_user, firm),
        "editing": {},
        **firm_tab_context(firm),
    }
    context.update(overrides)
    return context


def _row_answer(firm, entry):
    """Answer a change to one row: the row and the totals for htmx, else back to the tab."""
    if not is_htmx():
        flash("已保存。", "success")
        return redirect(tab_url(firm.id, TAB))
    return render_template("support/_entry_row.html", **entry_context(firm, row=entry, oob=True))


def _refused(firm, error: services.SupportError):
    """Answer a change the rules refuse, with the reason."""
    db.session.rollback()
    if is_htmx():
        return jsonify(error="无法保存", message=str(error)), 400
    flash(str(error), "danger")
    return redirect(tab_url(firm.id, TAB))


@login_required
def entry_create(firm_id: int):
    """Record a support measure from the form above the ledger."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    form = EntryForm(prefix="new")
    if form.validate_on_submit():
        try:
            services.add_entry(firm, form.values())
        except services.SupportError as error:
            return _refused(firm, error)
        db.session.commit()
        if not is_htmx():
            flash("已登记扶持。", "success")
            return redirect(tab_url(firm.id, TAB))
        form = EntryForm(prefix="new", formdata=None)
    if is_htmx():
        return render_template("support/_firm_tab.html", **entry_context(firm, entry_form=form))
    return render_detail(firm, TAB, entry_form=form)


@login_required
def entry_row(firm_id: int, entry_id: int):
    """Show an entry as a table row (the 取消 of an inline form)."""
    firm = get_staff_firm(current_user, firm_id)
    entry = queries.get_entry(firm, entry_id)
    if not is_htmx():
        return redirect(tab_url(firm.id, TAB))
    return render_template("support/_entry_row.html", **entry_context(firm, row=entry))


@login_required
def entry_edit(firm_id: int, entry_id: int):
    """Return an entry as an inline form, or save it."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    entry = queries.get_entry(firm, entry_id)
    form = EntryForm(entry=entry, prefix=f"row{entry.id}")
    if form.validate_on_submit():
        try:
            services.update_entry(entry, form.values())
        except services.SupportError as error:
            return _refused(firm, error)
        db.session.commit()
        return _row_answer(firm, entry)
    if is_htmx():
        context = entry_context(firm, row=entry, form=form)
        return render_template("support/_entry_row_form.html", **context)
    return render_detail(firm, TAB, editing={entry.id: form})


@login_required
def entry_apply(firm_id: int, entry_id: int):
    """Mark a claimable entry as applied for."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    entry = queries.get_entry(firm, entry_id)
    try:
        services.mark_applied(entry)
    except services.SupportError as error:
        return _refused(firm, error)
    db.session.commit()
    return _row_answer(firm, entry)


@login_required
def entry_pay(firm_id: int, entry_id: int):
    """Return the payment form of an entry, or record its payment."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    entry = queries.get_entry(firm, entry_id)
    form = PayForm(obj=entry, prefix=f"pay{entry.id}")
    if form.validate_on_submit():
        try:
            services.mark_paid(entry, form.document_number.data, form.paid_on.data)
        except services.SupportError as error:
            return _refused(firm, error)
        db.session.commit()
        return _row_answer(firm, entry)
    if is_htmx():
        context = entry_context(firm, row=entry, form=form)
        return render_template("support/_pay_row_form.html", **context)
    return render_detail(firm, TAB, paying={entry.id: form})


@login_required
def entry_delete(firm_id: int, entry_id: int):
    """Delete an entry made by hand; htmx removes its row and refreshes the totals."""
    firm = get_staff_firm(current_user, firm_id, write=True)
    entry = queries.get_entry(firm, entry_id)
    try:
        services.delete_entry(entry)
    except services.SupportError as error:
        return _refused(firm, error)
    db.session.commit()
    if is_htmx():
        return render_template("support/_totals.html", **entry_context(firm, oob=True))
    flash("已删除扶持记录。", "success")
    return redirect(tab_url(firm.id, TAB))
