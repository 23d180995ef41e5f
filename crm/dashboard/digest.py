"""The weekly digest to each bureau head: the past week, and where the programmes stand.

Each Monday from `DIGEST_HOUR` (bureau time) the worker's task `dashboard.digest` queues one
message to every active bureau head with an e-mail address: the firms in each stage of each
programme now (`funnel.firms_per_stage`) and the stage moves recorded in the past week; the
certificates expiring in the next 90 days and whether each firm re-applied; the overdue yearly
reports and coaching measures; the certificates recorded in the week; the support paid in it;
and a link to the dashboard. The past week is the seven bureau days before that Monday.

The moves and the certificates of the week are those recorded in it (`StageTransition.at`,
`Certificate.created_at`), whatever day they take effect: a move imported from an official list
dated a month ago is news this week, and each move shows in exactly one digest. Support counts
by the day it was paid (`paid_on`).

The outbox keeps one message per recipient, kind `digest` and day, the week's Monday, so a
head gets the week's digest once however many workers or runs queue it. A worker that was down
on Monday morning sends it at its next run that week, up to Sunday: the day is still the
Monday, so it still goes once. Heads who have the week's message are left alone, and once every
head has it the figures are not computed at all: the task is offered every quarter of an hour
for the price of two small selects. With e-mail off nothing is computed or queued.

Each figure is one SQL statement over the whole city (bureau heads see every firm); a list
shows at most `LIST_LIMIT` rows and says how many more there are. Flushes, never commits.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from flask import current_app
from sqlalchemy import Integer, cast, distinct, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from crm.accounts.models import User
from crm.certification.duties import status_condition
from crm.certification.models import (
    APPLICATION_STATUSES,
    CertificationApplication,
    CertificationBatch,
    Duty,
)
from crm.certification.queries import latest_reapplication_id
from crm.certification.rules import DUTY_KINDS
from crm.coaching.models import CoachingMeasure, CoachingPlan
from crm.core import clock
from crm.core.permissions import BUREAU_HEAD
from crm.dashboard.funnel import StageCount, firms_per_stage
from crm.extensions import db
from crm.firms.certificates import valid_on
from crm.firms.models import Certificate, Firm
from crm.firms.rules import HTE_KIND
from crm.mail import links
from crm.mail.outbox import normalise_address, queue_message, queued_to
from crm.mail.settings import mail_enabled
from crm.pipeline.models import Programme, Stage, StageTransition
from crm.pipeline.rules import PROGRAMMES
from crm.support.models import SupportEntry
from crm.support.rules import SUPPORT_KINDS

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: The outbox kind of the digest (one per recipient and week, dated the week's Monday).
KIND = "digest"
#: Rows a list of the message shows at most; it says how many more there are.
LIST_LIMIT = 20
#: The overdue firms listed, most overdue items first.
OVERDUE_FIRMS = 10
#: How far ahead the expiring certificates are listed.
EXPIRY_DAYS = 90
#: Coaching measures still to be done (those of `crm.coaching`'s MEASURE_STATUSES).
OPEN_MEASURES = ("planned", "in_progress")
#: Certificates that come from records older than the certificates table are no news.
OLD_RECORDS = ("migrated",)


# --- The week ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """The week a digest covers: the seven bureau days before `monday`."""

    monday: date

    @property
    def first(self) -> date:
        """Return the first day covered, the Monday before."""
        return self.monday - timedelta(days=7)

    @property
    def last(self) -> date:
        """Return the last day covered, the Sunday before `monday`."""
        return self.monday - timedelta(days=1)

    @property
    def label(self) -> str:
        """Return the days covered, e.g. "2026-11-30 至 12-06" (the year again if it changes)."""
        last = "%m-%d" if self.last.year == self.first.year else "%Y-%m-%d"
        return f"{self.first:%Y-%m-%d} 至 {self.last.strftime(last)}"

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Return when the week began and ended, as naive UTC (how times are stored)."""
        return clock.day_start_utc(self.first), clock.day_start_utc(self.monday)


def due_week(now: datetime, hour: int) -> Week | None:
    """Return the week whose digest is due at `now` (naive UTC), or None before `hour` on Monday.

    From `hour` on Monday to the end of Sunday the digest of that Monday is due.
    """
    local = clock.to_local(now)
    monday = local.date() - timedelta(days=local.weekday())
    if local.weekday() == 0 and local.hour < hour:
        return None
    return Week(monday)


