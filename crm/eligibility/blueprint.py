"""The eligibility blueprint: the readiness list and a firm's 预评估 tab (`views`).

Routes are attached here, to the view functions of those modules, which never import this one.
It also registers what the package adds to the firm page: its tabs and how the history names
its records.
"""

from flask import Blueprint

from crm.core.web import FORM, GET, POST, add_routes
from crm.eligibility import views
from crm.eligibility.models import ExpertAssessment
from crm.firms.history import Entity, describe
from crm.firms.tabs import FirmTab, register_tab

bp = Blueprint("eligibility", __name__, url_prefix="/eligibility")
bp.app_context_processor(views.eligibility_helpers)

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    ("/", "list", views.readiness, GET),
    ("/firms/<int:firm_id>/refresh", "refresh", views.refresh, POST),
    ("/firms/<int:firm_id>/expert", "expert", views.expert, FORM),
)
add_routes(bp, ROUTES)

register_tab(
    views.TAB,
    FirmTab("预评估", "eligibility/_firm_tab.html", views.firm_tab_context, 50, staff_only=True),
)

describe(Entity("专员评估", ExpertAssessment))
