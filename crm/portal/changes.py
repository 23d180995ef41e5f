"""What a change request may change, and how its values read: the fields of each kind, the
record a request is about, the values as the audit trail encodes them, and their display.

A request keeps each field's old and new value as text (`crm.core.audit.encode`), so the
review compares the record's current value with the one the firm saw (a conflict), and the
approval decodes the new value back with the column's type.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from crm.core.audit import decode, encode
from crm.core.filters import format_wan
from crm.core.models import label_of
from crm.extensions import db
from crm.firms import rules as firm_rules
from crm.firms.models import Firm, FirmContact, FirmYear, IPItem
from crm.firms.record_forms import YEAR_AMOUNTS, YEAR_COUNTS
from crm.reference.models import Industry, TechField


@dataclass(frozen=True)
class Kind:
    """One kind of request: the model it changes and the fields a firm may propose."""

    model: type
    fields: tuple[str, ...]
    #: Fields a new row cannot do without: approving any field of a new row approves these.
    required: tuple[str, ...] = ()


KINDS = {
    "profile": Kind(
        Firm,
        (
            "name",
            "legal_representative",
            "established_on",
            "registered_capital",
            "address",
            "industry_id",
            "tech_field_id",
        ),
    ),
    "contact": Kind(FirmContact, ("name", "role", "phone", "email"), ("name",)),
    "year": Kind(FirmYear, ("year", *YEAR_AMOUNTS, *YEAR_COUNTS), ("year",)),
    "ip": Kind(
        IPItem,
        ("kind", "number", "title", "granted_on", "status", "acquisition"),
        ("kind", "title"),
    ),
}
#: Amounts kept in yuan and shown in 万元.
MONEY = frozenset({*YEAR_AMOUNTS, "registered_capital"})
#: Fields holding a code, shown by its label.
CODED = {
    ("ip", "kind"): {k: label for k, (label, _) in firm_rules.IP_KINDS.items()},
    ("ip", "status"): firm_rules.IP_STATUSES,
    ("ip", "acquisition"): firm_rules.ACQUISITION_MODES,
}
#: Fields holding a reference row's id, shown by its name.
REFERENCES = {"industry_id": Industry, "tech_field_id": TechField}


def label(kind: str, field: str) -> str:
    """Return a field's name in Chinese."""
    text = label_of(KINDS[kind].model, field)
    return f"{text}（万元）" if field in MONEY else text


def column(kind: str, field: str):
    """Return the column a field of `kind` is stored in."""
    return KINDS[kind].model.__table__.columns[field]


def encoded(values: dict[str, Any]) -> dict[str, str | None]:
    """Return values as a request keeps them."""
    return {field: encode(value) for field, value in values.items()}


def decoded(kind: str, field: str, text: str | None) -> Any:
    """Return a kept value in its column's type."""
    return decode(column(kind, field), text)


def current_row(kind: str, firm: Firm, target_id: int | None, year: int | None = None):
    """Return the record a request of `kind` is about now: the firm, the target row, a year of
    figures found by its year, or None for a row not (or no longer) there."""
    if kind == "profile":
        return firm
    model = KINDS[kind].model
    if target_id is not None:
        return db.session.scalar(
            select(model).where(model.id == target_id, model.firm_id == firm.id)
        )
    if kind == "year" and year is not None:
        return db.session.scalar(
            select(FirmYear).where(FirmYear.firm_id == firm.id, FirmYear.year == year)
        )
    return None


def values_of(kind: str, row) -> dict[str, str | None]:
    """Return the kept values of every field of `kind` on `row` (all empty for no row)."""
    fields = KINDS[kind].fields
    if row is None:
        return dict.fromkeys(fields)
    return {field: encode(getattr(row, field)) for field in fields}


def display(kind: str, field: str, text: str | None) -> str:
    """Return a kept value as the review and the firm read it."""
    if text is None or text == "":
        return "（空）"
    coded = CODED.get((kind, field))
    if coded is not None:
        return coded.get(text, text)
    if field in REFERENCES:
        name = db.session.scalar(
            select(REFERENCES[field].name).where(REFERENCES[field].id == int(text))
        )
        return name or text
    value = decoded(kind, field, text)
    if field in MONEY:
        return format_wan(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)
