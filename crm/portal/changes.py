"""What a change request may change, and how its values read: the fields of each kind, the
record a request is about, the values as the audit trail encodes them, and their display (the
firm's history's, `crm.firms.history`, which already shows those very encodings).

A request keeps each field's old and new value as text (`crm.core.audit.encode`), so the
review compares the record's current value with the one the firm saw (a conflict), and the
approval decodes the new value back with the column's type.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from crm.core.audit import decode, encode
from crm.extensions import db
from crm.firms import history
from crm.firms.models import Firm, FirmContact, FirmYear, IPItem
from crm.firms.record_forms import YEAR_AMOUNTS, YEAR_COUNTS


@dataclass(frozen=True)
class Kind:
    """One kind of request: the model it changes and the fields a firm may propose."""

    model: type
    fields: tuple[str, ...]
    #: Fields a new row cannot do without: approving any field of a new row approves these.
    required: tuple[str, ...] = ()


#: How an empty value reads.
EMPTY = "（空）"

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


def table(kind: str) -> str:
    """Return the table a request of `kind` changes."""
    return KINDS[kind].model.__tablename__


def label(kind: str, field: str) -> str:
    """Return a field's name in Chinese, as the firm's history names it."""
    return history.field_name(table(kind), field)


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


@dataclass(frozen=True)
class Line:
    """One field of a request as the pages and the e-mail show it."""

    field: str
    label: str
    old: str
    new: str
    #: The record's value now (the review of an open request), else None.
    now: str | None
    decision: str | None
    conflict: bool


def lines(request, now: dict[str, str | None] | None = None, conflicts=()) -> list[Line]:
    """Return the request's fields in words, as the firm's history shows values, with the
    record's values `now` and the `conflicts` of the review when given."""
    items = request.items
    raw = [(i.field, i.old_value) for i in items] + [(i.field, i.new_value) for i in items]
    if now is not None:
        raw += [(i.field, now.get(i.field)) for i in items]
    shown = [text or EMPTY for text in history.format_values(table(request.kind), raw)]
    count = len(items)
    return [
        Line(
            field=item.field,
            label=label(request.kind, item.field),
            old=shown[n],
            new=shown[count + n],
            now=shown[2 * count + n] if now is not None else None,
            decision=item.decision,
            conflict=item.field in conflicts,
        )
        for n, item in enumerate(items)
    ]
