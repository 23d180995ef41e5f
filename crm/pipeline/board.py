"""The kanban board of a programme (培育看板): a column per stage, drag-and-drop and bulk moves.

Routes on the pipeline blueprint, registered by the import at the bottom of
`crm.pipeline.views`. Dropping a card asks `board_move_dialog` what the target stage's gate
needs (or why the move is impossible); the dialog's form posts to `board_move` through htmx,
which answers with the moved card, the new column counts and the messages as out-of-band swaps
(`data-moved` in the answer tells the board's script to close the dialog).
"""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.core import clock
from crm.core.permissions import STAFF_ROLES, may_override_gates, roles_required
from crm.extensions import db
from crm.firms.access import get_visible_firm
from crm.firms.queries import firm_choices_data
from crm.pipeline import board_queries, board_services, queries, rules, services
from crm.pipeline.board_forms import FILTER_ARGS, BoardFilterForm, BulkMoveForm
from crm.pipeline.forms import MoveForm
from crm.pipeline.models import Enrollment, Programme
from crm.pipeline.services import GateRefused

#: Cards drawn per column, and loaded each time the user scrolls to its end, unless
#: BOARD_CARDS_PER_COLUMN says otherwise.
CARDS_PER_COLUMN = 30


def filter_args() -> dict[str, str]:
    """Return the board filters of the current request, to keep them in links and forms."""
    return {key: request.args[key] for key in FILTER_ARGS if request.args.get(key)}


def _programme(code: str) -> Programme:
    if code not in rules.PROGRAMMES:
        abort(404)
    return queries.programme(code)


def _filters(programme: Programme) -> tuple[BoardFilterForm, board_queries.BoardFilters]:
    years = board_queries.opened_years(programme, clock.today())
    form = BoardFilterForm(request.args, firm_choices_data(), years)
    return form, form.board_filters()


def _enrollment_to_move(enrollment_id: int) -> Enrollment:
    """Load an enrollment whose firm the user may move: 404 out of sight, 403 read-only."""
    enrollment = queries.get_enrollment(enrollment_id)
    if enrollment is None:
        abort(404)
    firm = get_visible_firm(current_user, enrollment.firm_id)
    if not board_queries.may_move(current_user, firm):
        abort(403)
    return enrollment


def _route_refusal(enrollment: Enrollment, target: str) -> str | None:
    if not enrollment.is_open:
        return f"「{enrollment.stage.name}」已结束，不能再变更阶段"
    return rules.route_refusal(enrollment.programme.code, enrollment.stage.code, target)


@roles_required(*STAFF_ROLES)
def board(code: str):
    """Show the kanban board of a programme: a column per stage, the filtered firms as cards."""
    programme = _programme(code)
    form, filters = _filters(programme)
    columns = board_queries.board_columns(
        current_user, programme, filters, _cards_per_column(), clock.today()
    )
    bulk_form = BulkMoveForm(code, formdata=None)
    return render_template(
        "pipeline/board.html",
        programme=programme,
        programmes=queries.programmes(),
        form=form,
        columns=columns,
        bulk_form=bulk_form,
        bulk_needs={s.code: rules.move_inputs(code, s.code) for s in bulk_form.targets},
        args=filter_args(),
        may_override=may_override_gates(current_user),
    )


def _cards_per_column() -> int:
    return current_app.config.get("BOARD_CARDS_PER_COLUMN", CARDS_PER_COLUMN)


def _stage(programme: Programme, stage_code: str):
    stage = next((s for s in programme.stages if s.code == stage_code), None)
    if stage is None:
        abort(404)
    return stage


@roles_required(*STAFF_ROLES)
def board_cards(code: str, stage_code: str):
    """Answer htmx with the next cards of a column, as the user scrolls to its end."""
    programme = _programme(code)
    stage = _stage(programme, stage_code)
    _, filters = _filters(programme)
    # The last card shown: its firm's name and id (ids are 32-bit integers on both databases).
    after_id = request.args.get("after_id", type=int)
    if after_id is None or not 0 < after_id < 2**31:
        abort(404)
    after = (request.args.get("after", "")[:200], after_id)
    page = board_queries.cards_after(
        current_user, programme, stage, filters, after, _cards_per_column(), clock.today()
    )
    return render_template(
        "pipeline/_board_cards.html",
        programme=programme,
        stage=stage,
        page=page,
        args=filter_args(),
    )


