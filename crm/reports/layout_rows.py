"""Gathering a layout's rows: the firm columns every layout shares, streamed in chunks, and what
each chunk of firms is given besides (yearly figures, the primary contact, IP counts, ratios).

A layout's own select (`layout_sources`) yields one row per firm with the firm's columns; the
rows come from the database `CHUNK` at a time, and each chunk's extras are read with one query
per kind of extra, so a roster of tens of thousands of firms never sits in memory whole and
never asks the database once per firm. Only the extras the shown columns need are read.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from crm.accounts.models import User
from crm.extensions import db
from crm.firms import rules as firm_rules
from crm.firms.access import firm_scope
from crm.firms.models import Firm, FirmContact, FirmYear, IPItem
from crm.reference.models import District, Industry, Park, TechField

#: Rows read and completed at a time.
CHUNK = 500
#: The yearly figures a layout may show, as `FirmYear` attributes.
YEARLY_FIELDS = (
    "total_revenue",
    "sales_revenue",
    "hightech_revenue",
    "rd_expense",
    "total_assets",
    "total_staff",
    "tech_staff",
)
#: The figures each ratio is computed from: (numerator, denominator, over every year or the last).
RATIOS = {
    "rd_ratio": ("rd_expense", "sales_revenue", True),
    "hightech_ratio": ("hightech_revenue", "total_revenue", False),
    "tech_staff_ratio": ("tech_staff", "total_staff", False),
}

Row = dict[Any, Any]
Filler = Callable[[list[Row]], None]

_Manager = aliased(User, name="firm_manager")


def firm_select(*columns, user: User, district_id: int | None) -> Select:
    """Return a select of `columns` plus the firm's own columns, over the live firms `user`
    reaches (in one district, if given), ordered by district and name.

    The select starts from `Firm`; the caller joins its own table and adds its conditions.
    """
    stmt = (
        select(
            Firm.id.label("firm_id"),
            Firm.name.label("name"),
            Firm.uscc.label("uscc"),
            District.name.label("district"),
            Park.name.label("park"),
            Industry.name.label("industry"),
            TechField.name.label("tech_field"),
            Firm.established_on.label("established_on"),
            Firm.legal_representative.label("legal_rep"),
            Firm.address.label("address"),
            _Manager.name.label("manager"),
            *columns,
        )
        .select_from(Firm)
        .outerjoin(District, District.id == Firm.district_id)
        .outerjoin(Park, Park.id == Firm.park_id)
        .outerjoin(Industry, Industry.id == Firm.industry_id)
        .outerjoin(TechField, TechField.id == Firm.tech_field_id)
        .outerjoin(_Manager, _Manager.id == Firm.manager_id)
        .where(firm_scope(user, every=True), Firm.deleted_at.is_(None))
        .order_by(
            District.sort_order.is_(None),
            District.sort_order,
            District.code,
            Firm.name,
            Firm.id,
        )
    )
    if district_id is not None:
        stmt = stmt.where(Firm.district_id == district_id)
    return stmt


def stream(stmt: Select, fillers: Iterable[Filler | None] = ()) -> Iterator[Row]:
    """Yield the rows of `stmt` as dicts, each chunk completed by `fillers` first."""
    fillers = [filler for filler in fillers if filler is not None]
    result = db.session.execute(stmt.execution_options(yield_per=CHUNK))
    for partition in result.mappings().partitions():
        rows = [dict(row) for row in partition]
        for filler in fillers:
            filler(rows)
        yield from rows


def _ids(rows: list[Row]) -> list[int]:
    return sorted({row["firm_id"] for row in rows})


# --- Extras --------------------------------------------------------------------------------------


def years_filler(keys: set[str], years: list[int]) -> Filler | None:
    """Return the filler of the yearly figures `keys` (and the ratios among them) need, or None.

    A figure lands in the row under (field, year); a ratio under its key.
    """
    fields = [f for f in YEARLY_FIELDS if f in keys]
    ratios = [key for key in RATIOS if key in keys]
    for key in ratios:
        numerator, denominator, _ = RATIOS[key]
        fields += [f for f in (numerator, denominator) if f not in fields]
    if not fields or not years:
        return None

    def fill(rows: list[Row]) -> None:
        found: dict[int, dict[tuple[str, int], Any]] = defaultdict(dict)
        stmt = select(FirmYear.firm_id, FirmYear.year, *(getattr(FirmYear, f) for f in fields))
        stmt = stmt.where(FirmYear.firm_id.in_(_ids(rows)), FirmYear.year.in_(years))
        for firm_id, year, *values in db.session.execute(stmt):
            for field, value in zip(fields, values, strict=True):
                found[firm_id][(field, year)] = value
        for row in rows:
            figures = found.get(row["firm_id"], {})
            row.update(figures)
            for key in ratios:
                row[key] = ratio_over(figures, *RATIOS[key], years)

    return fill


def ratio_over(
    figures: dict[tuple[str, int], Any], numerator: str, denominator: str, summed: bool, years
) -> float | None:
    """Return numerator ÷ denominator over the years both are known (or the last year only).

    None when no year has both, or the denominator is zero.
    """
    chosen = years if summed else years[-1:]
    top, bottom, known = Decimal(0), Decimal(0), False
    for year in chosen:
        a, b = figures.get((numerator, year)), figures.get((denominator, year))
        if a is None or b is None:
            continue
        top, bottom, known = top + Decimal(a), bottom + Decimal(b), True
    value = firm_rules.ratio(top, bottom) if known else None
    return None if value is None else float(value)


def contacts_filler(keys: set[str]) -> Filler | None:
    """Return the filler of the primary contact's name and phone, or None when not shown."""
    if not keys & {"contact", "phone"}:
        return None

    def fill(rows: list[Row]) -> None:
        contacts: dict[int, list] = defaultdict(list)
        stmt = (
            select(FirmContact.firm_id, FirmContact.name, FirmContact.phone, FirmContact.is_primary)
            .where(FirmContact.firm_id.in_(_ids(rows)))
            .order_by(FirmContact.firm_id, FirmContact.id)
        )
        for contact in db.session.execute(stmt):
            contacts[contact.firm_id].append(contact)
        for row in rows:
            primary = firm_rules.primary_contact(contacts.get(row["firm_id"], []))
            row["contact"] = primary.name if primary else None
            row["phone"] = primary.phone if primary else None

    return fill


def ip_filler(keys: set[str], before: Callable[[Row], date]) -> Filler | None:
    """Return the filler of the counts of Class I and II IP held before a day, or None.

    Counted as the certification counts them: valid, owned (not licensed), granted before the
    day `before(row)` gives (the application's date, say).
    """
    if not keys & {"ip_class_i", "ip_class_ii"}:
        return None

    def fill(rows: list[Row]) -> None:
        items: dict[int, list[tuple[str, date]]] = defaultdict(list)
        stmt = select(IPItem.firm_id, IPItem.kind, IPItem.granted_on).where(
            IPItem.firm_id.in_(_ids(rows)),
            IPItem.status == "valid",
            IPItem.acquisition != "license",
            IPItem.granted_on.is_not(None),
        )
        for firm_id, kind, granted_on in db.session.execute(stmt):
            items[firm_id].append((kind, granted_on))
        for row in rows:
            day = before(row)
            held = [firm_rules.ip_class(k) for k, granted in items[row["firm_id"]] if granted < day]
            row["ip_class_i"] = held.count("I")
            row["ip_class_ii"] = held.count("II")

    return fill
