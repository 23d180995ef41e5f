"""Read-side selects of certification: batches, a firm's applications and certificate, cohorts."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, extract, func, select
from sqlalchemy.orm import contains_eager, joinedload

from crm.certification import rules
from crm.certification.models import CertificationApplication, CertificationBatch, ChangeReport
from crm.core.web import Page, paginate
from crm.extensions import db
from crm.firms.access import firm_ids_in_reach, firm_scope
from crm.firms.models import Certificate, Firm
from crm.firms.rules import HTE_KIND
from crm.pipeline import queries as pipeline_queries
from crm.pipeline.rules import HTE

#: Rows fetched from the database at a time by an unpaged read.
_CHUNK = 2000
#: Certificates that belong to the re-certification cohort of their expiry year: all but the
#: cancelled (a replaced one shows the firm's re-certification).
COHORT_STATUSES = ("valid", "replaced", "lapsed")
#: The results of an application that show its firm re-applied: pending, or certified again.
REAPPLIED_STATUSES = ("submitted", "review", "certified")


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
        .where(firm_ids_in_reach(user, CertificationApplication.firm_id))
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
    """Return the firm's latest certificate still marked valid, expired or not."""
    return db.session.scalar(
        select(Certificate)
        .where(
            Certificate.firm_id == firm_id,
            Certificate.kind == HTE_KIND,
            Certificate.status == "valid",
        )
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        .limit(1)
    )


def cancelled_on(firm_id: int) -> date | None:
    """Return the last day the firm's high-tech qualification was cancelled, if ever.

    A cancellation ends the certificate it concerns; a move into `cancelled` for a firm with no
    recorded certificate (a head's override without an issue date) still counts.
    """
    ended = db.session.scalar(
        select(func.max(Certificate.ended_on)).where(
            Certificate.firm_id == firm_id,
            Certificate.kind == HTE_KIND,
            Certificate.status == "cancelled",
        )
    )
    moved = pipeline_queries.last_transition_into(firm_id, HTE, "cancelled")
    days = [d for d in (ended, moved.moved_on if moved else None) if d is not None]
    return max(days) if days else None


def change_reports(firm_id: int) -> list[ChangeReport]:
    """Return the firm's change reports, the latest change first."""
    return list(
        db.session.scalars(
            select(ChangeReport)
            .where(ChangeReport.firm_id == firm_id)
            .order_by(ChangeReport.changed_on.desc(), ChangeReport.id.desc())
        )
    )


# --- Re-application -----------------------------------------------------------------------------


def reapplications(certificate=Certificate) -> Select:
    """Return the select of the ids of the applications by which the firm of `certificate` (the
    table or an alias, correlated) re-applied: made after its issue, pending or certified."""
    return select(CertificationApplication.id).where(
        CertificationApplication.firm_id == certificate.firm_id,
        CertificationApplication.submitted_on > certificate.issued_on,
        CertificationApplication.status.in_(REAPPLIED_STATUSES),
    )


def reapplied(certificate=Certificate) -> ColumnElement[bool]:
    """Return the condition that the firm of `certificate` re-applied (`reapplications`)."""
    return reapplications(certificate).exists()


def latest_reapplication_id(certificate=Certificate):
    """Return the id of the firm's latest re-application after `certificate`, or NULL."""
    return (
        reapplications(certificate)
        .order_by(CertificationApplication.submitted_on.desc(), CertificationApplication.id.desc())
        .limit(1)
        .scalar_subquery()
    )


# --- Re-certification cohort ---------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFilters:
    """What the cohort page narrows the certificates to."""

    year: int
    district_id: int | None = None
    manager_id: int | None = None


def expiry_years() -> list[int]:
    """Return the years in which some certificate expires, the latest first."""
    year = extract("year", Certificate.expires_on)
    rows = db.session.scalars(
        select(year)
        .where(Certificate.kind == HTE_KIND, Certificate.status.in_(COHORT_STATUSES))
        .distinct()
        .order_by(year.desc())
    )
    return [int(y) for y in rows if y is not None]


def cohort_select(user, filters: CohortFilters):
    """Return the select of the certificates of firms `user` may see expiring in the year, by
    issue then name.

    Certificates valid, lapsed or replaced by a re-certification count; a cancelled one does not
    belong to the year's cohort any more.
    """
    start, end = date(filters.year, 1, 1), date(filters.year, 12, 31)
    stmt = (
        select(Certificate)
        .join(Certificate.firm)
        .options(
            contains_eager(Certificate.firm).options(
                joinedload(Firm.district), joinedload(Firm.manager)
            )
        )
        .where(
            Certificate.kind == HTE_KIND,
            Certificate.status.in_(COHORT_STATUSES),
            Certificate.expires_on.between(start, end),
            firm_scope(user),
            Firm.deleted_at.is_(None),
        )
        .order_by(Certificate.issued_on, Certificate.expires_on, Firm.name, Certificate.id)
    )
    if filters.district_id:
        stmt = stmt.where(Firm.district_id == filters.district_id)
    if filters.manager_id:
        stmt = stmt.where(Firm.manager_id == filters.manager_id)
    return stmt


def cohort(user, filters: CohortFilters) -> list[Certificate]:
    """Return every certificate of the cohort `user` may see (`cohort_select`)."""
    return list(db.session.scalars(cohort_select(user, filters)))


def cohort_page(user, filters: CohortFilters, number: int, per_page: int) -> Page:
    """Return one page of the cohort's certificates, without counting the whole cohort."""
    return paginate(cohort_select(user, filters), number, per_page)


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

    certificate: Certificate
    days_left: int
    reapplication: CertificationApplication | None


@dataclass(frozen=True)
class CohortGroup:
    """The certificates of one issue year, headed e.g. "2023 年认定、2026 年到期"."""

    label: str
    rows: list[CohortRow]


def cohort_groups(
    user, filters: CohortFilters, today: date, certificates: list[Certificate] | None = None
) -> list[CohortGroup]:
    """Return the cohort of the year's expiring certificates (or those of one page of it,
    `certificates`), grouped by issue year."""
    certificates_due = cohort(user, filters) if certificates is None else certificates
    again = applications_in_year(sorted({c.firm_id for c in certificates_due}), filters.year)
    groups: dict[int, CohortGroup] = {}
    for certificate in certificates_due:
        issued, expires = certificate.issued_on, certificate.expires_on
        group = groups.setdefault(issued.year, CohortGroup(rules.cohort_label(issued, expires), []))
        renewal = again.get(certificate.firm_id)
        group.rows.append(
            CohortRow(
                certificate,
                rules.days_left(expires, today),
                renewal
                if renewal is not None and renewal.id != certificate.application_id
                else None,
            )
        )
    return list(groups.values())


def cohort_rows(user, filters: CohortFilters, today: date) -> Iterator[CohortRow]:
    """Yield every row of the cohort `user` may see, in the page's order, unpaged: the
    certificates read a few thousand at a time, each batch with its re-applications."""
    result = db.session.scalars(cohort_select(user, filters)).yield_per(_CHUNK)
    for chunk in result.partitions():
        for group in cohort_groups(user, filters, today, list(chunk)):
            yield from group.rows


def count_cohort(user, filters: CohortFilters) -> int:
    """Return how many certificates the cohort `user` may see holds."""
    stmt = cohort_select(user, filters).with_only_columns(Certificate.id).order_by(None)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
