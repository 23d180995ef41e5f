"""Read-side selects of certification: batches, a firm's applications and certificate, cohorts."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import extract, func, select
from sqlalchemy.orm import contains_eager, joinedload

from crm.certification import rules
from crm.certification.models import CertificationApplication, CertificationBatch, ChangeReport
from crm.extensions import db
from crm.firms.access import firm_scope
from crm.firms.models import Firm
from crm.firms.rules import certificate_expiry
from crm.pipeline import queries as pipeline_queries
from crm.pipeline.rules import HTE


@dataclass(frozen=True)
class Certificate:
    """A firm's high-tech certificate, from its application or, failing that, from the pipeline."""

    number: str
    issued_on: date
    expires_on: date
    #: The application that earned it; None for a certificate recorded only as a stage move.
    application: CertificationApplication | None = None


# --- Batches -------------------------------------------------------------------------------------


def batches() -> list[CertificationBatch]:
    """Return every batch, the latest year first."""
    return list(
        db.session.scalars(
            select(CertificationBatch).order_by(
                CertificationBatch.year.desc(), CertificationBatch.opens_on.desc()
            )
        )
    )


def open_batches(today: date) -> list[CertificationBatch]:
    """Return the batches taking applications on `today`, latest closing last."""
    return list(
        db.session.scalars(
            select(CertificationBatch)
            .where(CertificationBatch.opens_on <= today, CertificationBatch.closes_on >= today)
            .order_by(CertificationBatch.closes_on, CertificationBatch.id)
        )
    )


def batch_named(year: int, name: str) -> CertificationBatch | None:
    """Return the batch of `year` called `name`, if any."""
    return db.session.scalar(select(CertificationBatch).filter_by(year=year, name=name))


def application_counts(user) -> dict[int, int]:
    """Return how many applications of firms `user` may see each batch has."""
    rows = db.session.execute(
        select(CertificationApplication.batch_id, func.count(CertificationApplication.id))
        .join(Firm, Firm.id == CertificationApplication.firm_id)
        .where(firm_scope(user), Firm.deleted_at.is_(None))
        .group_by(CertificationApplication.batch_id)
    )
    return {batch_id: count for batch_id, count in rows}


def batch_applications(batch_id: int, user) -> list[CertificationApplication]:
    """Return the batch's applications of firms `user` may see, by firm name."""
    return list(
        db.session.scalars(
            select(CertificationApplication)
            .join(CertificationApplication.firm)
            .options(contains_eager(CertificationApplication.firm))
            .where(
                CertificationApplication.batch_id == batch_id,
                firm_scope(user),
                Firm.deleted_at.is_(None),
            )
            .order_by(Firm.name, CertificationApplication.id)
        )
    )


# --- A firm --------------------------------------------------------------------------------------


def firm_applications(firm_id: int) -> list[CertificationApplication]:
    """Return the firm's applications, the latest first."""
    return list(
        db.session.scalars(
            select(CertificationApplication)
            .where(CertificationApplication.firm_id == firm_id)
            .order_by(
                CertificationApplication.submitted_on.desc(), CertificationApplication.id.desc()
            )
        )
    )


def pending_application(enrollment_id: int) -> CertificationApplication | None:
    """Return the enrollment's application still waiting for a result, if any."""
    return db.session.scalar(
        select(CertificationApplication)
        .where(
            CertificationApplication.enrollment_id == enrollment_id,
            CertificationApplication.status.in_(("submitted", "review")),
        )
        .order_by(CertificationApplication.submitted_on.desc(), CertificationApplication.id.desc())
        .limit(1)
    )


def latest_certified_application(firm_id: int) -> CertificationApplication | None:
    """Return the firm's application with the latest certificate still marked certified."""
    return db.session.scalar(
        select(CertificationApplication)
        .where(
            CertificationApplication.firm_id == firm_id,
            CertificationApplication.status == "certified",
            CertificationApplication.issued_on.is_not(None),
        )
        .order_by(CertificationApplication.issued_on.desc(), CertificationApplication.id.desc())
        .limit(1)
    )


def current_certificate(firm_id: int) -> Certificate | None:
    """Return the firm's latest certificate not cancelled or lapsed, expired or not.

    The applications are the record; a certificate entered only as a stage move (a bureau head's
    override without a batch, or a history from before the certification cases) counts when no
    application records a certificate since and no later move cancelled or lapsed it.
    """
    moved = pipeline_queries.last_transition_into(firm_id, HTE, "certified")
    if (
        moved is not None
        and moved.document_on is not None
        and not _recorded_since(firm_id, moved.document_on)
        and not _ended_after(firm_id, moved)
    ):
        return Certificate(
            moved.document_number or "",
            moved.document_on,
            certificate_expiry(moved.document_on),
        )
    application = latest_certified_application(firm_id)
    if application is None:
        return None
    return Certificate(
        application.certificate_number or "",
        application.issued_on,
        application.expires_on or certificate_expiry(application.issued_on),
        application,
    )


def _recorded_since(firm_id: int, day: date) -> bool:
    return (
        db.session.scalar(
            select(CertificationApplication.id)
            .where(
                CertificationApplication.firm_id == firm_id,
                CertificationApplication.issued_on >= day,
            )
            .limit(1)
        )
        is not None
    )


