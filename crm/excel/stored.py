"""A row's planned writes kept as JSON between the dry run and the apply, and read as changes.

The dry run stores what each row would write (`encode_writes`). When nothing has changed since,
the apply writes the stored creates in SQL (`crm.excel.creates` reads this very layout) and turns
the other stored rows back into plans (`decode_row`), instead of reading and checking the whole
workbook again; the pages describe the same writes as "field: old → new".
"""

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, select

from crm.certification.models import Duty
from crm.certification.rules import DUTY_KINDS
from crm.core.filters import format_wan
from crm.excel import contacts, placements
from crm.excel.models import ImportRow
from crm.excel.plan import RowPlan
from crm.extensions import db
from crm.firms import rules as firm_rules
from crm.firms.models import Certificate, Firm, FirmContact, FirmYear, IPItem, Qualification
from crm.pipeline.models import Stage
from crm.pipeline.rules import ENTRY_REASONS
from crm.reference.models import District, Industry, Park, TechField

TABLES = {
    "firms": Firm.__table__,
    "firm_years": FirmYear.__table__,
    contacts.TABLE: FirmContact.__table__,
    "ip_items": IPItem.__table__,
    "qualifications": Qualification.__table__,
    "certificates": Certificate.__table__,
    placements.TABLE: placements.COLUMNS,
    "certification_duties": Duty.__table__,
}
#: Stored rows read back together.
PAGE_ROWS = 2000
#: Columns the changes never show: bookkeeping the import sets by itself.
HIDDEN = frozenset({"uscc_check_accepted", "manager_id", "firm_id", "marked_by_id"})
REFERENCES = {
    "district_id": District,
    "park_id": Park,
    "industry_id": Industry,
    "tech_field_id": TechField,
    "stage_id": Stage,
}
CODE_LABELS = {
    ("ip_items", "kind"): {k: label for k, (label, _) in firm_rules.IP_KINDS.items()},
    ("ip_items", "status"): firm_rules.IP_STATUSES,
    ("ip_items", "acquisition"): firm_rules.ACQUISITION_MODES,
    ("qualifications", "tier"): {k: label for k, (label, _) in firm_rules.TIERS.items()},
    (placements.TABLE, "entry_reason"): ENTRY_REASONS,
    ("certification_duties", "kind"): DUTY_KINDS,
}


def encode_writes(row: RowPlan) -> dict[str, Any] | None:
    """Return what the row writes, for a JSON column, or None if nothing.

    The values stay as they are: the JSON columns' serialiser (`crm.core.jsontext`) writes
    dates as ISO text and Decimals as their exact text, which `decode_row` reads back.
    """
    writes: dict[str, Any] = {}
    if row.firm_values:
        writes["f"] = row.firm_values
    if row.firm_old:
        writes["o"] = row.firm_old
    if row.new_name:
        writes["n"] = [row.old_name, row.new_name]
    if row.children:
        writes["c"] = [
            [table, key, row_id, new, old] for table, key, row_id, new, old in row.children
        ]
    return writes or None


def _decoder(column):
    if isinstance(column.type, Numeric):
        return Decimal
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat
    if isinstance(column.type, Date):
        return date.fromisoformat
    return None


_DECODERS = {
    (name, column.name): decoder
    for name, table in TABLES.items()
    for column in table.columns
    if (decoder := _decoder(column)) is not None
}
#: Table → the decoders of its columns, for the decoding loop.
_TABLE_DECODERS = {
    name: {column: decoder for (table, column), decoder in _DECODERS.items() if table == name}
    for name in TABLES
}


def _decoded(table: str, values: dict[str, Any]) -> dict[str, Any]:
    if not values:
        return {}
    decoders = _TABLE_DECODERS[table]
    out = values.copy()
    for key in decoders.keys() & values.keys():
        value = values[key]
        if value is not None:
            out[key] = decoders[key](value)
    return out


