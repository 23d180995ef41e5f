"""Pages of the firms blueprint: the list, a firm's tabs, create, edit, delete and restore.

The htmx routes for the rows on the tabs (years, IP, contacts, qualifications) live in
`crm.firms.record_views`, attached to the same blueprint in `crm.firms.blueprint`.
"""

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from crm.core import clock
from crm.core.permissions import ADMIN, is_admin, roles_required
from crm.extensions import db
from crm.firms import history, queries, rules, services
from crm.firms.access import can_create_firm, can_edit_firm, get_editable_firm, get_visible_firm
from crm.firms.forms import FirmFilterForm, FirmForm
from crm.firms.record_forms import ContactForm, IPForm, QualificationForm, YearForm
from crm.firms.tabs import firm_tab, visible_tabs

HISTORY_PER_PAGE = 50


def firm_helpers() -> dict[str, Any]:
    """Give the firm templates the derived ratios and the vocabularies."""
    return {
        "ratio": rules.ratio,
        "ip_kinds": rules.IP_KINDS,
        "ip_statuses": rules.IP_STATUSES,
        "acquisition_modes": rules.ACQUISITION_MODES,
    }


def tab_context(firm, tab: str, **overrides) -> dict[str, Any]:
    """Return what the detail page and the tab panels need for `tab`."""
    shown = firm_tab(tab)
    context: dict[str, Any] = {
        "firm": firm,
        "tab": tab,
        "tabs": visible_tabs(current_user.is_staff),
        "tab_template": shown.template,
        "can_edit": can_edit_firm(current_user, firm),
        "editing": {},
        **shown.context(firm),
    }
    context.update(overrides)
    return context


def profile_context(firm) -> dict[str, Any]:
    """Return the 基本信息 tab's form for a new contact."""
    return {"contact_form": ContactForm(prefix="new", formdata=None)}


def years_context(firm) -> dict[str, Any]:
    """Return the 年度数据 tab's form for a new year."""
    return {"year_form": YearForm(firm, prefix="new", formdata=None)}


def ip_context(firm) -> dict[str, Any]:
    """Return the 知识产权 tab's form for a new item."""
    return {"ip_form": IPForm(firm, prefix="new", formdata=None)}


def qualifications_context(firm) -> dict[str, Any]:
    """Return the 资质 tab's form for a new qualification."""
    return {"qualification_form": QualificationForm(firm, prefix="new", formdata=None)}


def history_context(firm) -> dict[str, Any]:
    """Return the page of the 变更记录 tab, the bureau's log of every change (staff only)."""
    per_page = current_app.config.get("FIRM_HISTORY_PER_PAGE", HISTORY_PER_PAGE)
    page = queries.history_page(firm, request.args.get("page", 1, type=int), per_page)
    return {"history": page, "history_rows": history.history_rows(page.items)}


def render_detail(firm, tab: str, **overrides):
    """Render the detail page on `tab`, with forms or rows in edit mode given in `overrides`."""
    return render_template("firms/detail.html", **tab_context(firm, tab, **overrides))


@login_required
def list_firms():
    """List the firms the user may see, filtered, sorted and paged."""
    form = FirmFilterForm(request.args, queries.firm_choices_data())
    filters = form.filters(request.args.get("sort"))
    today = clock.today()
    page = queries.list_firms(
        current_user,
        filters,
        request.args.get("page", 1, type=int),
        current_app.config["FIRMS_PER_PAGE"],
        today,
    )
    return render_template(
        "firms/list.html",
        form=form,
        page=page,
        sort=filters.sort,
        tiers=queries.tiers_held((firm.id for firm in page.items), today),
        can_create=can_create_firm(current_user),
        show_deleted=filters.deleted and is_admin(current_user),
    )


@login_required
def detail(firm_id: int):
    """Show one tab of a firm."""
    firm = get_visible_firm(current_user, firm_id, include_deleted=True)
    tab = request.args.get("tab", "profile")
    return render_detail(firm, tab if tab in visible_tabs(current_user.is_staff) else "profile")


@login_required
def new():
    """Register a firm."""
    if not can_create_firm(current_user):
        abort(403)
    form = FirmForm(current_user)
    if form.validate_on_submit():
        firm = services.create_firm(form.values())
        db.session.commit()
        flash(f"已登记企业“{firm.name}”。", "success")
        return redirect(url_for("firms.detail", firm_id=firm.id))
    return render_template("firms/new.html", form=form)


@login_required
def edit(firm_id: int):
    """Change a firm's registration data."""
    firm = get_editable_firm(current_user, firm_id)
    form = FirmForm(current_user, firm)
    if form.validate_on_submit():
        services.update_firm(firm, form.values())
        db.session.commit()
        flash("企业信息已保存。", "success")
        return redirect(url_for("firms.detail", firm_id=firm.id))
    return render_template("firms/edit.html", form=form, firm=firm)


@roles_required(ADMIN)
def delete(firm_id: int):
    """Soft-delete a firm."""
    firm = get_visible_firm(current_user, firm_id)
    services.delete_firm(firm)
    db.session.commit()
    flash(f"已删除企业“{firm.name}”，可在“只看已删除”中恢复。", "success")
    return redirect(url_for("firms.list"))


@roles_required(ADMIN)
def restore(firm_id: int):
    """Bring back a soft-deleted firm."""
    firm = get_visible_firm(current_user, firm_id, include_deleted=True)
    services.restore_firm(firm)
    db.session.commit()
    flash(f"已恢复企业“{firm.name}”。", "success")
    return redirect(url_for("firms.detail", firm_id=firm.id))
