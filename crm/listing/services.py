"""Listing case use cases: keep the case details of a firm's listing-reserve enrollment.

The sponsor broker recorded on the case is what the gate into 券商签约 reads
(`gathering_move_facts`).
"""

from datetime import date
from typing import Any

from sqlalchemy import select

from crm.extensions import db
from crm.listing.models import ListingCase
from crm.pipeline import queries
from crm.pipeline.models import Enrollment
from crm.pipeline.rules import LISTING
from crm.pipeline.signals import gathering_move_facts

CASE_FIELDS = (
    "target_market",
    "neeq_tier",
    "sponsor_broker",
    "law_firm",
    "audit_firm",
    "stock_code",
    "notes",
)


def case_of(enrollment_id: int) -> ListingCase | None:
    """Return the listing case of an enrollment, if one was recorded."""
    return db.session.scalar(select(ListingCase).filter_by(enrollment_id=enrollment_id))


def save_case(enrollment: Enrollment, values: dict[str, Any]) -> ListingCase:
    """Create or update the listing case of a listing-reserve enrollment; flush."""
    case = case_of(enrollment.id)
    if case is None:
        case = ListingCase(enrollment_id=enrollment.id, firm_id=enrollment.firm_id)
        db.session.add(case)
    for name in CASE_FIELDS:
        value = values.get(name)
        setattr(case, name, value if value not in ("", None) else None)
    if case.target_market != "neeq":
        case.neeq_tier = None
    db.session.flush()
    return case


def sponsor_broker_of(enrollment_id: int) -> str:
    """Return the recorded sponsor broker of an enrollment, or an empty string."""
    case = case_of(enrollment_id)
    return (case.sponsor_broker or "") if case else ""


@gathering_move_facts.connect_via(LISTING)
def _case_facts(programme: str, *, firm, inputs, today: date) -> dict[str, Any]:
    """Tell the listing gates the sponsor broker of the firm's open listing enrollment."""
    current = queries.open_enrollment(firm.id, queries.programme(LISTING).id)
    return {"sponsor_broker": sponsor_broker_of(current.id) if current is not None else ""}
