"""Reading the certificate record: which firms held a valid certificate on a day.

`Certificate` rows are written by the certification package alone; every reader asks them here,
by the certificate's dates: valid from its issue date to its expiry, unless it ended earlier.
"""

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from crm.extensions import db
from crm.firms.models import Certificate, Firm
from crm.firms.rules import HTE_KIND


def valid_on(day: date, kind: str = HTE_KIND) -> ColumnElement[bool]:
    """Return the condition selecting the certificates of `kind` in force on `day`."""
    return and_(
        Certificate.kind == kind,
        Certificate.issued_on <= day,
        Certificate.expires_on >= day,
        or_(Certificate.ended_on.is_(None), Certificate.ended_on > day),
    )


def certified_condition(day: date, kind: str = HTE_KIND) -> ColumnElement[bool]:
    """Return the condition selecting the firms holding a valid certificate of `kind` on `day`."""
    return exists().where(Certificate.firm_id == Firm.id, valid_on(day, kind))


def firms_certified_on(
    firm_ids: Iterable[int], day: date, kind: str = HTE_KIND, session: Session | None = None
) -> set[int]:
    """Return those of `firm_ids` holding a valid certificate of `kind` on `day` (one query)."""
    ids = sorted(set(firm_ids))
    if not ids:
        return set()
    return set(
        (session or db.session).scalars(
            select(Certificate.firm_id)
            .where(Certificate.firm_id.in_(ids), valid_on(day, kind))
            .distinct()
        )
    )


def holds_certificate_on(firm_id: int, day: date, kind: str = HTE_KIND) -> bool:
    """Tell whether the firm held a valid certificate of `kind` on `day`."""
    return bool(firms_certified_on([firm_id], day, kind))