# --- The figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """How many moves into a stage, from another (None: the enrollment opened), were recorded."""

    from_stage: str | None
    to_stage: str
    moves: int


@dataclass(frozen=True)
class ProgrammeWeek:
    """A programme: its firms per stage now and the moves recorded in the week."""

    code: str
    name: str
    stages: list[StageCount]
    moves: list[Move]

    @property
    def moved(self) -> int:
        """Return the moves recorded in the week."""
        return sum(move.moves for move in self.moves)


@dataclass(frozen=True)
class Expiring:
    """A certificate expiring soon, and the firm's re-application if it made one."""

    firm: str
    expires_on: date
    days_left: int
    #: E.g. "2026 年第一批：已申报"; None when the firm has not re-applied.
    reapplication: str | None


@dataclass(frozen=True)
class Overdue:
    """Overdue items of one kind (a report of a year, coaching measures) and their firms."""

    label: str
    items: int
    firms: int


@dataclass(frozen=True)
class OverdueFirm:
    """A firm with overdue items, and its account manager."""

    firm: str
    manager: str | None
    items: int


@dataclass(frozen=True)
class NewCertificate:
    """A high-tech certificate recorded in the week."""

    firm: str
    number: str | None
    issued_on: date


@dataclass(frozen=True)
class Paid:
    """The support of one kind paid in the week: entries and yuan."""

    kind: str
    entries: int
    amount: Decimal


@dataclass(frozen=True)
class Capped(Generic[T]):
    """The first rows of a list and how many it has in all."""

    rows: list[T]
    total: int

    @property
    def more(self) -> int:
        """Return how many rows are left out."""
        return self.total - len(self.rows)


@dataclass(frozen=True)
class Digest:
    """Every figure of one week's digest; the same for every bureau head."""

    week: Week
    today: date
    programmes: list[ProgrammeWeek]
    expiring: Capped[Expiring]
    expiring_reapplied: int
    overdue: list[Overdue]
    overdue_firms: Capped[OverdueFirm]
    certificates: Capped[NewCertificate]
    paid: list[Paid]
    #: The dashboard's address, or None without `BASE_URL`.
    url: str | None

    @property
    def expiring_not_reapplied(self) -> int:
        """Return the expiring certificates whose firm has not re-applied."""
        return self.expiring.total - self.expiring_reapplied

    @property
    def paid_entries(self) -> int:
        """Return the support entries paid in the week."""
        return sum(item.entries for item in self.paid)

    @property
    def paid_amount(self) -> Decimal:
        """Return the yuan paid in the week."""
        return sum((item.amount for item in self.paid), Decimal(0))


def build_digest(week: Week, today: date, url: str | None = None) -> Digest:
    """Return the digest of `week` written on `today` (the states are those of `today`)."""
    moves = week_moves(week)
    programmes = [
        ProgrammeWeek(code, spec.name, firms_per_stage(code), moves.get(code, []))
        for code, spec in PROGRAMMES.items()
    ]
    expiring, reapplied = expiring_certificates(today)
    overdue, overdue_firms = overdue_items(today)
    return Digest(
        week=week,
        today=today,
        programmes=programmes,
        expiring=expiring,
        expiring_reapplied=reapplied,
        overdue=overdue,
        overdue_firms=overdue_firms,
        certificates=new_certificates(week),
        paid=support_paid(week),
        url=url,
    )


def _live():
    return Firm.deleted_at.is_(None)


def week_moves(week: Week) -> dict[str, list[Move]]:
    """Return per programme the moves recorded in the week, counted by from and to stage.

    In board order of the target stage, then of the stage left (the openings first).
    """
    source, target = aliased(Stage), aliased(Stage)
    start, end = week.utc_bounds()
    rows = db.session.execute(
        select(Programme.code, source.code, target.code, func.count())
        .select_from(StageTransition)
        .join(target, target.id == StageTransition.to_stage_id)
        .join(Programme, Programme.id == target.programme_id)
        .outerjoin(source, source.id == StageTransition.from_stage_id)
        .join(Firm, Firm.id == StageTransition.firm_id)
        .where(StageTransition.at >= start, StageTransition.at < end, _live())
        .group_by(Programme.code, source.code, target.code)
    )
    found: dict[str, list[tuple]] = {}
    for programme, left, entered, count in rows:
        found.setdefault(programme, []).append((left, entered, count))
    moves = {}
    for programme, items in found.items():
        spec = PROGRAMMES[programme]
        order = {stage.code: n for n, stage in enumerate(spec.stages)}
        items.sort(key=lambda item: (order[item[1]], -1 if item[0] is None else order[item[0]]))
        moves[programme] = [
            Move(spec.stage(left).name if left else None, spec.stage(entered).name, count)
            for left, entered, count in items
        ]
    return moves


