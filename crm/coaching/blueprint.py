"""The coaching blueprint: plans (`views`), their measures and milestones (`row_views`) and the
visits log (`activity_views`).

Routes are attached here, to the view functions of those modules, which never import this one.
It also registers what the package adds to the firm page: its tabs and how the history names
its records.
"""

from flask import Blueprint

from crm.coaching import activity_views, row_views, timeline, views
from crm.coaching.models import (
    ACTIVITY_KINDS,
    MEASURE_STATUSES,
    PLAN_STATUSES,
    Activity,
    CoachingMeasure,
    CoachingMilestone,
    CoachingPlan,
)
from crm.core.web import FORM, GET, POST, add_routes
from crm.firms.history import Entity, coded, describe
from crm.firms.tabs import FirmTab, register_tab
from crm.firms.timeline import register_source

bp = Blueprint("coaching", __name__, url_prefix="/coaching")
bp.context_processor(views.coaching_helpers)

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/firms/<int:firm_id>/plans", "new", views.new_plan, POST),
    ("/plans/<int:plan_id>", "detail", views.detail, GET),
    ("/plans/<int:plan_id>/edit", "edit", views.edit, FORM),
    ("/plans/<int:plan_id>/activate", "activate", views.activate, POST),
    ("/plans/<int:plan_id>/close", "close", views.close, POST),
    ("/plans/<int:plan_id>/print", "print", views.print_plan, GET),
    # row_views
    ("/plans/<int:plan_id>/measures", "measure_create", row_views.measure_create, POST),
    ("/plans/<int:plan_id>/measures/<int:row_id>", "measure_row", row_views.measure_row, GET),
    (
        "/plans/<int:plan_id>/measures/<int:row_id>/edit",
        "measure_edit",
        row_views.measure_edit,
        FORM,
    ),
    (
        "/plans/<int:plan_id>/measures/<int:row_id>/delete",
        "measure_delete",
        row_views.measure_delete,
        POST,
    ),
    ("/plans/<int:plan_id>/milestones", "milestone_create", row_views.milestone_create, POST),
    (
        "/plans/<int:plan_id>/milestones/<int:row_id>/toggle",
        "milestone_toggle",
        row_views.milestone_toggle,
        POST,
    ),
    (
        "/plans/<int:plan_id>/milestones/<int:row_id>/delete",
        "milestone_delete",
        row_views.milestone_delete,
        POST,
    ),
    # activity_views
    ("/firms/<int:firm_id>/activities", "activity_create", activity_views.activity_create, POST),
    (
        "/firms/<int:firm_id>/activities/<int:row_id>",
        "activity_row",
        activity_views.activity_row,
        GET,
    ),
    (
        "/firms/<int:firm_id>/activities/<int:row_id>/edit",
        "activity_edit",
        activity_views.activity_edit,
        FORM,
    ),
    (
        "/firms/<int:firm_id>/activities/<int:row_id>/follow-up",
        "activity_follow_up",
        activity_views.activity_follow_up,
        POST,
    ),
    (
        "/firms/<int:firm_id>/activities/<int:row_id>/delete",
        "activity_delete",
        activity_views.activity_delete,
        POST,
    ),
)
add_routes(bp, ROUTES)

register_tab(
    "coaching",
    FirmTab("一企一策", "coaching/_firm_plans.html", views.plans_tab_context, 80, staff_only=True),
)
register_tab(
    activity_views.TAB,
    FirmTab(
        "走访记录",
        "coaching/_activities_panel.html",
        views.activities_tab_context,
        90,
        staff_only=True,
    ),
)

describe(
    Entity(
        "一企一策方案",
        CoachingPlan,
        codes={"status": PLAN_STATUSES},
        summary=lambda v: f"{v.get('year', '')} 年度方案",
    )
)
describe(
    Entity(
        "辅导措施",
        CoachingMeasure,
        codes={"status": MEASURE_STATUSES},
        summary=lambda v: v.get("title", ""),
    )
)
describe(Entity("方案节点", CoachingMilestone, summary=lambda v: v.get("title", "")))
describe(
    Entity(
        "走访记录",
        Activity,
        codes={"kind": ACTIVITY_KINDS},
        summary=lambda v: f"{v.get('occurred_on', '')} {coded(ACTIVITY_KINDS, v, 'kind')}",
    )
)
register_source(timeline.activities, own_created=("activities",))
register_source(timeline.measures, own_created=("coaching_measures",))
