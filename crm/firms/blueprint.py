"""The firms blueprint: the firm list and a firm's pages (`views`) and the rows on its tabs
(`record_views`).

Routes are attached here, to the view functions of those modules, which never import this one.
It also registers what the package adds to the firm page: its tabs and how the history names
its records.
"""

from flask import Blueprint

from crm.accounts.models import User
from crm.core.web import FORM, GET, POST, add_routes
from crm.firms import record_views, rules, timeline, views
from crm.firms.history import Entity, coded, describe, name_references
from crm.firms.models import Firm, FirmContact, FirmFormerName, FirmYear, IPItem, Qualification
from crm.firms.tabs import FirmTab, register_tab
from crm.reference.models import District, Industry, Park, TechField

bp = Blueprint("firms", __name__, url_prefix="/firms")
bp.context_processor(views.firm_helpers)

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/", "list", views.list_firms, GET),
    ("/<int:firm_id>", "detail", views.detail, GET),
    ("/new", "new", views.new, FORM),
    ("/<int:firm_id>/edit", "edit", views.edit, FORM),
    ("/<int:firm_id>/delete", "delete", views.delete, POST),
    ("/<int:firm_id>/restore", "restore", views.restore, POST),
    # record_views
    ("/<int:firm_id>/years", "year_create", record_views.year_create, POST),
    ("/<int:firm_id>/years/<int:row_id>", "year_row", record_views.year_row, GET),
    ("/<int:firm_id>/years/<int:row_id>/edit", "year_edit", record_views.year_edit, FORM),
    ("/<int:firm_id>/years/<int:row_id>/delete", "year_delete", record_views.year_delete, POST),
    ("/<int:firm_id>/ip", "ip_create", record_views.ip_create, POST),
    ("/<int:firm_id>/ip/<int:row_id>", "ip_row", record_views.ip_row, GET),
    ("/<int:firm_id>/ip/<int:row_id>/edit", "ip_edit", record_views.ip_edit, FORM),
    ("/<int:firm_id>/ip/<int:row_id>/delete", "ip_delete", record_views.ip_delete, POST),
    ("/<int:firm_id>/contacts", "contact_create", record_views.contact_create, POST),
    (
        "/<int:firm_id>/contacts/<int:row_id>/delete",
        "contact_delete",
        record_views.contact_delete,
        POST,
    ),
    (
        "/<int:firm_id>/qualifications",
        "qualification_create",
        record_views.qualification_create,
        POST,
    ),
    (
        "/<int:firm_id>/qualifications/<int:row_id>/delete",
        "qualification_delete",
        record_views.qualification_delete,
        POST,
    ),
)
add_routes(bp, ROUTES)

register_tab("profile", FirmTab("基本信息", "firms/_profile.html", views.profile_context, 10))
register_tab("years", FirmTab("年度数据", "firms/_years_panel.html", views.years_context, 20))
register_tab("ip", FirmTab("知识产权", "firms/_ip_panel.html", views.ip_context, 30))
register_tab(
    "qualifications",
    FirmTab("资质", "firms/_qualifications_panel.html", views.qualifications_context, 40),
)
register_tab(
    "timeline",
    FirmTab("时间线", "firms/_timeline.html", timeline.firm_tab_context, 110, staff_only=True),
)
register_tab(
    "history",
    FirmTab("变更记录", "firms/_history.html", views.history_context, 120, staff_only=True),
)

IP_KIND_LABELS = {code: label for code, (label, _) in rules.IP_KINDS.items()}
TIER_LABELS = {code: label for code, (label, _) in rules.TIERS.items()}
describe(Entity("企业信息", Firm))
describe(Entity("曾用名", FirmFormerName))
describe(
    Entity(
        "联系人",
        FirmContact,
        summary=lambda v: (
            f"{v.get('name', '')}（{v['role']}）" if v.get("role") else v.get("name", "")
        ),
    )
)
describe(Entity("年度数据", FirmYear, summary=lambda v: f"{v.get('year', '')} 年度"))
describe(
    Entity(
        "知识产权",
        IPItem,
        codes={
            "kind": IP_KIND_LABELS,
            "status": rules.IP_STATUSES,
            "acquisition": rules.ACQUISITION_MODES,
        },
        summary=lambda v: f"{coded(IP_KIND_LABELS, v, 'kind')}：{v.get('title', '')}",
    )
)
describe(
    Entity(
        "资质",
        Qualification,
        codes={"tier": TIER_LABELS},
        summary=lambda v: f"{coded(TIER_LABELS, v, 'tier')}（{v.get('year', '')} 年度）",
    )
)
for column, model in (
    ("district_id", District),
    ("park_id", Park),
    ("industry_id", Industry),
    ("tech_field_id", TechField),
    ("manager_id", User),
    ("incubator_id", Firm),
    ("related_firm_id", Firm),
):
    name_references(column, model)
