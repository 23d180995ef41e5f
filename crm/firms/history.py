"""A firm's recorded changes in words: which record, which field, old and new values in Chinese.

Every package whose tables the audit trail records for a firm registers how to describe them
(`describe`): the record's name, the labels of its coded columns, a one-line summary of a created
or deleted row, and whether the firm's own users see its history. Foreign keys shown by name
(`name_references`) are registered the same way. This module knows no other package.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, DateTime, Numeric, select

from crm.core import jsontext
from crm.core.audit import ACTIONS, AuditEntry
from crm.core.filters import format_datetime, format_wan
from crm.core.models import label_of
from crm.extensions import db


@dataclass(frozen=True)
class Entity:
    """How the history describes the rows of one table."""

    label: str
    model: type
    #: Coded columns: column → {code: label}.
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: A created or deleted row in a few words, from its recorded values.
    summary: Callable[[dict[str, Any]], str] | None = None


_entities: dict[str, Entity] = {}
#: Foreign keys shown by name: column → (model, attribute shown).
_references: dict[str, tuple[type, str]] = {}


def describe(entity: Entity) -> None:
    """Register how the history describes the rows of `entity.model`'s table."""
    _entities[entity.model.__tablename__] = entity


def name_references(column: str, model: type, attribute: str = "name") -> None:
    """Show the values of the foreign key `column` by the `attribute` of the `model` row."""
    _references[column] = (model, attribute)


def entity_label(table: str) -> str:
    """Return what the history calls the rows of `table`."""
    entity = _entities.get(table)
    return entity.label if entity else table


def reference_names(wanted: dict[str, set[int]]) -> dict[str, dict[int, str]]:
    """Resolve ids to names, one query per kind of reference."""
    names: dict[str, dict[int, str]] = {}
    for column, ids in wanted.items():
        if not ids or column not in _references:
            continue
        model, attr = _references[column]
        rows = db.session.execute(
            select(model.id, getattr(model, attr)).where(model.id.in_(sorted(ids)))
        )
        names[column] = {row[0]: row[1] for row in rows}
    return names


@dataclass(frozen=True)
class HistoryRow:
    """One audit entry in words."""

    at: datetime
    actor: str
    source: str
    entity: str
    action: str
    field: str
    old: str
    new: str
    summary: str


def history_rows(entries: Iterable[AuditEntry]) -> list[HistoryRow]:
    """Describe audit entries in Chinese, resolving referenced ids with one query per kind."""
    entries = list(entries)
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.action == "update" and entry.field in _references:
            for value in (entry.old_value, entry.new_value):
                if value and value.isdigit():
                    wanted.setdefault(entry.field, set()).add(int(value))
    names = reference_names(wanted)
    return [_describe(entry, names) for entry in entries]


def _describe(entry: AuditEntry, names: dict[str, dict[int, str]]) -> HistoryRow:
    entity = _entities.get(entry.entity)
    field_label, old, new, summary = "", "", "", ""
    if entry.action == "update" and entry.field:
        field_label = field_name(entry.entity, entry.field)
        old = format_value(entity, entry.field, entry.old_value, names)
        new = format_value(entity, entry.field, entry.new_value, names)
    else:
        summary = summarise(entity, entry.new_value or entry.old_value)
    return HistoryRow(
        at=entry.at,
        actor=entry.actor.name if entry.actor else "系统",
        source=entry.source_label,
        entity=entity_label(entry.entity),
        action=ACTIONS.get(entry.action, entry.action),
        field=field_label,
        old=old,
        new=new,
        summary=summary,
    )


def field_name(table: str, field: str) -> str:
    """Return what the history calls a column of `table`'s rows."""
    entity = _entities.get(table)
    name = label_of(entity.model, field) if entity else field
    return name.replace("（元）", "（万元）")


def format_values(table: str, values: Iterable[tuple[str, str | None]]) -> list[str]:
    """Show recorded values of `table`'s rows, (column, value as the audit trail keeps it), the
    way the history shows them: referenced ids resolved with one query per kind."""
    values = list(values)
    wanted: dict[str, set[int]] = {}
    for column, raw in values:
        if column in _references and raw and raw.isdigit():
            wanted.setdefault(column, set()).add(int(raw))
    names = reference_names(wanted)
    entity = _entities.get(table)
    return [format_value(entity, column, raw, names) for column, raw in values]


def format_value(
    entity: Entity | None, field: str, raw: str | None, names: dict[str, dict[int, str]]
) -> str:
    """Show one recorded value the way the pages show the column."""
    if raw is None or raw == "":
        return ""
    if field in _references and raw.isdigit():
        return names.get(field, {}).get(int(raw), f"#{raw}")
    if entity is not None and field in entity.codes:
        return entity.codes[field].get(raw, raw)
    model = entity.model if entity is not None else None
    column = model.__table__.columns.get(field) if model is not None else None
    kind = column.type if column is not None else None
    if isinstance(kind, Boolean):
        return "是" if raw == "true" else "否"
    if isinstance(kind, Numeric):
        try:
            return f"{format_wan(Decimal(raw))} 万元"
        except InvalidOperation:
            return raw
    if isinstance(kind, DateTime):
        try:
            return format_datetime(datetime.fromisoformat(raw))
        except ValueError:
            return raw
    return raw


def summarise(entity: Entity | None, snapshot: str | None) -> str:
    """Return a short description of a created or deleted row from its JSON snapshot."""
    try:
        values = jsontext.loads(snapshot or "{}")
    except ValueError:
        return ""
    if entity is not None and entity.summary is not None:
        return entity.summary(values)
    return values.get("name", "")


def coded(labels: Mapping[str, str], values: dict[str, Any], column: str) -> str:
    """Return the label of a coded value recorded in `values`, or the code itself."""
    code = values.get(column) or ""
    return labels.get(code, code)
