"""Certification use cases: batches, the applications that follow pipeline moves, and lapses.

The pipeline is the single truth of where a firm stands: `on_transition` follows every high-tech
programme move (the pipeline's `stage_moved` signal) and keeps the application and the firm's
certificate in step, so a result entered anywhere (the firm's 培育进程 tab, a batch's result
form, the lapse run) is recorded once. It also answers what the application gate reads about
batches and certificates (`gathering_move_facts`) and offers the open batches and the grounds of
a cancellation to the move forms.
Everything here flushes and never commits.
"""

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, select

from crm.certification import certificates, queries, rules
from crm.certification.models import CertificationApplication, CertificationBatch
from crm.eligibility.services import current_assessment
from crm.extensions import db
from crm.firms.models import Certificate
from crm.firms.rules import CANCEL_GROUNDS, HTE_KIND, certificate_expiry
from crm.pipeline import queries as pipeline_queries
from crm.pipeline.models import Enrollment, Stage
from crm.pipeline.rules import HTE, BatchFacts
from crm.pipeline.services import GateRefused, MoveInputs, move_firm
from crm.pipeline.signals import gathering_move_facts, offering_move_choices, stage_moved

#: Exits that end a pending application: the firm left before its batch's outcome.
LEAVING = {"moved": "企业迁出", "closed": "企业注销"}


class BatchError(ValueError):
    """A batch the rules refuse; `field` names the form field, `message` is in Chinese."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- Batches -------------------------------------------------------------------------------------

BATCH_FIELDS = (
    "year",
    "name",
    "opens_on",
    "closes_on",
    "city_recommend_by",
    "notice_from",
    "notice_to",
    "filed_on",
    "notes",
)


def create_batch(values: dict[str, Any]) -> CertificationBatch:
    """Create a certification batch after checking its dates and that its name is free."""
    batch = CertificationBatch()
    return _save_batch(batch, values)


def update_batch(batch: CertificationBatch, values: dict[str, Any]) -> CertificationBatch:
    """Change a certification batch under the same checks as a new one."""
    return _save_batch(batch, values)


def _save_batch(batch: CertificationBatch, values: dict[str, Any]) -> CertificationBatch:
    problems = rules.batch_problems(
        values.get("year"),
        values.get("opens_on"),
        values.get("closes_on"),
        values.get("notice_from"),
        values.get("notice_to"),
    )
    if problems:
        field, message = next(iter(problems.items()))
        raise BatchError(field, message)
    same = queries.batch_named(values["year"], values["name"])
    if same is not None and same is not batch:
        raise BatchError("name", f"{values['year']} 年已有名为“{values['name']}”的批次")
    for key in BATCH_FIELDS:
        setattr(batch, key, values.get(key))
    db.session.add(batch)
    db.session.flush()
    return batch


# --- Following the pipeline ----------------------------------------------------------------------


@gathering_move_facts.connect_via(HTE)
def _certificate_facts(programme: str, *, firm, inputs, today: date) -> dict[str, Any]:
    """Tell the high-tech gates about the batch applied to and the firm's certificate."""
    batch = db.session.get(CertificationBatch, inputs.batch_id) if inputs.batch_id else None
    certificate = queries.current_certificate(firm.id)
    return {
        "batch": BatchFacts(batch.label, batch.opens_on, batch.closes_on) if batch else None,
        "cancelled_on": queries.cancelled_on(firm.id),
        "certificate_expires_on": certificate.expires_on if certificate else None,
    }


@offering_move_choices.connect_via(HTE)
def _move_choices(programme: str, *, today: date) -> dict[str, list[tuple]]:
    """Offer the batches taking applications today, and the grounds of a cancellation."""
    return {
        "batch": [(batch.id, batch.label) for batch in queries.open_batches(today)],
        "cancel_ground": list(CANCEL_GROUNDS.items()),
    }


@stage_moved.connect_via(HTE)
def _follow_move(programme: str, *, enrollment, transition, inputs) -> list[str]:
    return on_transition(enrollment, transition, inputs)


def on_transition(enrollment, transition, inputs) -> list[str]:
    """Follow a high-tech programme move in the certification cases; return warnings.

    Raises the pipeline's `GateRefused` when the move would apply twice in one batch, so the
    caller rolls the move back.
    """
    target = enrollment.stage.code
    if target == "applied":
        return _open_application(enrollment, transition, inputs)
    if target == "certified":
        return _certify(enrollment, transition, inputs)
    pending = queries.pending_application(enrollment.id)
    if target == "review" and pending is not None:
        pending.status = "review"
    elif target == "not_certified" and pending is not None:
        _close(pending, "not_certified", transition.moved_on, transition.reason)
    elif target in LEAVING and pending is not None:
        _close(pending, "withdrawn", transition.moved_on, transition.reason or LEAVING[target])
    elif target == "cancelled":
        _cancel(enrollment.firm_id, transition, inputs.cancel_ground or None)
    elif target == "lapsed":
        current = queries.latest_certified_application(enrollment.firm_id)
        if current is not None:
            current.status = "lapsed"
        certificates.end_current_certificate(enrollment.firm_id, "lapsed", transition.moved_on)
    db.session.flush()
    return []


