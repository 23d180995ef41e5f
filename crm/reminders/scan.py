"""The daily scan: each rule in force makes its reminders with one set-based statement.

For every enabled rule, one INSERT ... SELECT writes the reminders the rule calls for today,
one row per (rule, record, recipient, period), and the unique key on those columns with
insert-or-ignore (ON CONFLICT DO NOTHING) makes a rerun, or a second worker scanning at the same
time, create nothing twice: no loop over firms in Python, no check-then-insert. Then two
statements close what no longer applies: the reminders of the rule whose record is settled (the
firm re-applied, the measure was done, the report filed), and those a later occasion of the
same record and recipient replaces (the 30-day notice replaces the 90-day one). Nothing is
deleted. A rule switched off closes its open reminders and makes none.

A reminder to a user the rule no longer addresses for its record (the firm has another manager,
the record another owner, a head left or a version dropped a recipient) is closed as
`unaddressed`. The rule's rows of the day already give the firm's new manager their own while
the record is within the rule's dates; a reminder past its last occasion (a deadline passed with
no overdue notice) would reach nobody, so what is still open moves to the manager or owner the
rule addresses now: a reminder of the same occasion, made for them (or theirs reopened, when
the firm went back to them), unless they have one open. One look off an index of a rule's open
reminders finds, most days, that there is nothing to do.

Offsets are compared in SQL with dates computed here (`due <= today + 30 days`), so no date
arithmetic runs in the database. A rule's occasion (its `period`) is the latest of its dates
that has passed: a scan that missed a day (the worker was down) still makes that occasion's
reminder the next day, and never an older one the newer replaces.

A scan that made reminders then queues, in the same transaction, the day's e-mail to each user
it reminded (`crm.reminders.email`).

Everything flushes and never commits: the periodic job or the command commits once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from crm.accounts.models import User
from crm.certification.models import (
    CertificationApplication,
    CertificationBatch,
    ChangeReport,
    Duty,
)
from crm.certification.queries import reapplied
from crm.coaching.models import Activity, CoachingMeasure, CoachingPlan
from crm.core import clock
from crm.core.database import insert_or_ignore
from crm.core.permissions import ADMIN, BUREAU_HEAD
from crm.extensions import db
from crm.firms.certificates import valid_on
from crm.firms.models import Certificate, Firm, Qualification
from crm.pipeline.models import Enrollment, Stage
from crm.reminders import rules
from crm.reminders.email import queue_for_scan
from crm.reminders.models import Reminder
from crm.reminders.rules import FIRM, OVERDUE, USER, RuleSettings, offset_period
from crm.reminders.services import rules_in_force, seed_rules
from crm.support.models import SupportEntry

#: The columns a rule's select gives, by these labels: the firm, the record, the occasion, the
#: date it is about, the firm's manager, and the record's own responsible user.
BASE_COLUMNS = ("firm_id", "record_id", "period", "due_on", "manager_id", "owner_id")
REMINDER_COLUMNS = [
    "rule_id",
    "kind",
    "firm_id",
    "record_type",
    "record_id",
    "recipient_kind",
    "recipient_id",
    "period",
    "due_on",
    "link_endpoint",
    "link_args",
    "created_at",
    "updated_at",
]
OPEN_MEASURE = ("planned", "in_progress")
PENDING_RESULT = ("submitted", "review")
ROLE_OF = {"bureau_heads": BUREAU_HEAD, "admins": ADMIN}


@dataclass(frozen=True)
class Candidates:
    """What a rule calls for today: a select of `BASE_COLUMNS`, and whether its reminders to
    users are one per record rather than one per firm (a batch's window to a manager)."""

    rows: Select
    per_record_users: bool = False


@dataclass(frozen=True)
class RuleScan:
    """What the scan did for one rule."""

    code: str
    label: str
    enabled: bool
    created: int
    closed: int
    superseded: int


# --- Occasions -----------------------------------------------------------------------------------


def _days(today: date, days: int) -> date:
    return today + timedelta(days=days)


def before(due, offsets, today: date, overdue: bool) -> tuple[ColumnElement, ColumnElement]:
    """Return the period and the condition of the reminders sent `offsets` days before `due`,
    and once it has passed if `overdue`: the latest occasion that has passed."""
    ks = sorted(offsets)
    whens = [(due < today, OVERDUE)] if overdue else []
    whens += [(due <= _days(today, k), offset_period(k)) for k in ks]
    window = and_(due >= today, due <= _days(today, ks[-1])) if ks else false()
    if overdue:
        window = or_(window, due < today)
    return _case(whens), window


def after(anchor, offsets, today: date) -> tuple[ColumnElement, ColumnElement]:
    """Return the period and the condition of the reminders sent `offsets` days after `anchor`."""
    ks = sorted(offsets, reverse=True)
    whens = [(anchor <= _days(today, -k), offset_period(k)) for k in ks]
    window = anchor <= _days(today, -ks[-1]) if ks else false()
    return _case(whens), window


def _case(whens) -> ColumnElement:
    if not whens:
        return cast(null(), String)
    return case(*whens, else_=null())


def _base(firm_id, record_id, period, due_on, manager_id, owner_id=None) -> list:
    values = (firm_id, record_id, period, due_on, manager_id, owner_id)
    typed = []
    for name, value in zip(BASE_COLUMNS, values, strict=True):
        if value is None:
            value = cast(null(), Date if name == "due_on" else Integer)
        typed.append(value.label(name))
    return typed


def _live(firm_id) -> ColumnElement:
    return exists().where(Firm.id == firm_id, Firm.deleted_at.is_(None))


# --- The rules -----------------------------------------------------------------------------------


def cert_expiring(s: RuleSettings, today: date) -> Candidates:
    """Valid high-tech certificates near their expiry whose firm has not re-applied: on 1 January
    of the expiry year and the offsets' days before the expiry."""
    due = Certificate.expires_on
    ks = sorted(s.offsets)
    year_end, year_start = date(today.year, 12, 31), date(today.year, 1, 1)
    # 1 January of the expiry year has passed when the (future) expiry falls in this year; it
    # is later than the k-day notice when the expiry is less than k days after 1 January.
    new_year = and_(true(), due <= year_end) if s.new_year else false()
    whens = []
    for k in ks:
        later = and_(new_year, due < _days(year_start, k))
        whens.append((due <= _days(today, k), case((later, "jan1"), else_=offset_period(k))))
    whens.append((new_year, "jan1"))
    window = due <= _days(today, ks[-1]) if ks else false()
    rows = (
        select(*_base(Certificate.firm_id, Certificate.id, _case(whens), due, Firm.manager_id))
        .join(Firm, Firm.id == Certificate.firm_id)
        .where(
            valid_on(today),
            Firm.deleted_at.is_(None),
            or_(window, new_year),
            ~reapplied(Certificate),
        )
    )
    return Candidates(rows)


def _still_certificate(today: date) -> ColumnElement:
    return exists().where(
        Certificate.id == Reminder.record_id, valid_on(today), ~reapplied(Certificate)
    )


def _duty(kind: str) -> Callable[[RuleSettings, date], Candidates]:
    def candidates(s: RuleSettings, today: date) -> Candidates:
        period, window = before(Duty.due_on, s.offsets, today, s.overdue)
        rows = (
            select(*_base(Duty.firm_id, Duty.id, period, Duty.due_on, Firm.manager_id))
            .join(Firm, Firm.id == Duty.firm_id)
            .where(Duty.kind == kind, Duty.filed_on.is_(None), Firm.deleted_at.is_(None), window)
        )
        return Candidates(rows)

    candidates.__doc__ = f"Unfiled yearly reports ({kind}) near or past their deadline."
    return candidates


def _still_duty(today: date) -> ColumnElement:
    return exists().where(
        Duty.id == Reminder.record_id, Duty.filed_on.is_(None), Duty.due_on == Reminder.due_on
    )


def application_window(s: RuleSettings, today: date) -> Candidates:
    """Batches open for applications, to the firms in 一企一策辅导 that have not applied in them
    and to their managers: when the batch opens and the offsets' days before it closes."""
    batch = CertificationBatch
    ks = sorted(s.offsets)
    whens = [(batch.closes_on <= _days(today, k), offset_period(k)) for k in ks]
    whens.append((true(), "open"))
    coaching = (
        select(Enrollment.firm_id)
        .join(Stage, Stage.id == Enrollment.stage_id)
        .where(Enrollment.closed_on.is_(None), Stage.code == "coaching")
    )
    rows = (
        select(*_base(Firm.id, batch.id, _case(whens), batch.closes_on, Firm.manager_id))
        .select_from(batch)
        .join(Firm, true())
        .where(
            batch.opens_on <= today,
            batch.closes_on >= today,
            Firm.id.in_(coaching),
            Firm.deleted_at.is_(None),
            ~exists().where(
                CertificationApplication.firm_id == Firm.id,
                CertificationApplication.batch_id == batch.id,
            ),
        )
    )
    return Candidates(rows, per_record_users=True)


def _still_window(today: date) -> ColumnElement:
    open_batch = exists().where(
        CertificationBatch.id == Reminder.record_id, CertificationBatch.closes_on >= today
    )
    applied = and_(
        Reminder.recipient_kind == FIRM,
        exists().where(
            CertificationApplication.firm_id == Reminder.recipient_id,
            CertificationApplication.batch_id == Reminder.record_id,
        ),
    )
    return and_(open_batch, ~applied)


def _measure_owner() -> ColumnElement:
    """A measure's owner: the user it names, else its plan's manager, else the firm's."""
    return func.coalesce(CoachingMeasure.owner_id, CoachingPlan.manager_id, Firm.manager_id)


def measure_due(s: RuleSettings, today: date) -> Candidates:
    """Open measures of active plans near or past their due date, to their owner (else the
    plan's manager, else the firm's)."""
    m = CoachingMeasure
    period, window = before(m.due_on, s.offsets, today, s.overdue)
    rows = (
        select(*_base(m.firm_id, m.id, period, m.due_on, Firm.manager_id, _measure_owner()))
        .join(CoachingPlan, CoachingPlan.id == m.plan_id)
        .join(Firm, Firm.id == m.firm_id)
        .where(
            m.status.in_(OPEN_MEASURE),
            m.due_on.is_not(None),
            CoachingPlan.status == "active",
            Firm.deleted_at.is_(None),
            window,
        )
    )
    return Candidates(rows)


def _still_measure(today: date) -> ColumnElement:
    m = CoachingMeasure
    return exists().where(
        m.id == Reminder.record_id,
        m.status.in_(OPEN_MEASURE),
        m.due_on == Reminder.due_on,
        exists().where(CoachingPlan.id == m.plan_id, CoachingPlan.status == "active"),
    )


def _no_contact_days(s: RuleSettings) -> int:
    return max(s.offsets) if s.offsets else 90


def no_contact(s: RuleSettings, today: date) -> Candidates:
    """Firms with an open enrollment and no activity logged for the rule's days, counted from
    the last activity (or the earliest open enrollment); the period is that date."""
    since = _days(today, -_no_contact_days(s))
    opened = (
        select(Enrollment.firm_id, func.min(Enrollment.opened_on).label("opened_on"))
        .where(Enrollment.closed_on.is_(None))
        .group_by(Enrollment.firm_id)
        .subquery()
    )
    last = (
        select(func.max(Activity.occurred_on)).where(Activity.firm_id == Firm.id).scalar_subquery()
    )
    anchor = func.coalesce(last, opened.c.opened_on)
    rows = (
        select(
            *_base(Firm.id, Firm.id, cast(anchor, String(10)), cast(null(), Date), Firm.manager_id)
        )
        .join(opened, opened.c.firm_id == Firm.id)
        .where(
            Firm.deleted_at.is_(None),
            opened.c.opened_on <= since,
            ~exists().where(Activity.firm_id == Firm.id, Activity.occurred_on > since),
        )
    )
    return Candidates(rows)


def _still_no_contact(s: RuleSettings, today: date) -> ColumnElement:
    since = _days(today, -_no_contact_days(s))
    return and_(
        exists().where(Enrollment.firm_id == Reminder.firm_id, Enrollment.closed_on.is_(None)),
        ~exists().where(Activity.firm_id == Reminder.firm_id, Activity.occurred_on > since),
    )


def change_report(s: RuleSettings, today: date) -> Candidates:
    """Recorded changes not marked reported, the offsets' days after the change."""
    c = ChangeReport
    period, window = after(c.changed_on, s.offsets, today)
    rows = (
        select(*_base(c.firm_id, c.id, period, c.due_on, Firm.manager_id))
        .join(Firm, Firm.id == c.firm_id)
        .where(c.reported_on.is_(None), Firm.deleted_at.is_(None), window)
    )
    return Candidates(rows)


def _still_change(today: date) -> ColumnElement:
    return exists().where(ChangeReport.id == Reminder.record_id, ChangeReport.reported_on.is_(None))


def tech_sme_registration(s: RuleSettings, today: date) -> Candidates:
    """From the window's opening each year, firms registered as tech-based SMEs last year and
    not yet this year; the period is the year."""
    opens = rules.month_day_in(today.year, s.month_day or "03-01")
    registered = Qualification.tier == "tech_sme"
    rows = select(
        *_base(
            Firm.id,
            Firm.id,
            literal(str(today.year), String),
            literal(opens, Date),
            Firm.manager_id,
        )
    ).where(
        literal(opens <= today),
        Firm.deleted_at.is_(None),
        exists().where(
            Qualification.firm_id == Firm.id, registered, Qualification.year == today.year - 1
        ),
        ~exists().where(
            Qualification.firm_id == Firm.id, registered, Qualification.year == today.year
        ),
    )
    return Candidates(rows)


def _still_tech_sme(today: date) -> ColumnElement:
    return and_(
        Reminder.period == str(today.year),
        ~exists().where(
            Qualification.firm_id == Reminder.firm_id,
            Qualification.tier == "tech_sme",
            Qualification.year == today.year,
        ),
    )


def listing_subsidy(s: RuleSettings, today: date) -> Candidates:
    """Listing-stage subsidies in the ledger that can be claimed."""
    e = SupportEntry
    rows = (
        select(*_base(e.firm_id, e.id, literal("claimable", String), e.granted_on, Firm.manager_id))
        .join(Firm, Firm.id == e.firm_id)
        .where(
            e.kind == "listing_subsidy",
            e.status == "claimable",
            e.granted_on <= today,
            Firm.deleted_at.is_(None),
        )
    )
    return Candidates(rows)


def _still_subsidy(today: date) -> ColumnElement:
    return exists().where(SupportEntry.id == Reminder.record_id, SupportEntry.status == "claimable")


def results_pending(s: RuleSettings, today: date) -> Candidates:
    """Applications still submitted or in review the offsets' days after their batch's public
    notice ended."""
    a, b = CertificationApplication, CertificationBatch
    period, window = after(b.notice_to, s.offsets, today)
    rows = (
        select(*_base(a.firm_id, a.id, period, b.notice_to, Firm.manager_id))
        .join(b, b.id == a.batch_id)
        .join(Firm, Firm.id == a.firm_id)
        .where(
            a.status.in_(PENDING_RESULT),
            b.notice_to.is_not(None),
            Firm.deleted_at.is_(None),
            window,
        )
    )
    return Candidates(rows)


def _still_pending(today: date) -> ColumnElement:
    return exists().where(
        CertificationApplication.id == Reminder.record_id,
        CertificationApplication.status.in_(PENDING_RESULT),
    )


def _follow_up_owner() -> ColumnElement:
    """A visit's follow-up owner: the user it names, else whoever logged the visit, else the
    firm's manager."""
    return func.coalesce(Activity.follow_up_owner_id, Activity.created_by_id, Firm.manager_id)


def follow_up_due(s: RuleSettings, today: date) -> Candidates:
    """Follow-ups of visits not done near or past their due date, to their owner (else whoever
    logged the visit, else the firm's manager)."""
    v = Activity
    period, window = before(v.follow_up_due_on, s.offsets, today, s.overdue)
    rows = (
        select(
            *_base(v.firm_id, v.id, period, v.follow_up_due_on, Firm.manager_id, _follow_up_owner())
        )
        .join(Firm, Firm.id == v.firm_id)
        .where(
            v.follow_up_due_on.is_not(None),
            v.follow_up.is_not(None),
            v.follow_up != "",
            v.follow_up_done.is_(False),
            Firm.deleted_at.is_(None),
            window,
        )
    )
    return Candidates(rows)


def _still_follow_up(today: date) -> ColumnElement:
    v = Activity
    return exists().where(
        v.id == Reminder.record_id,
        v.follow_up_done.is_(False),
        v.follow_up_due_on == Reminder.due_on,
    )


#: Each rule's candidates, and the condition, on a reminder row, that it still applies.
SCANS: dict[str, tuple[Callable, Callable[[RuleSettings, date], ColumnElement]]] = {
    "cert_expiring": (cert_expiring, lambda s, t: _still_certificate(t)),
    "annual_report": (_duty("annual_report"), lambda s, t: _still_duty(t)),
    "torch_statistics": (_duty("torch"), lambda s, t: _still_duty(t)),
    "application_window": (application_window, lambda s, t: _still_window(t)),
    "measure_due": (measure_due, lambda s, t: _still_measure(t)),
    "no_contact": (no_contact, _still_no_contact),
    "change_report": (change_report, lambda s, t: _still_change(t)),
    "tech_sme_registration": (tech_sme_registration, lambda s, t: _still_tech_sme(t)),
    "listing_subsidy": (listing_subsidy, lambda s, t: _still_subsidy(t)),
    "results_pending": (results_pending, lambda s, t: _still_pending(t)),
    "follow_up_due": (follow_up_due, lambda s, t: _still_follow_up(t)),
}


#: The owners of a rule's records, for the rules whose records name one (the others address
#: nobody as `owner`): a select of (record_id, owner_id) over every record.
OWNERS: dict[str, Callable[[], Select]] = {
    "measure_due": lambda: (
        select(CoachingMeasure.id.label("record_id"), _measure_owner().label("owner_id"))
        .join(CoachingPlan, CoachingPlan.id == CoachingMeasure.plan_id)
        .join(Firm, Firm.id == CoachingMeasure.firm_id)
    ),
    "follow_up_due": lambda: select(
        Activity.id.label("record_id"), _follow_up_owner().label("owner_id")
    ).join(Firm, Firm.id == Activity.firm_id),
}


# --- Recipients and the statements --------------------------------------------------------------


def _to_recipients(candidates: Candidates, recipients) -> list[Select]:
    """Return one select per kind of recipient over the rule's rows."""
    base = candidates.rows.subquery("candidates")
    per_record = candidates.per_record_users
    firm = cast(null(), Integer) if per_record else base.c.firm_id
    parts = []

    def to_users(user_id, *where, join_users=False):
        stmt = select(
            firm.label("firm_id"),
            base.c.record_id,
            literal(USER, String).label("recipient_kind"),
            user_id.label("recipient_id"),
            base.c.period,
            base.c.due_on,
        ).select_from(base)
        if join_users:
            stmt = stmt.join(User, true())
        stmt = stmt.where(base.c.period.is_not(None), *where)
        return stmt.distinct() if per_record else stmt

    for recipient in recipients:
        if recipient == "manager":
            parts.append(to_users(base.c.manager_id, base.c.manager_id.is_not(None)))
        elif recipient == "owner":
            parts.append(to_users(base.c.owner_id, base.c.owner_id.is_not(None)))
        elif recipient in ROLE_OF:
            role = ROLE_OF[recipient]
            parts.append(
                to_users(User.id, User.role == role, User.is_active.is_(True), join_users=True)
            )
        elif recipient == "firm":
            parts.append(
                select(
                    base.c.firm_id,
                    base.c.record_id,
                    literal(FIRM, String).label("recipient_kind"),
                    base.c.firm_id.label("recipient_id"),
                    base.c.period,
                    base.c.due_on,
                ).where(base.c.period.is_not(None), base.c.firm_id.is_not(None))
            )
    return parts


def reminder_rows(
    rule, candidates: Candidates, settings: RuleSettings, now: datetime
) -> Select | None:
    """Return the select of the reminder rows `rule` calls for with today's `candidates`, in a
    stable order (two scans at once then meet their rows in the same order), or None if it
    calls for none."""
    spec = rule.spec
    parts = _to_recipients(candidates, settings.recipients)
    if not parts:
        return None
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("rows")
    return select(
        literal(rule.id, Integer),
        literal(spec.code, String),
        rows.c.firm_id,
        literal(spec.record_type, String),
        rows.c.record_id,
        rows.c.recipient_kind,
        rows.c.recipient_id,
        rows.c.period,
        rows.c.due_on,
        literal(spec.endpoint, String),
        literal(spec.link, JSON),
        literal(now),
        literal(now),
    ).order_by(rows.c.record_id, rows.c.recipient_kind, rows.c.recipient_id, rows.c.period)


def _close(where, reason: str, now: datetime) -> int:
    stmt = (
        update(Reminder)
        .where(Reminder.closed_at.is_(None), *where)
        .values(closed_at=now, closed_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount


def _supersede(rule_id: int, now: datetime) -> int:
    later = aliased(Reminder)
    return _close(
        [
            Reminder.rule_id == rule_id,
            exists().where(
                later.rule_id == Reminder.rule_id,
                later.record_id == Reminder.record_id,
                later.recipient_kind == Reminder.recipient_kind,
                later.recipient_id == Reminder.recipient_id,
                later.id > Reminder.id,
            ),
        ],
        "superseded",
        now,
    )


# --- Recipients the rule no longer addresses ------------------------------------------------------


def _open() -> tuple[ColumnElement, ...]:
    return (Reminder.closed_at.is_(None), Reminder.done_at.is_(None))


@dataclass(frozen=True)
class Successor:
    """The one user a rule addresses as a recipient for a reminder's record: the rows that say
    who (`source`), joined to the reminder by `on`, and that user's id among them."""

    source: Any
    on: ColumnElement[bool]
    user_id: ColumnElement


def successor(recipient: str, code: str, candidates: Candidates) -> Successor | None:
    """Return who a rule addresses today as `recipient` for a reminder's record: the firm's
    manager, the record's owner; None when no one user is (a role, the managers of a batch's
    firms, an owner the record does not name)."""
    # Anonymous aliases, each call its own: a select may hold two (one joined, one in a NOT
    # EXISTS), and the second must not correlate with the first.
    if recipient == "manager" and not candidates.per_record_users:
        firm = aliased(Firm)
        return Successor(firm, firm.id == Reminder.firm_id, firm.manager_id)
    if recipient == "owner" and code in OWNERS:
        owners = OWNERS[code]().subquery()
        return Successor(owners, owners.c.record_id == Reminder.record_id, owners.c.owner_id)
    return None


def unaddressed(code: str, settings: RuleSettings, candidates: Candidates) -> list[ColumnElement]:
    """Return the conditions, on a reminder to a user, that the rule addresses that user for its
    record by none of its recipients: not as the firm's manager or the record's owner, not by an
    active user's role, not (a batch's window) as manager of a firm the batch reminds.

    Each is a NOT EXISTS, which the database runs as an anti-join: as scalar subqueries compared
    with the recipient, PostgreSQL's estimate passed its threshold for compiling the statement
    (JIT), which took longer than running it.
    """
    terms = []
    for recipient in settings.recipients:
        one = successor(recipient, code, candidates)
        if one is not None:
            terms.append(
                exists().select_from(one.source).where(one.on, one.user_id == Reminder.recipient_id)
            )
        elif recipient in ROLE_OF:
            terms.append(
                exists().where(
                    User.id == Reminder.recipient_id,
                    User.role == ROLE_OF[recipient],
                    User.is_active.is_(True),
                )
            )
        elif recipient == "manager":
            rows = candidates.rows.subquery()
            terms.append(
                exists().where(
                    rows.c.record_id == Reminder.record_id,
                    rows.c.manager_id == Reminder.recipient_id,
                )
            )
    return [~term for term in terms]


def _hand_over(rule, settings: RuleSettings, candidates: Candidates, now: datetime) -> int:
    """Give each open reminder to a user the rule no longer addresses to the user it addresses
    instead as the firm's manager or the record's owner, if they have no open one of the rule
    about that record: their own of that occasion, reopened if it was closed as not addressed to
    them (the firm went back to its manager), else a new one. Return how many were made."""
    spec = rule.spec
    left = unaddressed(spec.code, settings, candidates)
    moving = [
        select(Reminder.id.label("from_id"), one.user_id.label("to_id"))
        .join(one.source, one.on)
        .where(Reminder.rule_id == rule.id, Reminder.recipient_kind == USER, *_open(), *left)
        for recipient in settings.recipients
        if (one := successor(recipient, spec.code, candidates)) is not None
    ]
    if not moving:
        return 0
    moves = (union_all(*moving) if len(moving) > 1 else moving[0]).subquery("moves")
    source, theirs = aliased(Reminder), aliased(Reminder)
    targets = (
        select(moves.c.to_id, source)
        .join(source, source.id == moves.c.from_id)
        .where(
            moves.c.to_id.is_not(None),
            ~exists().where(
                theirs.rule_id == rule.id,
                theirs.record_id == source.record_id,
                theirs.recipient_kind == USER,
                theirs.recipient_id == moves.c.to_id,
                theirs.closed_at.is_(None),
                theirs.done_at.is_(None),
            ),
        )
    )
    key = tuple_(
        Reminder.rule_id,
        Reminder.record_id,
        Reminder.recipient_kind,
        Reminder.recipient_id,
        Reminder.period,
    )
    reopen = (
        update(Reminder)
        .where(
            key.in_(
                targets.with_only_columns(
                    source.rule_id,
                    source.record_id,
                    source.recipient_kind,
                    moves.c.to_id,
                    source.period,
                )
            ),
            Reminder.closed_reason == "unaddressed",
        )
        .values(closed_at=None, closed_reason=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(reopen)
    copies = targets.with_only_columns(
        source.rule_id,
        source.kind,
        source.firm_id,
        source.record_type,
        source.record_id,
        literal(USER, String),
        moves.c.to_id,
        source.period,
        source.due_on,
        source.link_endpoint,
        source.link_args,
        literal(now),
        literal(now),
    ).order_by(source.record_id, moves.c.to_id)
    insert = insert_or_ignore(
        Reminder, ["rule_id", "record_id", "recipient_kind", "recipient_id", "period"]
    )
    stmt = insert.from_select(REMINDER_COLUMNS, copies).execution_options(preserve_rowcount=True)
    return db.session.execute(stmt).rowcount


def scan_rule(rule, settings: RuleSettings, today: date, now: datetime) -> RuleScan:
    """Make the reminders of one rule for `today` and close those that no longer apply."""
    spec = rule.spec
    if not settings.enabled:
        closed = _close([Reminder.rule_id == rule.id], "disabled", now)
        return RuleScan(spec.code, spec.label, False, 0, closed, 0)
    created = 0
    candidates = SCANS[spec.code][0](settings, today)
    rows = reminder_rows(rule, candidates, settings, now)
    if rows is not None:
        insert = insert_or_ignore(
            Reminder, ["rule_id", "record_id", "recipient_kind", "recipient_id", "period"]
        )
        # psycopg reports an INSERT ... SELECT's row count only when asked to keep it.
        stmt = insert.from_select(REMINDER_COLUMNS, rows).execution_options(preserve_rowcount=True)
        created = db.session.execute(stmt).rowcount
    # Only a reminder created now can supersede an earlier one of its record.
    superseded = _supersede(rule.id, now) if created else 0
    still = SCANS[spec.code][1](settings, today)
    closed = _close([Reminder.rule_id == rule.id, ~still], "resolved", now)
    if "firm" not in settings.recipients:
        # A version that stopped telling firms: their reminders of the rule are not for them.
        kind = Reminder.recipient_kind == FIRM
        closed += _close([Reminder.rule_id == rule.id, kind], "unaddressed", now)
    # A user the rule no longer addresses for a record (another manager took the firm, the
    # record has a new owner, a head left): what is still open moves to whom it addresses now,
    # if the day's rows have not already given it to them; theirs is closed.
    # Most days there is none: one look, off the index of a rule's open reminders.
    left = [
        Reminder.rule_id == rule.id,
        Reminder.recipient_kind == USER,
        *_open(),
        *unaddressed(spec.code, settings, candidates),
    ]
    if db.session.scalar(select(exists().where(*left))):
        created += _hand_over(rule, settings, candidates, now)
        closed += _close(left, "unaddressed", now)
    return RuleScan(spec.code, spec.label, True, created, closed, superseded)


def copy_districts(now: datetime) -> int:
    """Give each open reminder its firm's district, new ones and those of a firm that moved;
    return how many changed."""
    firm_district = select(Firm.district_id).where(Firm.id == Reminder.firm_id).scalar_subquery()
    stmt = (
        update(Reminder)
        .where(
            Reminder.closed_at.is_(None),
            Reminder.done_at.is_(None),
            Reminder.firm_id.is_not(None),
            Reminder.district_id.is_distinct_from(firm_district),
        )
        .values(district_id=firm_district, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount


def scan(today: date | None = None) -> list[RuleScan]:
    """Run every rule in force on `today`, and queue the day's e-mail to the users it reminded;
    return what each rule did. Flushes, never commits."""
    today = today or clock.today()
    now = clock.utcnow()
    seed_rules()  # a rule added to the code since the last seeding
    # The reminders this scan makes are those above the largest id now, made `now`.
    after_id = db.session.scalar(select(func.max(Reminder.id))) or 0
    results = [scan_rule(item.rule, item.settings, today, now) for item in rules_in_force(today)]
    copy_districts(now)
    if any(item.created for item in results):
        # The day's e-mail to the users just reminded, in this same transaction.
        queue_for_scan(today, now, after_id)
    return results
