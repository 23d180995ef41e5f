"""Pipeline use cases: seed the programmes, enroll a firm, move it between stages.

Every move goes through `rules.check_move`. Unmet gate requirements refuse the move unless a
bureau head overrides them with a written reason, which the transition records; a move the
programme's graph forbids is never possible. Everything here flushes and never commits.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from crm.core import clock
from crm.core.bulk import chunks
from crm.core.permissions import may_override_gates
from crm.extensions import db
from crm.firms.models import Firm, FirmYear
from crm.pipeline import queries, rules, signals
from crm.pipeline.models import Enrollment, Programme, Stage, StageTransition

ONLY_HEADS_OVERRIDE = "只有局领导可以越过门槛要求"


class GateRefused(Exception):
    """A move was refused; `messages` say why, in Chinese."""

    def __init__(self, messages: list[str], *, overridable: bool = False) -> None:
        super().__init__("；".join(messages))
        self.messages = messages
        #: Only unmet gate requirements may be overridden by a bureau head.
        self.overridable = overridable


@dataclass(frozen=True)
class MoveInputs:
    """What a person gives with a move."""

    moved_on: date | None = None
    reason: str = ""
    entry_reason: int | None = None
    document_number: str = ""
    document_on: date | None = None
    certificate_number: str = ""
    certificate_issued_on: date | None = None
    #: The certification batch of an application (a move into `applied`).
    batch_id: int | None = None
    #: The ground of a cancellation (a move into `cancelled`), domain.md §2.5.
    cancel_ground: str = ""


@dataclass
class MoveResult:
    """A recorded move and the warnings to show (the move went ahead regardless)."""

    enrollment: Enrollment
    transition: StageTransition
    warnings: list[str] = field(default_factory=list)


# --- Reference data ------------------------------------------------------------------------------


def seed_programmes() -> int:
    """Create the missing programmes and stages of `rules.PROGRAMMES`; return how many."""
    created = 0
    programmes = {p.code: p for p in db.session.scalars(select(Programme))}
    for spec in rules.PROGRAMMES.values():
        programme = programmes.get(spec.code)
        if programme is None:
            programme = Programme(code=spec.code, name=spec.name)
            db.session.add(programme)
            db.session.flush()
            created += 1
        existing = {s.code: s for s in programme.stages}
        for order, stage in enumerate(spec.stages):
            values = {
                "name": stage.name,
                "kind": stage.kind,
                "is_terminal": stage.is_terminal,
                "needs_document": stage.needs_document,
                "sort_order": order,
            }
            row = existing.get(stage.code)
            if row is None:
                db.session.add(Stage(programme_id=programme.id, code=stage.code, **values))
                created += 1
            else:
                for key, value in values.items():
                    setattr(row, key, value)
    db.session.flush()
    return created


# --- Facts ---------------------------------------------------------------------------------------


def missing_figure_years(firm: Firm, today: date) -> tuple[int, ...]:
    """Return the years of the last three with no figures, leaving out years before founding."""
    first = firm.established_on.year if firm.established_on else today.year - 3
    wanted = [y for y in range(today.year - 3, today.year) if y >= first]
    present = set(
        db.session.scalars(
            select(FirmYear.year).where(FirmYear.firm_id == firm.id, FirmYear.year.in_(wanted))
        )
    )
    return tuple(y for y in wanted if y not in present)


def move_facts(firm: Firm, programme_code: str, inputs: MoveInputs, today: date) -> rules.MoveFacts:
    """Gather what the gates read about `firm` and the move's `inputs`.

    The firm's own record answers here; the packages that keep the rest (plans, batches and
    certificates, listing cases) answer `signals.gathering_move_facts`.
    """
    known = signals.merged(
        signals.gathering_move_facts.send(programme_code, firm=firm, inputs=inputs, today=today)
    )
    return rules.MoveFacts(
        today=today,
        reason=inputs.reason,
        entry_reason=inputs.entry_reason,
        document_number=inputs.document_number,
        document_on=inputs.document_on,
        certificate_number=inputs.certificate_number,
        certificate_issued_on=inputs.certificate_issued_on,
        cancel_ground=inputs.cancel_ground,
        has_district=firm.district_id is not None,
        has_tech_field=firm.tech_field_id is not None,
        missing_figure_years=missing_figure_years(firm, today)
        if programme_code == rules.HTE
        else (),
        **known,
    )


# --- Moves ---------------------------------------------------------------------------------------


def enroll_firm(
    firm: Firm,
    programme_code: str,
    stage_code: str,
    inputs: MoveInputs,
    actor,
    override_reason=None,
) -> MoveResult:
    """Open an enrollment of `firm` in a programme at `stage_code`, through the entry gate."""
    programme = queries.programme(programme_code)
    current = queries.open_enrollment(firm.id, programme.id)
    if current is not None:
        raise GateRefused([f"该企业已在「{programme.name}」中（当前阶段：{current.stage.name}）"])
    today = clock.today()
    moved_on = _moved_on(inputs, today, None)
    is_override = _authorise(firm, programme_code, None, stage_code, inputs, actor, override_reason)
    stage = queries.stage(programme.id, stage_code)
    enrollment = Enrollment(firm_id=firm.id, programme=programme, stage=stage, opened_on=moved_on)
    db.session.add(enrollment)
    return _record(enrollment, None, stage, moved_on, inputs, actor, is_override, override_reason)


def move_firm(
    enrollment: Enrollment, target_code: str, inputs: MoveInputs, actor, override_reason=None
) -> MoveResult:
    """Move an enrolled firm to `target_code`, through the target's gate."""
    programme_code = enrollment.programme.code
    source = enrollment.stage
    if not enrollment.is_open:
        raise GateRefused([f"「{source.name}」已结束，不能再变更阶段"])
    today = clock.today()
    moved_on = _moved_on(inputs, today, queries.last_moved_on(enrollment.id))
    is_override = _authorise(
        enrollment.firm, programme_code, source.code, target_code, inputs, actor, override_reason
    )
    target = queries.stage(enrollment.programme_id, target_code)
    return _record(
        enrollment, source, target, moved_on, inputs, actor, is_override, override_reason
    )


