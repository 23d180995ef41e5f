"""The certification blueprint: batches, results and the re-certification cohort (`views`), and
the actions of a firm's 高企认定 tab (`firm_views`).

Routes are attached here, to the view functions of those modules, which never import this one.
It also registers what the package adds to the firm page: its tabs and how the history names
its records.
"""

from flask import Blueprint

from crm.certification import duty_views, firm_views, timeline, views
from crm.certification.models import (
    APPLICATION_STATUSES,
    CHANGE_KINDS,
    CertificationApplication,
    CertificationBatch,
    ChangeReport,
    Duty,
)
from crm.certification.rules import DUTY_KINDS
from crm.core.web import FORM, GET, POST, add_routes
from crm.firms.history import Entity, coded, describe, name_references
from crm.firms.tabs import FirmTab, register_tab
from crm.firms.timeline import register_source

bp = Blueprint("certification", __name__, url_prefix="/certification")
bp.app_context_processor(views.certification_helpers)

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/", "list", views.batches, GET),
    ("/batches/new", "new", views.new, FORM),
    ("/batches/<int:batch_id>/edit", "edit", views.edit, FORM),
    ("/batches/<int:batch_id>", "detail", views.detail, GET),
    ("/batches/<int:batch_id>/results", "results", views.results, POST),
    ("/cohort", "cohort", views.cohort, GET),
    # duty_views
    ("/duties", "duties", duty_views.duty_list, GET),
    ("/duties/filed", "mark_duties", duty_views.mark_duties, POST),
    ("/duties/deadline", "duty_deadline", duty_views.set_deadline, POST),
    ("/duties/at-risk", "duties_at_risk", duty_views.at_risk, GET),
    ("/duties/<int:duty_id>/filed", "duty_filed", duty_views.duty_filed, POST),
    ("/duties/<int:duty_id>/unfiled", "duty_unfiled", duty_views.duty_unfiled, POST),
    # firm_views
    ("/firms/<int:firm_id>/rename", "rename", firm_views.rename, POST),
    (
        "/firms/<int:firm_id>/certificates",
        "record_certificate",
        firm_views.record_certificate,
        POST,
    ),
    ("/firms/<int:firm_id>/changes", "change", firm_views.change, POST),
    ("/reports/<int:report_id>/reported", "reported", firm_views.reported, POST),
)
add_routes(bp, ROUTES)

register_tab(
    firm_views.TAB,
    FirmTab(
        "高企认定", "certification/_firm_tab.html", views.firm_tab_context, 70, staff_only=True
    ),
)

describe(
    Entity(
        "高企认定申报",
        CertificationApplication,
        codes={"status": APPLICATION_STATUSES},
        summary=lambda v: f"{v.get('submitted_on', '')} 申报",
    )
)
describe(
    Entity(
        "年报",
        Duty,
        codes={"kind": DUTY_KINDS},
        summary=lambda v: f"{v.get('year', '')} 年度{coded(DUTY_KINDS, v, 'kind')}",
    )
)
describe(
    Entity(
        "变更报告",
        ChangeReport,
        codes={"kind": CHANGE_KINDS},
        summary=lambda v: f"{v.get('changed_on', '')} {coded(CHANGE_KINDS, v, 'kind')}",
    )
)
name_references("batch_id", CertificationBatch)
register_source(timeline.applications, own_created=("certification_applications",))