def _open_application(enrollment, transition, inputs) -> list[str]:
    batch = db.session.get(CertificationBatch, inputs.batch_id) if inputs.batch_id else None
    if batch is None:
        return ["未选择认定批次，未建立申报记录"]
    taken = db.session.scalar(
        select(CertificationApplication).filter_by(firm_id=enrollment.firm_id, batch_id=batch.id)
    )
    if taken is not None:
        raise GateRefused(
            [f"该企业已在「{batch.label}」中申报（{taken.status_label}），不能重复申报"]
        )
    snapshot, verdict = assessment_snapshot(enrollment.firm_id)
    db.session.add(
        CertificationApplication(
            firm_id=enrollment.firm_id,
            enrollment_id=enrollment.id,
            batch_id=batch.id,
            submitted_on=transition.moved_on,
            is_renewal=_came_from(transition) == "certified",
            assessment_snapshot=snapshot,
            assessment_verdict=verdict,
            status="submitted",
        )
    )
    db.session.flush()
    return []


def _came_from(transition) -> str | None:
    if transition.from_stage_id is None:
        return None
    return db.session.get(Stage, transition.from_stage_id).code


def assessment_snapshot(firm_id: int) -> tuple[dict[str, Any] | None, str | None]:
    """Return a copy of the firm's stored assessment as it stands, and its verdict."""
    assessment = current_assessment(firm_id)
    if assessment is None:
        return None, None
    return {
        "assessment_id": assessment.id,
        "computed_at": assessment.computed_at.isoformat(),
        "applied_on": assessment.applied_on.isoformat(),
        "settings_id": assessment.settings_id,
        "verdict": assessment.verdict,
        "score_min": assessment.score_min,
        "score_max": assessment.score_max,
        "result": copy.deepcopy(assessment.result),
    }, assessment.verdict


def _certify(enrollment, transition, inputs) -> list[str]:
    number = inputs.certificate_number.strip()
    issued_on = inputs.certificate_issued_on
    pending = queries.pending_application(enrollment.id)
    if pending is not None:
        pending.status = "certified"
        pending.result_on = transition.moved_on
        pending.certificate_number = number or None
        pending.issued_on = issued_on
        pending.expires_on = certificate_expiry(issued_on) if issued_on else None
    if issued_on is None:  # only when a bureau head overrode the missing date
        return ["未填写发证日期，未记录企业的高新技术企业证书"]
    _, warnings = certificates.record_certificate(
        enrollment.firm_id,
        issued_on,
        number,
        "batch" if pending is not None else "override",
        application_id=pending.id if pending is not None else None,
        transition_id=transition.id,
        document=pending.batch.label if pending is not None else None,
    )
    return warnings


def _close(application, status: str, on: date, reason: str | None) -> None:
    application.status = status
    application.result_on = on
    application.reason = reason


def _cancel(firm_id: int, transition, ground: str | None) -> None:
    """End the firm's certificate on the day of the move, on its ground, and mark its
    application cancelled."""
    certificates.end_current_certificate(
        firm_id, "cancelled", transition.moved_on, reason=transition.reason, ground=ground
    )
    current = queries.latest_certified_application(firm_id)
    if current is not None:
        _close(current, "cancelled", transition.moved_on, transition.reason)


# --- Lapse ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lapse:
    """A firm whose certificate lapsed, or why it could not be moved."""

    firm_id: int
    expires_on: date
    refusal: list[str]


def lapse_expired_certificates(today: date) -> list[Lapse]:
    """Lapse every certificate that expired before today; move certified firms into `lapsed`.

    One query finds the open enrollments in `certified` whose valid certificate has expired;
    each is moved (the move lapses its certificate). Expired certificates of firms outside the
    certified stage (a stock certificate imported without a history) are then marked lapsed.
    Running it again changes nothing.
    """
    certified = pipeline_queries.stage_ids(HTE)["certified"]
    expired = db.session.execute(
        select(Enrollment, Certificate.expires_on)
        .join(
            Certificate,
            and_(
                Certificate.firm_id == Enrollment.firm_id,
                Certificate.kind == HTE_KIND,
                Certificate.status == "valid",
            ),
        )
        .where(
            Enrollment.stage_id == certified,
            Enrollment.closed_on.is_(None),
            Certificate.expires_on < today,
        )
        .order_by(Enrollment.id)
    ).all()
    done = []
    for enrollment, expires_on in expired:
        last = pipeline_queries.last_moved_on(enrollment.id)
        moved_on = min(today, max(expires_on + timedelta(days=1), last or today))
        inputs = MoveInputs(moved_on=moved_on, reason=rules.lapse_reason(expires_on))
        try:
            with db.session.begin_nested():
                move_firm(enrollment, "lapsed", inputs, None)
        except GateRefused as refused:
            done.append(Lapse(enrollment.firm_id, expires_on, refused.messages))
        else:
            done.append(Lapse(enrollment.firm_id, expires_on, []))
    refused = {lapse.firm_id for lapse in done if lapse.refusal}
    for certificate in db.session.scalars(
        select(Certificate).where(
            Certificate.kind == HTE_KIND,
            Certificate.status == "valid",
            Certificate.expires_on < today,
        )
    ):
        if certificate.firm_id not in refused:
            certificate.status = "lapsed"
    db.session.flush()
    return done