def expiring_certificates(today: date) -> tuple[Capped[Expiring], int]:
    """Return the valid certificates expiring within `EXPIRY_DAYS` of `today`, soonest first,
    with each firm's latest re-application; and how many of them were re-applied for."""
    base = (
        select(
            Firm.name.label("firm"),
            Certificate.expires_on,
            latest_reapplication_id(Certificate).label("application_id"),
        )
        .join(Firm, Firm.id == Certificate.firm_id)
        .where(
            valid_on(today),
            Certificate.status == "valid",
            # The range lets the database use the index on (kind, expires_on).
            Certificate.expires_on <= today + timedelta(days=EXPIRY_DAYS),
            _live(),
        )
        .subquery()
    )
    application, batch = CertificationApplication, CertificationBatch
    rows = db.session.execute(
        select(
            base.c.firm,
            base.c.expires_on,
            application.status,
            batch.year,
            batch.name,
            func.count().over().label("total"),
            func.count(base.c.application_id).over().label("reapplied"),
        )
        .select_from(base)
        .outerjoin(application, application.id == base.c.application_id)
        .outerjoin(batch, batch.id == application.batch_id)
        .order_by(base.c.expires_on, base.c.firm)
        .limit(LIST_LIMIT)
    ).all()
    listed = [
        Expiring(
            row.firm,
            row.expires_on,
            (row.expires_on - today).days,
            f"{row.year} 年{row.name}：{APPLICATION_STATUSES.get(row.status, row.status)}"
            if row.status
            else None,
        )
        for row in rows
    ]
    total, reapplied = (rows[0].total, rows[0].reapplied) if rows else (0, 0)
    return Capped(listed, total), reapplied


def _overdue_rows(today: date):
    """Return the subquery of every overdue item: its kind, year (reports) and firm."""
    reports = (
        select(Duty.kind.label("kind"), Duty.year.label("year"), Duty.firm_id.label("firm_id"))
        .join(Firm, Firm.id == Duty.firm_id)
        .where(status_condition("overdue", today), _live())
    )
    measures = (
        select(
            literal("measure").label("kind"),
            cast(null(), Integer).label("year"),
            CoachingMeasure.firm_id.label("firm_id"),
        )
        .join(CoachingPlan, CoachingPlan.id == CoachingMeasure.plan_id)
        .join(Firm, Firm.id == CoachingMeasure.firm_id)
        .where(
            CoachingMeasure.status.in_(OPEN_MEASURES),
            CoachingMeasure.due_on < today,
            CoachingPlan.status == "active",
            _live(),
        )
    )
    return union_all(reports, measures).subquery("overdue")


def overdue_items(today: date) -> tuple[list[Overdue], Capped[OverdueFirm]]:
    """Return the overdue reports (per kind and year) and coaching measures, and the firms with
    the most overdue items."""
    items = _overdue_rows(today)
    rows = db.session.execute(
        select(items.c.kind, items.c.year, func.count(), func.count(distinct(items.c.firm_id)))
        .group_by(items.c.kind, items.c.year)
        .order_by(items.c.kind, items.c.year)
    )
    reports, measures = [], []
    for kind, year, count, firms in rows:
        if kind == "measure":
            measures.append(Overdue("一企一策辅导措施", count, firms))
        else:
            reports.append(Overdue(f"{DUTY_KINDS.get(kind, kind)}（{year} 年度）", count, firms))
    items = _overdue_rows(today)
    per_firm = (
        select(items.c.firm_id, func.count().label("overdue")).group_by(items.c.firm_id).subquery()
    )
    firms = db.session.execute(
        select(Firm.name, User.name.label("manager"), per_firm.c.overdue, func.count().over())
        .join(Firm, Firm.id == per_firm.c.firm_id)
        .outerjoin(User, User.id == Firm.manager_id)
        .order_by(per_firm.c.overdue.desc(), Firm.name, Firm.id)
        .limit(OVERDUE_FIRMS)
    ).all()
    listed = [OverdueFirm(name, manager, count) for name, manager, count, _ in firms]
    return reports + measures, Capped(listed, firms[0][3] if firms else 0)


