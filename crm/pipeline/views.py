"""Pages of the pipeline blueprint: enroll a firm and move it, from the firm's 培育进程 tab.

The tab is a panel of the firm page (`firm_tab_context` is registered as its context in
`blueprint`). Managers and admins change the firms they may edit; a bureau head reads every
firm and may move one only by overriding a gate with a written reason.
"""

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, request
from flask_login import current_user, login_required

from crm.core import clock
from crm.core.permissions import may_override_gates
from crm.core.web import tab_url
from crm.extensions import db
from crm.firms.access import can_edit_firm, get_editable_firm, get_visible_firm
from crm.firms.views import render_detail
from crm.pipeline import queries, rules, services
from crm.pipeline.forms import EnrollForm, MoveForm
from crm.pipeline.models import Enrollment, Programme
from crm.pipeline.services import GateRefused
from crm.pipeline.signals import showing_card

TAB = "pipeline"

#: The enroll button of each programme.
ENROLL_LABELS = {rules.HTE: "加入高企培育", rules.LISTING: "加入上市后备"}


@dataclass
class Card:
    """One programme on the tab: the open (or latest) enrollment and its forms."""

    programme: Programme
    enrollment: Enrollment | None = None
    past: list[Enrollment] = field(default_factory=list)
    steps: list[services.HistoryStep] = field(default_factory=list)
    days: int = 0
    enroll_form: EnrollForm | None = None
    move_form: MoveForm | None = None
    refusal: list[str] = field(default_factory=list)
    overridable: bool = False
    #: For the move form: what each target stage needs (`entry_reason document certificate`).
    needs: dict[str, str] = field(default_factory=dict)
    #: Templates that other packages show on the card (`signals.showing_card`), and their values.
    panels: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def enroll_label(self) -> str:
        """Return the label of the enroll button."""
        return ENROLL_LABELS.get(self.programme.code, f"加入{self.programme.name}")


def firm_tab_context(firm, failed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the 培育进程 cards; `failed` re-shows a refused form (key, form, refusal)."""
    today = clock.today()
    enrollments = queries.firm_enrollments(firm.id)
    may_edit = can_edit_firm(current_user, firm)
    may_override = may_override_gates(current_user) and not firm.is_deleted
    cards = []
    for programme in queries.programmes():
        mine = [e for e in enrollments if e.programme_id == programme.id]
        current = next((e for e in mine if e.is_open), None)
        card = Card(programme, current, past=[e for e in mine if e is not current])
        if current is not None:
            showing_card.send(programme.code, card=card, firm=firm, may_edit=may_edit)
            card.steps = services.stage_history(current, today)
            card.days = card.steps[-1].days if card.steps else 0
            if may_edit or may_override:
                card.move_form = MoveForm(
                    current, services.suggested_entry_reason(current), formdata=None
                )
                card.needs = {
                    s.code: rules.move_inputs(programme.code, s.code)
                    for s in card.move_form.targets
                }
        elif may_edit:
            card.enroll_form = EnrollForm(programme.code, formdata=None)
            card.needs = {
                code: rules.move_inputs(programme.code, code)
                for code in rules.entry_stages(programme.code)
            }
        if failed and failed["key"] == programme.code:
            if isinstance(failed["form"], MoveForm):
                card.move_form = failed["form"]
            elif current is None:
                card.enroll_form = failed["form"]
            card.refusal = failed["refusal"]
            card.overridable = failed["overridable"]
        cards.append(card)
    return {
        "pipeline_cards": cards,
        "may_override": may_override,
        "entry_reasons": rules.ENTRY_REASONS,
    }


def _done(firm, result: services.MoveResult, message: str):
    db.session.commit()
    flash(message, "success")
    for warning in result.warnings:
        flash(warning, "warning")
    return redirect(tab_url(firm.id, TAB))


def _show_refusal(firm, key: str, form, refused: GateRefused | None):
    db.session.rollback()
    failed = {
        "key": key,
        "form": form,
        "refusal": refused.messages if refused else [],
        "overridable": bool(refused and refused.overridable),
    }
    return render_detail(firm, "pipeline", **firm_tab_context(firm, failed))


@login_required
def enroll(firm_id: int):
    """Open an enrollment of the firm in a programme."""
    firm = get_editable_firm(current_user, firm_id)
    code = request.form.get("programme", "")
    if code not in rules.PROGRAMMES:
        abort(400)
    form = EnrollForm(code)
    if not form.validate_on_submit():
        return _show_refusal(firm, code, form, None)
    try:
        result = services.enroll_firm(firm, code, form.stage.data, form.inputs(), current_user)
    except GateRefused as refused:
        return _show_refusal(firm, code, form, refused)
    stage = result.enrollment.stage.name
    return _done(firm, result, f"已加入{result.enrollment.programme.name}（{stage}）。")


@login_required
def move(enrollment_id: int):
    """Move an enrolled firm to another stage (a bureau head only with an override reason)."""
    enrollment = queries.get_enrollment(enrollment_id)
    if enrollment is None:
        abort(404)
    firm = get_visible_firm(current_user, enrollment.firm_id)
    overriding = request.form.get(f"move-{enrollment.id}-override_reason", "").strip()
    if not can_edit_firm(current_user, firm) and not (
        may_override_gates(current_user) and overriding
    ):
        abort(403)
    form = MoveForm(enrollment)
    key = enrollment.programme.code
    if not form.validate_on_submit():
        return _show_refusal(firm, key, form, None)
    try:
        result = services.move_firm(
            enrollment, form.target.data, form.inputs(), current_user, overriding or None
        )
    except GateRefused as refused:
        return _show_refusal(firm, key, form, refused)
    message = f"已转入「{result.enrollment.stage.name}」。"
    if result.transition.is_override:
        message = f"已越过门槛转入「{result.enrollment.stage.name}」，理由已记录。"
    return _done(firm, result, message)
