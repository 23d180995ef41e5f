"""The pipeline blueprint: enrolling and moving a firm from its 培育进程 tab (`views`) and the
kanban board (`board`).

Routes are attached here, to the view functions of those modules, which never import this one.
It also registers what the package adds to the firm page: its tabs and how the history names
its records.
"""

from flask import Blueprint

from crm.core.web import GET, POST, add_routes
from crm.firms.history import Entity, describe, name_references
from crm.firms.tabs import FirmTab, register_tab
from crm.firms.timeline import register_source
from crm.pipeline import (
    board,
    summary,  # noqa: F401 (registers the funnel summary with crm.core.derived)
    timeline,
    views,
)
from crm.pipeline.models import Enrollment, Programme, Stage
from crm.pipeline.rules import ENTRY_REASONS

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")

#: The URL map: (rule, endpoint, view, methods).
ROUTES = (
    # views
    ("/firms/<int:firm_id>/enroll", "enroll", views.enroll, POST),
    ("/enrollments/<int:enrollment_id>/move", "move", views.move, POST),
    # board
    ("/board/<code>", "board", board.board, GET),
    ("/board/<code>/stages/<stage_code>", "board_column", board.board_column, GET),
    ("/board/<code>/stages/<stage_code>/cards", "board_cards", board.board_cards, GET),
    (
        "/board/enrollments/<int:enrollment_id>/move",
        "board_move_dialog",
        board.board_move_dialog,
        GET,
    ),
    ("/board/enrollments/<int:enrollment_id>/move", "board_move", board.board_move, POST),
    ("/board/<code>/bulk", "board_bulk", board.board_bulk, POST),
)
add_routes(bp, ROUTES)

register_tab(
    views.TAB,
    FirmTab("培育进程", "pipeline/_firm_tab.html", views.firm_tab_context, 60, staff_only=True),
)

describe(
    Entity(
        "培育记录",
        Enrollment,
        codes={"entry_reason": {str(k): f"{k}. {v}" for k, v in ENTRY_REASONS.items()}},
        summary=lambda v: f"{v.get('opened_on', '')} 入库",
    )
)
name_references("stage_id", Stage)
name_references("programme_id", Programme)
register_source(timeline.transitions, own_changes=("enrollments",))
