"""The life of a firm's high-tech certificates: recorded, replaced, lapsed, cancelled.

This module is the only writer of `Certificate` rows (crm/firms/models.py); every page and query
that asks whether a firm is certified reads them. A certificate is recorded from a batch's
result, a move into `certified` that no application backs, an imported provincial list, or an
administrator's entry. Recording a newer certificate replaces the firm's earlier valid ones; a
lapse or a cancellation ends the current one. Everything here flushes and never commits.
"""

from datetime import date

from sqlalchemy import select

from crm.certification import queries, rules
from crm.extensions import db
from crm.firms.models import Certificate
from crm.firms.rules import HTE_KIND, certificate_expiry, same_certificate


def record_certificate(
    firm_id: int,
    issued_on: date,
    number: str | None,
    source: str,
    *,
    application_id: int | None = None,
    transition_id: int | None = None,
    document: str | None = None,
    estimated: bool = False,
) -> tuple[Certificate, list[str]]:
    """Record the firm's certificate issued on `issued_on`; return it and warnings to show.

    A certificate already recorded for that day (or for that year with an estimated date) is
    brought up to date instead, so recording the same list twice changes nothing; a batch's
    result stays the source of the certificate it recorded. Earlier certificates still valid
    are replaced, ending on the new issue date if they had not expired by then. With
    `estimated`, only the year of `issued_on` is known: it never changes a recorded date.
    """
    number = (number or "").strip() or None
    certificate = _same(firm_id, issued_on, estimated)
    if certificate is None:
        certificate = Certificate(firm_id=firm_id, kind=HTE_KIND, status="valid")
        db.session.add(certificate)
    if certificate.issued_on is None or not estimated:
        certificate.issued_on = issued_on
        certificate.issued_on_estimated = estimated
        certificate.expires_on = certificate_expiry(issued_on)
    issued_on = certificate.issued_on
    certificate.number = number or certificate.number
    if certificate.source != "batch":
        certificate.source = source
    certificate.document = document or certificate.document
    certificate.application_id = application_id or certificate.application_id
    certificate.transition_id = transition_id or certificate.transition_id
    for earlier in _valid(firm_id, before=issued_on):
        earlier.status = "replaced"
        earlier.ended_on = issued_on if issued_on <= earlier.expires_on else None
    db.session.flush()
    warning = rules.certificate_number_warning(number) if number else None
    return certificate, [warning] if warning else []


def end_current_certificate(
    firm_id: int, status: str, on: date, *, reason: str | None = None, ground: str | None = None
) -> Certificate | None:
    """End the firm's latest valid certificate: `lapsed` at its expiry, or `cancelled` on `on`."""
    certificate = queries.current_certificate(firm_id)
    if certificate is None:
        return None
    certificate.status = status
    if status == "cancelled":
        certificate.ended_on = on
        certificate.reason = reason
        certificate.cancel_ground = ground
    db.session.flush()
    return certificate


def _same(firm_id: int, issued_on: date, estimated: bool) -> Certificate | None:
    """Return the certificate already recorded as the one issued on `issued_on`, if any."""
    recorded = list(
        db.session.scalars(
            select(Certificate).where(Certificate.firm_id == firm_id, Certificate.kind == HTE_KIND)
        )
    )
    index = same_certificate(
        [(c.issued_on, c.issued_on_estimated) for c in recorded], issued_on, estimated
    )
    return recorded[index] if index is not None else None


def _valid(firm_id: int, before: date) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate).where(
                Certificate.firm_id == firm_id,
                Certificate.kind == HTE_KIND,
                Certificate.status == "valid",
                Certificate.issued_on < before,
            )
        )
    )