def _moved_on(inputs: MoveInputs, today: date, previous: date | None) -> date:
    moved_on = inputs.moved_on or today
    if moved_on > today:
        raise GateRefused(["变更日期不能晚于今天"])
    if previous is not None and moved_on < previous:
        raise GateRefused([f"变更日期不能早于上一次阶段变更的日期 {previous.isoformat()}"])
    return moved_on


def _authorise(firm, programme_code, source, target, inputs, actor, override_reason) -> bool:
    """Check the move; return whether it goes ahead as an override, or raise GateRefused."""
    refusal = rules.route_refusal(programme_code, source, target)
    if refusal is not None:
        raise GateRefused([refusal])
    facts = move_facts(firm, programme_code, inputs, clock.today())
    missing = rules.check_move(programme_code, source, target, facts)
    overriding = bool((override_reason or "").strip())
    if may_override_gates(actor) and not overriding:
        raise GateRefused(["局领导变更阶段需填写越过门槛的理由"])
    if not missing:
        return False
    if not overriding:
        raise GateRefused(missing, overridable=True)
    if not may_override_gates(actor):
        raise GateRefused([ONLY_HEADS_OVERRIDE, *missing])
    return True


def _record(
    enrollment: Enrollment,
    source: Stage | None,
    target: Stage,
    moved_on: date,
    inputs: MoveInputs,
    actor,
    is_override: bool,
    override_reason: str | None,
) -> MoveResult:
    number, document_on = inputs.document_number.strip(), inputs.document_on
    certified = enrollment.programme.code == rules.HTE and target.code == "certified"
    if certified:
        # The certificate itself (qualification, application) is granted in `_after_move`.
        number, document_on = inputs.certificate_number.strip(), inputs.certificate_issued_on
    override_text = (override_reason or "").strip()
    reason = inputs.reason.strip()
    if override_text and not is_override and not reason and may_override_gates(actor):
        reason = override_text  # a bureau head's move that met every requirement anyway
    transition = StageTransition(
        enrollment=enrollment,
        firm_id=enrollment.firm_id,
        from_stage_id=source.id if source else None,
        to_stage_id=target.id,
        moved_on=moved_on,
        by_id=actor.id if actor is not None else None,
        reason=reason or None,
        document_number=number or None,
        document_on=document_on,
        is_override=is_override,
        override_reason=override_text if is_override else None,
    )
    db.session.add(transition)
    enrollment.stage = target
    if target.code == "reserve" and enrollment.programme.code == rules.HTE:
        enrollment.entry_reason = inputs.entry_reason
    if target.is_terminal:
        enrollment.closed_on = moved_on
    db.session.flush()
    return MoveResult(enrollment, transition, _after_move(enrollment, transition, inputs))


def _after_move(
    enrollment: Enrollment, transition: StageTransition, inputs: MoveInputs
) -> list[str]:
    """Let the packages that follow moves (certificates, the ledger) act; return warnings."""
    return signals.joined(
        signals.stage_moved.send(
            enrollment.programme.code, enrollment=enrollment, transition=transition, inputs=inputs
        )
    )