@roles_required(*STAFF_ROLES)
def board_column(code: str, stage_code: str):
    """List every firm of one column of the board, page by page."""
    programme = _programme(code)
    stage = _stage(programme, stage_code)
    form, filters = _filters(programme)
    page = board_queries.column_page(
        current_user,
        programme,
        stage,
        filters,
        request.args.get("page", 1, type=int),
        current_app.config["FIRMS_PER_PAGE"],
        clock.today(),
    )
    return render_template(
        "pipeline/board_column.html",
        programme=programme,
        stage=stage,
        form=form,
        page=page,
        args=filter_args(),
    )


@roles_required(*STAFF_ROLES)
def board_move_dialog(enrollment_id: int):
    """Return the dialog asking what moving the card to `target` needs, or why it cannot move."""
    enrollment = _enrollment_to_move(enrollment_id)
    target = request.args.get("target", "")
    refusal = _route_refusal(enrollment, target)
    if refusal is not None:
        return render_template("pipeline/_board_refused.html", message=refusal)
    form = MoveForm(enrollment, services.suggested_entry_reason(enrollment), formdata=None)
    form.target.data = target
    return _dialog(enrollment, form, target)


@roles_required(*STAFF_ROLES)
def board_move(enrollment_id: int):
    """Move a card's firm; answer the moved card, or the dialog again with what is missing."""
    enrollment = _enrollment_to_move(enrollment_id)
    form = MoveForm(enrollment)
    target = form.target.data or ""
    refusal = _route_refusal(enrollment, target)
    if refusal is not None:
        return render_template("pipeline/_board_refused.html", message=refusal)
    if not form.validate_on_submit():
        return _dialog(enrollment, form, target)
    override = form.override_reason.data or None
    try:
        result = services.move_firm(enrollment, target, form.inputs(), current_user, override)
    except GateRefused as refused:
        db.session.rollback()
        return _dialog(enrollment, form, target, refused)
    db.session.commit()
    return _moved(enrollment, result)


@roles_required(*STAFF_ROLES)
def board_bulk(code: str):
    """Move the ticked firms to one stage, each through its own gate, and report on each."""
    programme = _programme(code)
    form = BulkMoveForm(code)
    back = url_for("pipeline.board", code=code, **filter_args())
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "danger")
        return redirect(back)
    result = board_services.bulk_move(
        current_user,
        programme,
        form.enrollments.data,
        form.target.data,
        form.inputs(),
        form.override_reason.data or None,
    )
    db.session.commit()
    target = rules.PROGRAMMES[code].stage(form.target.data)
    return render_template(
        "pipeline/board_bulk.html", programme=programme, target=target, result=result, back=back
    )


def _dialog(enrollment: Enrollment, form: MoveForm, target: str, refused=None):
    code = enrollment.programme.code
    return render_template(
        "pipeline/_board_dialog.html",
        enrollment=enrollment,
        form=form,
        target=rules.PROGRAMMES[code].stage(target),
        needs=rules.move_inputs(code, target).split(),
        refusal={
            "refusal": refused.messages if refused else [],
            "overridable": bool(refused and refused.overridable),
        },
        may_override=may_override_gates(current_user),
        action=url_for("pipeline.board_move", enrollment_id=enrollment.id, **filter_args()),
    )


def _moved(enrollment: Enrollment, result: services.MoveResult):
    today = clock.today()
    programme = enrollment.programme
    _, filters = _filters(programme)
    stage = result.enrollment.stage
    if result.transition.is_override:
        message = f"「{enrollment.firm.name}」已越过门槛转入「{stage.name}」，理由已记录。"
    else:
        message = f"「{enrollment.firm.name}」已转入「{stage.name}」。"
    if not enrollment.is_open:
        message += "培育已结束，该企业不再显示在看板上。"
    return render_template(
        "pipeline/_board_moved.html",
        enrollment=enrollment,
        card=board_queries.board_card(current_user, enrollment, today),
        counts=board_queries.stage_counts(current_user, programme, filters, today),
        stages=programme.stages,
        message=message,
        warnings=result.warnings,
        args=filter_args(),
    )
