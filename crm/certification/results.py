"""Enter a batch's outcome from the provincial public list, many firms in one go.

Each result is a pipeline move (into `review`, `certified` or `not_certified`), so the gates,
the transitions and `services.on_transition` stay the single truth. Every firm gets a savepoint
of its own: one refused firm does not undo the others. Flushes, never commits.
"""

from dataclasses import dataclass, field
from datetime import date

from crm.certification import rules
from crm.certification.models import CertificationApplication, CertificationBatch
from crm.extensions import db
from crm.pipeline import queries as pipeline_queries
from crm.pipeline.services import GateRefused, MoveInputs, move_firm

WITHDRAWN = "企业撤回申报"


@dataclass(frozen=True)
class ResultRow:
    """One firm's line of the result form."""

    application_id: int
    #: A key of `rules.RESULTS`.
    result: str
    certificate_number: str = ""
    issued_on: date | None = None
    reason: str = ""


@dataclass
class Outcome:
    """What became of one line: recorded (with warnings) or refused (with the reasons)."""

    application: CertificationApplication
    recorded: bool
    messages: list[str] = field(default_factory=list)

    @property
    def firm_name(self) -> str:
        """Return the name of the firm the line is about."""
        return self.application.firm.name


def record_results(
    batch: CertificationBatch, rows: list[ResultRow], actor, result_on: date
) -> list[Outcome]:
    """Record each row's result through a pipeline move; report per firm what happened.

    `result_on` dates the moves into review and the failures; a certificate is dated by its
    issue date.
    """
    outcomes = []
    for row in rows:
        application = db.session.get(CertificationApplication, row.application_id)
        if application is None or application.batch_id != batch.id:
            continue
        problem = _problem(application, row)
        if problem:
            outcomes.append(Outcome(application, False, [problem]))
            continue
        try:
            with db.session.begin_nested():
                warnings = _apply(batch, application, row, actor, result_on)
        except GateRefused as refused:
            outcomes.append(Outcome(application, False, refused.messages))
        else:
            outcomes.append(Outcome(application, True, warnings))
    return outcomes


def _problem(application, row: ResultRow) -> str | None:
    if row.result not in rules.RESULTS:
        return "未知的结果"
    if application.status not in rules.PENDING_STATUSES:
        return f"该申报已有结果（{application.status_label}）"
    enrollment = application.enrollment
    if enrollment is None or not enrollment.is_open:
        return "该企业已不在高企培育中，不能记录结果"
    stage = enrollment.stage.code
    if stage not in ("applied", "review"):
        return f"企业当前处于「{enrollment.stage.name}」，不是「已申报」或「评审/公示中」"
    if row.result == "review" and stage == "review":
        return "企业已处于「评审/公示中」"
    return None


def _apply(batch, application, row: ResultRow, actor, result_on: date) -> list[str]:
    enrollment = application.enrollment
    warnings: list[str] = []
    if row.result == "certified":
        issued_on = row.issued_on
        if enrollment.stage.code == "applied":
            # The public list comes after the notice: pass through review on its first day.
            warnings += _move(enrollment, "review", _review_on(batch, enrollment, issued_on), actor)
        inputs = MoveInputs(
            moved_on=issued_on,
            certificate_number=row.certificate_number,
            certificate_issued_on=issued_on,
        )
        warnings += move_firm(enrollment, "certified", inputs, actor).warnings
    elif row.result == "review":
        warnings += _move(enrollment, "review", result_on, actor)
    else:
        reason = row.reason.strip()
        if row.result == "withdrawn":
            reason = f"{WITHDRAWN}：{reason}" if reason else WITHDRAWN
        inputs = MoveInputs(moved_on=result_on, reason=reason)
        warnings += move_firm(enrollment, rules.result_target(row.result), inputs, actor).warnings
        if row.result == "withdrawn":
            application.status = "withdrawn"
            db.session.flush()
    return warnings


def _move(enrollment, target: str, on: date | None, actor) -> list[str]:
    return move_firm(enrollment, target, MoveInputs(moved_on=on), actor).warnings


def _review_on(batch, enrollment, issued_on: date | None) -> date | None:
    """Return the notice's first day when it falls between the last move and the issue date."""
    last = pipeline_queries.last_moved_on(enrollment.id)
    notice = batch.notice_from
    if (
        notice is not None
        and (last is None or last <= notice)
        and (issued_on is None or notice <= issued_on)
    ):
        return notice
    return issued_on
