"""Support ledger use cases: the subsidy rules, the entries they grant, and entries kept by hand.

Entries copy the amount of the rule in force when they are created, so revising a rule (a new
version with a later effective date) never changes money already granted. Everything here flushes
and never commits; the audit listener records every change. A refused change raises
`SupportError` with the reason in Chinese.
"""

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select

from crm.extensions import db
from crm.firms.models import Certificate, Firm
from crm.firms.rules import HTE_KIND
from crm.pipeline.models import Enrollment, Stage, StageTransition
from crm.pipeline.rules import HTE, LISTING
from crm.pipeline.signals import stage_moved
from crm.support import rules
from crm.support.models import SubsidyRule, SupportEntry

RULE_FIELDS = ("name", "kind", "amount", "effective_from", "basis", "is_active")
ENTRY_FIELDS = (
    "kind",
    "title",
    "amount",
    "granted_on",
    "document_number",
    "status",
    "paid_on",
    "notes",
)


class SupportError(ValueError):
    """A change to the ledger or the rules that the rules refuse; the message is in Chinese."""


# --- Subsidy rules -------------------------------------------------------------------------------


def seed_subsidy_rules() -> int:
    """Create the default rule of every seeded event that has no rule yet; return how many."""
    present = set(db.session.scalars(select(SubsidyRule.event).distinct()))
    created = 0
    for seed in rules.SEED_RULES:
        if seed.event in present:
            continue
        db.session.add(
            SubsidyRule(
                name=seed.name,
                event=seed.event,
                kind=seed.kind,
                amount=seed.amount,
                effective_from=seed.effective_from,
                basis=seed.basis,
                is_active=True,
            )
        )
        created += 1
    db.session.flush()
    return created


def rules_of_event(event: str) -> list[SubsidyRule]:
    """Return every version of the rules of an event."""
    return list(db.session.scalars(select(SubsidyRule).where(SubsidyRule.event == event)))


def rule_for(event: str, on: date) -> SubsidyRule | None:
    """Return the rule in force for `event` on `on`, if any."""
    return rules.rule_in_force(rules_of_event(event), event, on)


def _check_rule(values: dict[str, Any]) -> None:
    if values.get("event") not in rules.RULE_EVENTS:
        raise SupportError("请选择触发事件")
    if values.get("kind") not in rules.SUPPORT_KINDS:
        raise SupportError("请选择扶持类型")
    amount = values.get("amount")
    if amount is not None and amount < 0:
        raise SupportError("金额不能为负数")


def create_rule(values: dict[str, Any]) -> SubsidyRule:
    """Add a subsidy rule (the first version for its event, or one more)."""
    values = {key: values.get(key) for key in ("event", *RULE_FIELDS)}
    _check_rule(values)
    rule = SubsidyRule(**values)
    db.session.add(rule)
    db.session.flush()
    return rule


def revise_rule(rule: SubsidyRule, values: dict[str, Any]) -> SubsidyRule:
    """Record a new version of `rule` taking effect later; the old version stays as it was."""
    effective_from = values.get("effective_from")
    if effective_from is None or effective_from <= rule.effective_from:
        raise SupportError(
            f"新版本的生效日期须晚于原版本的生效日期 {rule.effective_from.isoformat()}"
        )
    return create_rule({**values, "event": rule.event})


def set_rule_active(rule: SubsidyRule, active: bool) -> SubsidyRule:
    """Switch a rule version on or off; entries already made keep their amounts."""
    rule.is_active = active
    db.session.flush()
    return rule


# --- Entries granted by the rules ----------------------------------------------------------------


def _already_granted(firm_id: int, rule: SubsidyRule, trigger_key: str, related: int | None):
    stmt = select(SupportEntry.id).where(SupportEntry.firm_id == firm_id)
    if rules.once_per_firm(rule.event):
        stmt = stmt.join(SubsidyRule, SubsidyRule.id == SupportEntry.rule_id).where(
            SubsidyRule.event == rule.event
        )
        if related is not None:
            stmt = stmt.where(SupportEntry.related_firm_id == related)
    else:
        stmt = stmt.where(SupportEntry.rule_id == rule.id, SupportEntry.trigger_key == trigger_key)
    return db.session.scalar(stmt.limit(1)) is not None


