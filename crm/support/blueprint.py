"""The support blueprint: a firm's 扶持台账 tab (`views`), the ledger of every firm
(`ledger_views`) and the subsidy rules (`rule_views`).

Routes are attached here, to the view functions of those modules, which never import this one.
It also registers what the package adds to the firm page: its tabs and how the history names
its records.
"""

from flask import Blueprint

from crm.core.web import FORM, GET, POST, add_routes
from crm.firms.history import Entity, coded, describe
from crm.firms.tabs import FirmTab, register_tab
from crm.firms.timeline import register_source
from crm.support import ledger_views, rule_views, rules, timeline, views
from crm.support.models import ENTRY_STATUSES, SUPPORT_KINDS, SupportEntry

bp = Blueprint("support", __name__, url_prefix="/support")
bp.add_app_template_filter(rules.format_yuan, "yuan")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/firms/<int:firm_id>/entries", "entry_create", views.entry_create, POST),
    ("/firms/<int:firm_id>/entries/<int:entry_id>", "entry_row", views.entry_row, GET),
    ("/firms/<int:firm_id>/entries/<int:entry_id>/edit", "entry_edit", views.entry_edit, FORM),
    ("/firms/<int:firm_id>/entries/<int:entry_id>/apply", "entry_apply", views.entry_apply, POST),
    ("/firms/<int:firm_id>/entries/<int:entry_id>/pay", "entry_pay", views.entry_pay, FORM),
    (
        "/firms/<int:firm_id>/entries/<int:entry_id>/delete",
        "entry_delete",
        views.entry_delete,
        POST,
    ),
    # ledger_views
    ("/", "list", ledger_views.ledger, GET),
    # rule_views
    ("/rules", "rules", rule_views.rules, GET),
    ("/rules/new", "rule_new", rule_views.rule_new, FORM),
    ("/rules/<int:rule_id>/revise", "rule_revise", rule_views.rule_revise, FORM),
    ("/rules/<int:rule_id>/toggle", "rule_toggle", rule_views.rule_toggle, POST),
)
add_routes(bp, ROUTES)

register_tab(
    views.TAB,
    FirmTab("扶持台账", "support/_firm_tab.html", views.firm_tab_context, 100, staff_only=True),
)

describe(
    Entity(
        "扶持台账",
        SupportEntry,
        codes={"kind": SUPPORT_KINDS, "status": ENTRY_STATUSES},
        summary=lambda v: f"{coded(SUPPORT_KINDS, v, 'kind')}：{v.get('title') or ''}".rstrip("："),
    )
)
register_source(timeline.support, own_created=("support_entries",))