def new_certificates(week: Week) -> Capped[NewCertificate]:
    """Return the high-tech certificates recorded in the week, the latest issued first."""
    start, end = week.utc_bounds()
    rows = db.session.execute(
        select(Firm.name, Certificate.number, Certificate.issued_on, func.count().over())
        .join(Firm, Firm.id == Certificate.firm_id)
        .where(
            Certificate.kind == HTE_KIND,
            Certificate.created_at >= start,
            Certificate.created_at < end,
            Certificate.status != "cancelled",
            Certificate.source.not_in(OLD_RECORDS),
            _live(),
        )
        .order_by(Certificate.issued_on.desc(), Firm.name, Certificate.id)
        .limit(LIST_LIMIT)
    ).all()
    listed = [NewCertificate(name, number, issued_on) for name, number, issued_on, _ in rows]
    return Capped(listed, rows[0][3] if rows else 0)


def support_paid(week: Week) -> list[Paid]:
    """Return the support paid in the week, per kind in the ledger's order of kinds."""
    rows = db.session.execute(
        select(
            SupportEntry.kind,
            func.count(),
            func.coalesce(func.sum(SupportEntry.amount), 0),
        )
        .join(Firm, Firm.id == SupportEntry.firm_id)
        .where(
            SupportEntry.status == "paid",
            SupportEntry.paid_on >= week.first,
            SupportEntry.paid_on <= week.last,
            _live(),
        )
        .group_by(SupportEntry.kind)
    )
    found = {kind: (count, Decimal(amount)) for kind, count, amount in rows}
    order = list(SUPPORT_KINDS)
    return [
        Paid(SUPPORT_KINDS.get(kind, kind), *found[kind])
        for kind in sorted(found, key=lambda k: order.index(k) if k in order else len(order))
    ]


# --- The message ---------------------------------------------------------------------------------


def subject(week: Week) -> str:
    """Return the message's subject."""
    return f"科技企业培育 CRM：每周概况（{week.label}）"


def render(user: User, digest: Digest) -> tuple[str, str]:
    """Return the plain-text and HTML bodies of `digest` for `user`."""
    env = current_app.jinja_env
    context = {"user": user, "digest": digest, "expiry_days": EXPIRY_DAYS}
    text = env.get_template("emails/digest.txt").render(context)
    html = env.get_template("emails/digest.html").render(context)
    return text, html


def bureau_heads() -> list[User]:
    """Return the active bureau heads with an e-mail address."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == BUREAU_HEAD,
                User.is_active.is_(True),
                User.email.is_not(None),
                User.email != "",
            )
            .order_by(User.id)
        )
    )


def waiting_heads(week: Week) -> list[tuple[User, str]]:
    """Return the bureau heads, with their address, who have no digest of `week` yet."""
    heads = []
    for head in bureau_heads():
        try:
            heads.append((head, normalise_address(head.email)))
        except ValueError:
            # An address the outbox refuses: nothing can be sent to it.
            logger.warning("digest to user %s not queued: bad address", head.id)
    have = queued_to([address for _, address in heads], KIND, week.monday)
    return [(head, address) for head, address in heads if address not in have]


def queue_digests(now: datetime | None = None) -> int:
    """Queue the due week's digest to each bureau head who has not got it; return how many.

    Flushes, never commits.
    """
    if not mail_enabled():
        return 0
    now = now or clock.utcnow()
    week = due_week(now, int(current_app.config["DIGEST_HOUR"]))
    if week is None:
        return 0
    heads = waiting_heads(week)
    if not heads:
        return 0
    link = links.link_builder()
    url = link("dashboard.index", {}) if link else None
    digest = build_digest(week, clock.to_local(now).date(), url)
    queued = 0
    for head, address in heads:
        text, html = render(head, digest)
        message = queue_message(address, subject(week), text, html, kind=KIND, day=week.monday)
        queued += message is not None
    return queued