def grant(
    firm_id: int, event: str, on: date, trigger_key: str, related_firm_id: int | None = None
) -> SupportEntry | None:
    """Create the claimable entry the rule in force for `event` gives, unless already given.

    Returns None when no active rule covers the date, or when the firm already has the entry
    (the same trigger, or for once-only events any earlier one).
    """
    rule = rule_for(event, on)
    if rule is None or _already_granted(firm_id, rule, trigger_key, related_firm_id):
        return None
    entry = SupportEntry(
        firm_id=firm_id,
        kind=rule.kind,
        title=rule.name,
        amount=rule.amount,
        granted_on=on,
        status="claimable",
        rule_id=rule.id,
        trigger_key=trigger_key,
        related_firm_id=related_firm_id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def is_first_certification(transition: StageTransition, certified_stage_id: int) -> bool:
    """Tell whether a move into `certified` gives the firm its first HTE certificate.

    It is not the first when the firm entered `certified` before (in any enrollment), or holds a
    certificate issued before this one (an imported or typed record; one known by its year alone
    counts when of an earlier year).
    """
    earlier_move = db.session.scalar(
        select(StageTransition.id)
        .where(
            StageTransition.firm_id == transition.firm_id,
            StageTransition.to_stage_id == certified_stage_id,
            StageTransition.id != transition.id,
            StageTransition.moved_on <= transition.moved_on,
        )
        .limit(1)
    )
    if earlier_move is not None:
        return False
    issued = transition.document_on or transition.moved_on
    earlier_certificate = db.session.scalar(
        select(Certificate.id)
        .where(
            Certificate.firm_id == transition.firm_id,
            Certificate.kind == HTE_KIND,
            # A certificate known by its year alone may be this very one, if of the same year.
            or_(
                and_(Certificate.issued_on_estimated.is_(False), Certificate.issued_on < issued),
                Certificate.issued_on < date(issued.year, 1, 1),
            ),
        )
        .limit(1)
    )
    return earlier_certificate is None


def _events(enrollment: Enrollment, stage: Stage, transition: StageTransition, firm: Firm):
    """Return (event, beneficiary firm) pairs the move triggers."""
    programme = enrollment.programme.code
    if programme == LISTING:
        event = rules.listing_event(stage.code)
        return [(event, firm)] if event else []
    if programme != HTE:
        return []
    if stage.code == "not_certified":
        return [(rules.NOT_CERTIFIED, firm)]
    if stage.code != "certified":
        return []
    incubator = firm.incubator if firm.incubator_id is not None else None
    if incubator is not None and incubator.is_deleted:
        incubator = None
    first = is_first_certification(transition, stage.id)
    return [
        (event, incubator if for_incubator else firm)
        for event, for_incubator in rules.certification_events(first, incubator is not None)
    ]


def _message(entry: SupportEntry, firm: Firm, beneficiary: Firm) -> str:
    amount = rules.describe_amount(entry.amount)
    if beneficiary.id != firm.id:
        return f"已为孵化器“{beneficiary.name}”生成可申领扶持：{entry.title}（{amount}）"
    return f"已生成可申领扶持：{entry.title}（{amount}）"


@stage_moved.connect
def _follow_move(programme: str, *, enrollment, transition, inputs) -> list[str]:
    return on_transition(enrollment, transition)


def on_transition(enrollment: Enrollment, transition: StageTransition) -> list[str]:
    """Create the claimable entries the subsidy rules attach to a move; return warnings."""
    stage = db.session.get(Stage, transition.to_stage_id)
    firm = db.session.get(Firm, transition.firm_id)
    warnings = []
    trigger_key = f"transition:{transition.id}"
    for event, beneficiary in _events(enrollment, stage, transition, firm):
        related = firm.id if beneficiary.id != firm.id else None
        entry = grant(beneficiary.id, event, transition.moved_on, trigger_key, related)
        if entry is not None:
            warnings.append(_message(entry, firm, beneficiary))
    return warnings


# --- Entries kept by hand ------------------------------------------------------------------------


def _check_entry(values: dict[str, Any]) -> None:
    if values.get("kind") not in rules.SUPPORT_KINDS:
        raise SupportError("请选择扶持类型")
    amount = values.get("amount")
    if amount is not None and amount < 0:
        raise SupportError("金额不能为负数")
    problems = rules.status_problems(
        values.get("status", ""), values.get("document_number"), values.get("paid_on")
    )
    if problems:
        raise SupportError("；".join(problems))


def _entry_values(values: dict[str, Any]) -> dict[str, Any]:
    values = {key: values[key] for key in ENTRY_FIELDS if key in values}
    if values.get("status") != "paid":
        values["paid_on"] = None
    return values


def add_entry(firm: Firm, values: dict[str, Any]) -> SupportEntry:
    """Record a support measure on the firm's ledger by hand."""
    values = _entry_values({"status": "claimable", **values})
    _check_entry(values)
    entry = SupportEntry(firm_id=firm.id, **values)
    db.session.add(entry)
    db.session.flush()
    return entry


def update_entry(entry: SupportEntry, values: dict[str, Any]) -> SupportEntry:
    """Change an entry; one a rule made keeps its kind and its link to the rule."""
    values = _entry_values(values)
    if entry.is_rule_made:
        values.pop("kind", None)
    merged = {key: getattr(entry, key) for key in ENTRY_FIELDS} | values
    _check_entry(merged)
    for key, value in values.items():
        setattr(entry, key, value)
    db.session.flush()
    return entry


def mark_applied(entry: SupportEntry) -> SupportEntry:
    """Record that the firm applied for a claimable entry."""
    if entry.status != "claimable":
        raise SupportError(f"该扶持当前为“{entry.status_label}”，只有可申领的扶持可标记为已申请")
    entry.status = "applied"
    db.session.flush()
    return entry


def mark_paid(entry: SupportEntry, document_number: str, paid_on: date | None) -> SupportEntry:
    """Record the payment of an entry with the document number and date it was paid on."""
    if entry.status == "paid":
        raise SupportError("该扶持已拨付")
    problems = rules.status_problems("paid", document_number, paid_on)
    if problems:
        raise SupportError("；".join(problems))
    entry.status = "paid"
    entry.document_number = document_number.strip()
    entry.paid_on = paid_on
    db.session.flush()
    return entry


def delete_entry(entry: SupportEntry) -> None:
    """Remove an entry made by hand; entries a rule made are kept (edit them instead)."""
    if entry.is_rule_made:
        raise SupportError("由扶持规则生成的记录不能删除，可修改其金额、状态或备注")
    db.session.delete(entry)
    db.session.flush()
