"""Routes for the rows on a firm's tabs: yearly figures, IP items, contacts, qualifications.

Each route loads the firm through firms.access (visible to read, editable to write) and the
row through the firm, so a row of one firm never answers through another firm's address. htmx
requests get fragments back; plain form posts are redirected to the tab.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import flash, redirect, render_template
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from crm.core.web import is_htmx, tab_url
from crm.extensions import db
from crm.firms import queries, services
from crm.firms.access import get_editable_firm, get_visible_firm
from crm.firms.models import FirmContact, FirmYear, IPItem, Qualification
from crm.firms.record_forms import ContactForm, IPForm, QualificationForm, YearForm
from crm.firms.views import render_detail, tab_context


@dataclass(frozen=True)
class RecordKind:
    """How the routes of one kind of row load, validate, change and show it."""

    model: type
    tab: str
    form_key: str
    make_form: Callable
    add: Callable
    delete: Callable
    update: Callable | None = None
    row_template: str = ""
    form_template: str = ""
    #: The partial holding the add form and the table, returned to htmx after an add.
    panel_template: str = ""
    added: str = "已添加。"
    deleted: str = "已删除。"


YEARS = RecordKind(
    model=FirmYear,
    tab="years",
    form_key="year_form",
    make_form=lambda firm, row=None, **kw: YearForm(firm, row, **kw),
    add=services.add_year,
    update=services.update_year,
    delete=services.delete_year,
    row_template="firms/_year_row.html",
    form_template="firms/_year_row_form.html",
    panel_template="firms/_years_panel.html",
    added="已添加年度数据。",
    deleted="已删除年度数据。",
)
IP = RecordKind(
    model=IPItem,
    tab="ip",
    form_key="ip_form",
    make_form=lambda firm, row=None, **kw: IPForm(firm, row, **kw),
    add=services.add_ip,
    update=services.update_ip,
    delete=services.delete_ip,
    row_template="firms/_ip_row.html",
    form_template="firms/_ip_row_form.html",
    panel_template="firms/_ip_panel.html",
    added="已添加知识产权。",
    deleted="已删除知识产权。",
)
CONTACTS = RecordKind(
    model=FirmContact,
    tab="profile",
    form_key="contact_form",
    make_form=lambda firm, row=None, **kw: ContactForm(**kw),
    add=services.add_contact,
    delete=services.delete_contact,
    panel_template="firms/_contacts_panel.html",
    added="已添加联系人。",
    deleted="已删除联系人。",
)
QUALIFICATIONS = RecordKind(
    model=Qualification,
    tab="qualifications",
    form_key="qualification_form",
    make_form=lambda firm, row=None, **kw: QualificationForm(firm, **kw),
    add=services.add_qualification,
    delete=services.delete_qualification,
    panel_template="firms/_qualifications_panel.html",
    added="已添加资质。",
    deleted="已删除资质。",
)


def create_record(kind: RecordKind, firm_id: int):
    """Add a row from the form at the top of a tab."""
    firm = get_editable_firm(current_user, firm_id)
    form = kind.make_form(firm, prefix="new")
    if form.validate_on_submit() and _added(kind, firm, form):
        db.session.commit()
        if not is_htmx():
            flash(kind.added, "success")
            return redirect(tab_url(firm.id, kind.tab))
        form = kind.make_form(firm, prefix="new", formdata=None)
    if is_htmx():
        return render_template(
            kind.panel_template, **tab_context(firm, kind.tab, **{kind.form_key: form})
        )
    return render_detail(firm, kind.tab, **{kind.form_key: form})


def _added(kind: RecordKind, firm, form) -> bool:
    """Add the form's row; tell whether it was added, or the form now says why not."""
    try:
        with db.session.begin_nested():
            kind.add(firm, form.values())
    except IntegrityError:
        # Someone added the same row (a firm's year) since the form was checked: checked again,
        # the form says so, as it would have a moment later.
        if form.validate():
            raise
        return False
    return True


def show_record(kind: RecordKind, firm_id: int, row_id: int):
    """Return a row in display mode (the 取消 of an inline edit)."""
    firm = get_visible_firm(current_user, firm_id)
    row = queries.get_child(kind.model, firm, row_id)
    if not is_htmx():
        return redirect(tab_url(firm.id, kind.tab))
    return render_template(kind.row_template, **tab_context(firm, kind.tab, row=row))


def edit_record(kind: RecordKind, firm_id: int, row_id: int):
    """Return a row as an inline form, or save it."""
    firm = get_editable_firm(current_user, firm_id)
    row = queries.get_child(kind.model, firm, row_id)
    form = kind.make_form(firm, row, prefix=f"row{row.id}")
    if form.validate_on_submit():
        kind.update(row, form.values())
        db.session.commit()
        if not is_htmx():
            flash("已保存。", "success")
            return redirect(tab_url(firm.id, kind.tab))
        return render_template(kind.row_template, **tab_context(firm, kind.tab, row=row))
    if is_htmx():
        return render_template(
            kind.form_template, **tab_context(firm, kind.tab, row=row, form=form)
        )
    return render_detail(firm, kind.tab, editing={row.id: form})


def delete_record(kind: RecordKind, firm_id: int, row_id: int):
    """Remove a row; htmx removes it from the table."""
    firm = get_editable_firm(current_user, firm_id)
    row = queries.get_child(kind.model, firm, row_id)
    kind.delete(row)
    db.session.commit()
    if is_htmx():
        return ""
    flash(kind.deleted, "success")
    return redirect(tab_url(firm.id, kind.tab))


@login_required
def year_create(firm_id: int):
    """Add a year of figures."""
    return create_record(YEARS, firm_id)


@login_required
def year_row(firm_id: int, row_id: int):
    """Show a year of figures as a table row."""
    return show_record(YEARS, firm_id, row_id)


@login_required
def year_edit(firm_id: int, row_id: int):
    """Edit a year of figures in place."""
    return edit_record(YEARS, firm_id, row_id)


@login_required
def year_delete(firm_id: int, row_id: int):
    """Delete a year of figures."""
    return delete_record(YEARS, firm_id, row_id)


@login_required
def ip_create(firm_id: int):
    """Add an IP item."""
    return create_record(IP, firm_id)


@login_required
def ip_row(firm_id: int, row_id: int):
    """Show an IP item as a table row."""
    return show_record(IP, firm_id, row_id)


@login_required
def ip_edit(firm_id: int, row_id: int):
    """Edit an IP item in place."""
    return edit_record(IP, firm_id, row_id)


@login_required
def ip_delete(firm_id: int, row_id: int):
    """Delete an IP item."""
    return delete_record(IP, firm_id, row_id)


@login_required
def contact_create(firm_id: int):
    """Add a contact person."""
    return create_record(CONTACTS, firm_id)


@login_required
def contact_delete(firm_id: int, row_id: int):
    """Delete a contact person."""
    return delete_record(CONTACTS, firm_id, row_id)


@login_required
def qualification_create(firm_id: int):
    """Add a qualification."""
    return create_record(QUALIFICATIONS, firm_id)


@login_required
def qualification_delete(firm_id: int, row_id: int):
    """Delete a qualification."""
    return delete_record(QUALIFICATIONS, firm_id, row_id)