# --- Placements from official lists --------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """A firm put into a stage by an official list (a province's certified firms, a county's
    reserve pool), with the date and document the list gives."""

    firm_id: int
    stage_code: str
    moved_on: date
    entry_reason: int | None = None
    document_number: str | None = None
    document_on: date | None = None
    reason: str | None = None


#: Stages from which an official list may move an open enrollment, by the stage it places in.
PLACEABLE_FROM = {
    "reserve": frozenset({"prospect", "not_certified", "lapsed", "cancelled"}),
    "certified": frozenset(),
}


def open_enrollments(programme_code: str, firm_ids: list[int]) -> dict[int, tuple]:
    """Return (enrollment id, stage code, entry reason, last move date) of each firm's open
    enrollment in the programme, by firm id."""
    found: dict[int, tuple] = {}
    last = (
        select(func.max(StageTransition.moved_on))
        .where(StageTransition.enrollment_id == Enrollment.id)
        .scalar_subquery()
    )
    stmt = (
        select(Enrollment.firm_id, Enrollment.id, Stage.code, Enrollment.entry_reason, last)
        .join(Stage, Stage.id == Enrollment.stage_id)
        .join(Programme, Programme.id == Enrollment.programme_id)
        .where(Programme.code == programme_code, Enrollment.closed_on.is_(None))
    )
    for chunk in chunks(firm_ids):
        for firm_id, *values in db.session.execute(stmt.where(Enrollment.firm_id.in_(chunk))):
            found[firm_id] = tuple(values)
    return found


def place_firm(
    programme_code: str, placement: Placement, *, source: str, actor_id: int | None
) -> StageTransition:
    """Record the stage an official list puts the firm in; return the transition.

    The list is the authority, so no gate is asked: the importer checks what the list must
    give. A firm with no open enrollment in the programme is enrolled at the stage; an open one
    moves there from a stage of `PLACEABLE_FROM`. The transition carries `source` (the import
    batch), whose undo removes it. No `stage_moved` follower is told: the certificate of a
    certified firm is recorded by the importer itself, and entering a stage from a list earns
    no subsidy a person's move would.
    """
    programme = queries.programme(programme_code)
    stage = queries.stage(programme.id, placement.stage_code)
    enrollment = queries.open_enrollment(placement.firm_id, programme.id)
    source_stage = None
    if enrollment is None:
        enrollment = Enrollment(
            firm_id=placement.firm_id,
            programme_id=programme.id,
            stage_id=stage.id,
            opened_on=placement.moved_on,
        )
        db.session.add(enrollment)
    else:
        source_stage = enrollment.stage
        if source_stage.code not in PLACEABLE_FROM[stage.code]:
            raise GateRefused(
                [f"企业已在「{source_stage.name}」阶段，不能按名单转入「{stage.name}」"]
            )
        enrollment.stage = stage
    if stage.code == "reserve":
        enrollment.entry_reason = placement.entry_reason
    transition = StageTransition(
        enrollment=enrollment,
        firm_id=placement.firm_id,
        from_stage_id=source_stage.id if source_stage else None,
        to_stage_id=stage.id,
        moved_on=placement.moved_on,
        by_id=actor_id,
        reason=placement.reason,
        document_number=placement.document_number,
        document_on=placement.document_on,
        source=source,
    )
    db.session.add(transition)
    db.session.flush()
    return transition


# --- Reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryStep:
    """A transition and how many days the firm stayed in the stage it entered."""

    transition: StageTransition
    days: int


def stage_history(enrollment: Enrollment, today: date | None = None) -> list[HistoryStep]:
    """Return the enrollment's transitions in time order with the days spent after each."""
    today = today or clock.today()
    end = enrollment.closed_on or today
    transitions = list(enrollment.transitions)
    steps = []
    for n, transition in enumerate(transitions):
        moves = [(transition.to_stage.code, transition.moved_on)]
        following = transitions[n + 1].moved_on if n + 1 < len(transitions) else end
        steps.append(HistoryStep(transition, rules.days_in_stages(moves, following)[moves[0][0]]))
    return steps


def days_in_stage(enrollment: Enrollment, today: date | None = None) -> int:
    """Return the days since the enrollment entered its current stage."""
    steps = stage_history(enrollment, today)
    return steps[-1].days if steps else 0


def days_per_stage(enrollment: Enrollment, today: date | None = None) -> dict[str, int]:
    """Return the total days spent in each stage code over the enrollment."""
    moves = [(t.to_stage.code, t.moved_on) for t in enrollment.transitions]
    return rules.days_in_stages(moves, enrollment.closed_on or today or clock.today())


def suggested_entry_reason(enrollment: Enrollment) -> int | None:
    """Return the entry reason to propose when the firm moves back to the reserve pool."""
    return rules.suggested_entry_reason(enrollment.stage.code)