def decode_row(row) -> RowPlan:
    """Return the plan of a stored row (an ImportRow, or a row of its columns)."""
    writes = row.writes or {}
    plan = RowPlan(row.row_number, row.action, row.firm_id, row.firm_name)
    plan.issues = [tuple(issue) for issue in row.issues or []]
    plan.firm_values = _decoded("firms", writes.get("f", {}))
    plan.firm_old = _decoded("firms", writes.get("o", {}))
    if writes.get("n"):
        plan.old_name, plan.new_name = writes["n"]
    plan.children = [
        (table, tuple(key), row_id, _decoded(table, new), _decoded(table, old))
        for table, key, row_id, new, old in writes.get("c", [])
    ]
    return plan


def stored_plans(batch_id: int, actions: tuple[str, ...] | None = None) -> Iterator[list[RowPlan]]:
    """Yield the stored rows of a batch (only those taking `actions`, if given) as plans, in
    row order, `PAGE_ROWS` at a time; each page is read after the previous one was used."""
    r = ImportRow
    query = select(r.row_number, r.action, r.firm_id, r.firm_name, r.writes, r.issues).where(
        r.batch_id == batch_id
    )
    if actions is not None:
        query = query.where(r.action.in_(actions))
    last = 0
    while True:
        rows = db.session.execute(
            query.where(r.row_number > last).order_by(r.row_number).limit(PAGE_ROWS)
        ).all()
        if not rows:
            return
        yield [decode_row(row) for row in rows]
        last = rows[-1].row_number


def changed_labels(row: RowPlan) -> list[str]:
    """Return the names of the fields a planned row changes, in order, once each."""
    labels = ["企业名称"] if row.new_name else []
    labels += [Describer.label("firms", c) for c in row.firm_values if c not in HIDDEN]
    for table, key, _row_id, new, _old in row.children:
        if table == contacts.TABLE:
            labels.append("联系人")
            continue
        year = key[1] if table == "firm_years" else None
        labels += [
            Describer.label(table, c, year)
            for c in new
            if c not in HIDDEN and not (table == "firm_years" and c == "year")
        ]
    return list(dict.fromkeys(labels))


# --- Shown as changes ---------------------------------------------------------------------------


class Describer:
    """Describe stored writes as (field, old, new) in the user's words, for one page of rows."""

    def __init__(self) -> None:
        self.names = {
            column: dict(db.session.execute(select(model.id, model.name)).all())
            for column, model in REFERENCES.items()
        }

    def show(self, table: str, column: str, value: Any) -> Any:
        """Return a stored value as the page shows it."""
        if value is None:
            return None
        if column in self.names:
            return self.names[column].get(value, value)
        if (table, column) in CODE_LABELS:
            return CODE_LABELS[(table, column)].get(value, value)
        if _DECODERS.get((table, column)) is Decimal:
            return f"{format_wan(Decimal(value))} 万元"
        if isinstance(value, bool):
            return "是" if value else "否"
        return value

    @staticmethod
    @cache
    def label(table: str, column: str, year: int | None = None) -> str:
        """Return the Chinese name of a column, with the year of a yearly figure."""
        text = TABLES[table].c[column].info.get("label", column).removesuffix("（元）")
        return f"{year} 年{text}" if year is not None else text

    def changes(self, writes: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
        """Return the changes a row's stored writes make."""
        if not writes:
            return []
        found = []
        if writes.get("n"):
            found.append(("企业名称", *writes["n"]))
        old = writes.get("o", {})
        for column, value in writes.get("f", {}).items():
            if column not in HIDDEN:
                found.append(
                    (
                        self.label("firms", column),
                        self.show("firms", column, old.get(column)),
                        self.show("firms", column, value),
                    )
                )
        for table, key, _row_id, new, before in writes.get("c", []):
            year = key[1] if table == "firm_years" else None
            for column, value in new.items():
                if column in HIDDEN or (table == "firm_years" and column == "year"):
                    continue
                if table == contacts.TABLE:
                    label = self.contact_label(column, key[1])
                else:
                    label = self.label(table, column, year)
                found.append(
                    (
                        label,
                        self.show(table, column, before.get(column)),
                        self.show(table, column, value),
                    )
                )
        return found

    @staticmethod
    def contact_label(column: str, person: str) -> str:
        """Return what a change to a contact is called: 联系人, or 联系人（张三）联系电话."""
        if column == "name":
            return "联系人"
        return f"联系人（{person}）{contacts.LABELS[column]}"