def _ended_after(firm_id: int, certified) -> bool:
    for code in ("cancelled", "lapsed"):
        ended = pipeline_queries.last_transition_into(firm_id, HTE, code)
        if ended is not None and (ended.moved_on, ended.id) > (certified.moved_on, certified.id):
            return True
    return False


def cancelled_on(firm_id: int) -> date | None:
    """Return the last day the firm's high-tech qualification was cancelled, if ever."""
    recorded = db.session.scalar(
        select(func.max(CertificationApplication.result_on)).where(
            CertificationApplication.firm_id == firm_id,
            CertificationApplication.status == "cancelled",
        )
    )
    moved = pipeline_queries.last_transition_into(firm_id, HTE, "cancelled")
    days = [d for d in (recorded, moved.moved_on if moved else None) if d is not None]
    return max(days) if days else None


def applications_valid_on(firm_id: int, day: date) -> list[CertificationApplication]:
    """Return the firm's applications whose certificate covers `day` (status aside)."""
    return list(
        db.session.scalars(
            select(CertificationApplication).where(
                CertificationApplication.firm_id == firm_id,
                CertificationApplication.status.in_(("certified", "lapsed", "cancelled")),
                CertificationApplication.issued_on <= day,
                CertificationApplication.expires_on >= day,
            )
        )
    )


def certificate_years(firm_id: int) -> set[int]:
    """Return the years in which the firm's applications record an issued certificate."""
    issued = db.session.scalars(
        select(CertificationApplication.issued_on).where(
            CertificationApplication.firm_id == firm_id,
            CertificationApplication.issued_on.is_not(None),
        )
    )
    return {day.year for day in issued}


def change_reports(firm_id: int) -> list[ChangeReport]:
    """Return the firm's change reports, the latest change first."""
    return list(
        db.session.scalars(
            select(ChangeReport)
            .where(ChangeReport.firm_id == firm_id)
            .order_by(ChangeReport.changed_on.desc(), ChangeReport.id.desc())
        )
    )


# --- Re-certification cohort ---------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFilters:
    """What the cohort page narrows the certificates to."""

    year: int
    district_id: int | None = None
    manager_id: int | None = None


def expiry_years() -> list[int]:
    """Return the years in which some recorded certificate expires, the latest first."""
    year = extract("year", CertificationApplication.expires_on)
    rows = db.session.scalars(
        select(year)
        .where(CertificationApplication.status.in_(("certified", "lapsed")))
        .distinct()
        .order_by(year.desc())
    )
    return [int(y) for y in rows if y is not None]


def cohort(user, filters: CohortFilters) -> list[CertificationApplication]:
    """Return the certificates of firms `user` may see expiring in the year, by issue then name."""
    start, end = date(filters.year, 1, 1), date(filters.year, 12, 31)
    stmt = (
        select(CertificationApplication)
        .join(CertificationApplication.firm)
        .options(
            contains_eager(CertificationApplication.firm).options(
                joinedload(Firm.district), joinedload(Firm.manager)
            )
        )
        .where(
            CertificationApplication.status.in_(("certified", "lapsed")),
            CertificationApplication.expires_on.between(start, end),
            firm_scope(user),
            Firm.deleted_at.is_(None),
        )
        .order_by(
            CertificationApplication.issued_on,
            CertificationApplication.expires_on,
            Firm.name,
            CertificationApplication.id,
        )
    )
    if filters.district_id:
        stmt = stmt.where(Firm.district_id == filters.district_id)
    if filters.manager_id:
        stmt = stmt.where(Firm.manager_id == filters.manager_id)
    return list(db.session.scalars(stmt))


def applications_in_year(firm_ids: list[int], year: int) -> dict[int, CertificationApplication]:
    """Return, per firm, its latest application in a batch of `year` (the re-application)."""
    if not firm_ids:
        return {}
    rows = db.session.scalars(
        select(CertificationApplication)
        .join(CertificationBatch, CertificationBatch.id == CertificationApplication.batch_id)
        .where(
            CertificationApplication.firm_id.in_(firm_ids),
            CertificationBatch.year == year,
        )
        .order_by(CertificationApplication.submitted_on, CertificationApplication.id)
    )
    return {application.firm_id: application for application in rows}


@dataclass(frozen=True)
class CohortRow:
    """A certificate of the cohort, its days left and the firm's re-application, if any."""

    application: CertificationApplication
    days_left: int
    reapplication: CertificationApplication | None


@dataclass(frozen=True)
class CohortGroup:
    """The certificates of one issue year, headed e.g. "2023 年认定、2026 年到期"."""

    label: str
    rows: list[CohortRow]


def cohort_groups(user, filters: CohortFilters, today: date) -> list[CohortGroup]:
    """Return the cohort of the year's expiring certificates, grouped by issue year."""
    certificates = cohort(user, filters)
    again = applications_in_year(sorted({a.firm_id for a in certificates}), filters.year)
    groups: dict[int, CohortGroup] = {}
    for application in certificates:
        issued, expires = application.issued_on, application.expires_on
        group = groups.setdefault(issued.year, CohortGroup(rules.cohort_label(issued, expires), []))
        renewal = again.get(application.firm_id)
        group.rows.append(
            CohortRow(
                application,
                rules.days_left(expires, today),
                renewal if renewal is not None and renewal.id != application.id else None,
            )
        )
    return list(groups.values())
