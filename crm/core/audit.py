"""The audit trail: one mechanism records every change to audited models.

A session listener turns inserts, updates and deletes of `Audited` objects into `AuditEntry` rows in
the same transaction, so views, services and imports never write history by hand. Who made the
change and through which channel comes from the audit context: a request (the logged-in user,
source `web` unless the blueprint says otherwise), or an explicit `audit_source(...)` block in CLI
commands, jobs and imports.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_request_context
from sqlalchemy import ForeignKey, Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.core import bulk, clock, jsontext
from crm.extensions import db

#: Plus "import:<batch id>", "undo:<batch id>" and "portal:<change request id>".
SOURCES = ("web", "portal", "cli", "system")
ACTIONS = {"create": "新建", "update": "修改", "delete": "删除"}
#: Columns no entry records: the id names the row, and the timestamps are bookkeeping.
UNAUDITED = frozenset({"id", "created_at", "updated_at"})


@dataclass(frozen=True)
class AuditContext:
    """Who is changing data, and through which channel."""

    actor_id: int | None
    source: str


_context: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


@contextmanager
def audit_source(source: str, actor_id: int | None = None) -> Iterator[None]:
    """Attribute the changes flushed inside the block to `source` and `actor_id`."""
    token = _context.set(AuditContext(actor_id, source))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> AuditContext:
    """Return the audit context in force: explicit block, then request, then `system`."""
    explicit = _context.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        from flask_login import current_user

        actor = current_user.id if current_user and current_user.is_authenticated else None
        return AuditContext(actor, g.get("audit_source", "web"))
    return AuditContext(None, "system")


class Audited:
    """Mark a model whose changes are recorded; it must say which firm a row belongs to."""

    #: Columns whose changes are not worth recording.
    __audit_exclude__: frozenset[str] = frozenset()

    def audit_firm_id(self) -> int | None:
        """Return the id of the firm this row describes."""
        return getattr(self, "firm_id", None)


class AuditEntry(db.Model):
    """One recorded change: a created or deleted row, or one field of an updated row."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_firm_id_at", "firm_id", "at"),
        Index("ix_audit_entries_entity", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: `web`, `portal`, `cli`, `system`, `import:<batch id>`, `undo:<batch id>` or
    #: `portal:<change request id>` (a firm's request, approved).
    source: Mapped[str] = mapped_column(String(40), index=True)
    #: The table name of the changed row.
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    #: The firm the row describes, so a firm's history is one indexed lookup.
    firm_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(10))
    #: The column for an update; empty for a create or delete, which carry the whole row as JSON.
    field: Mapped[str | None] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    actor = db.relationship("User", lazy="joined")

    @property
    def source_label(self) -> str:
        """Return the channel in Chinese."""
        if self.source.startswith("import:"):
            return f"导入批次 {self.source.removeprefix('import:')}"
        if self.source.startswith("undo:"):
            return f"撤销导入批次 {self.source.removeprefix('undo:')}"
        if self.source.startswith("portal:"):
            return f"企业端申请 #{self.source.removeprefix('portal:')}"
        return {"web": "网页", "portal": "企业端", "cli": "命令行", "system": "系统"}.get(
            self.source, self.source
        )


def encode(value: Any) -> str | None:
    """Turn a column value into the text kept in the audit trail."""
    if value is None:
        return None
    # Imports encode hundreds of thousands of values: the common exact types go first.
    cls = value.__class__
    if cls is str:
        return value
    if cls is int:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return jsontext.dumps(value, sort_keys=True)
    return str(value)


def snapshot(values: dict[str, Any]) -> str:
    """Return the JSON text a create or delete entry keeps of a row's column values."""
    kept = {
        key: encode(value)
        for key, value in values.items()
        if value is not None and key not in UNAUDITED
    }
    return jsontext.dumps(kept, sort_keys=True)


def _row_snapshot(obj: Audited) -> str:
    # Read the instance dict, not the attributes: a deleted row must not be reloaded.
    state = inspect(obj)
    return snapshot({attr.key: state.dict.get(attr.key) for attr in state.mapper.column_attrs})


def decode(column, text: str | None) -> Any:
    """Turn the text kept in the audit trail back into a value of `column`'s type."""
    if text is None:
        return None
    python_type = column.type.python_type
    if python_type is bool:
        return text == "true"
    if python_type is datetime:
        return datetime.fromisoformat(text)
    if python_type is date:
        return date.fromisoformat(text)
    if python_type in (dict, list):
        return jsontext.loads(text)
    return python_type(text)


_BULK_COLUMNS = (
    "at",
    "actor_id",
    "source",
    "entity",
    "entity_id",
    "firm_id",
    "action",
    "field",
    "old_value",
    "new_value",
)


class BulkAudit:
    """Audit rows for changes written with set-based statements, which the listener never sees.

    Imports insert and update thousands of rows in a few statements; they describe each change
    here in the very form the listener uses, then `write` inserts the entries in one statement.
    """

    def __init__(self, context: AuditContext | None = None) -> None:
        self.context = context or current_context()
        self.at = clock.utcnow()
        self.rows: list[tuple] = []

    def _add(self, entity, entity_id, firm_id, action, field=None, old=None, new=None) -> None:
        at, actor_id, source = self.at, self.context.actor_id, self.context.source
        self.rows.append(
            (at, actor_id, source, entity, entity_id, firm_id, action, field, old, new)
        )

    def created_rows(self, entity: str, rows: list[tuple[int, int | None, dict]]) -> None:
        """Record created rows (id, firm id, values) whose values all have the same keys.

        Each entry keeps what `snapshot` keeps of the row; the keys are sorted once for all.
        """
        if not rows:
            return
        keys = sorted(key for key in rows[0][2] if key not in UNAUDITED)
        for entity_id, firm_id, values in rows:
            kept = {key: encode(values[key]) for key in keys if values[key] is not None}
            self._add(entity, entity_id, firm_id, "create", new=jsontext.dumps(kept))

    def updated(self, entity: str, entity_id: int, firm_id: int | None, field, old, new) -> None:
        """Record one changed field of a row (values as stored, not yet encoded)."""
        old, new = encode(old), encode(new)
        if old != new:
            self._add(entity, entity_id, firm_id, "update", field, old, new)

    def deleted(self, entity: str, entity_id: int, firm_id: int | None, values: dict) -> None:
        """Record a deleted row with the values it had."""
        self._add(entity, entity_id, firm_id, "delete", old=snapshot(values))

    def write(self) -> None:
        """Insert the recorded entries in the current transaction."""
        bulk.insert_rows(AuditEntry.__table__, _BULK_COLUMNS, self.rows)
        self.rows = []


def _changes(obj: Audited) -> Iterator[tuple[str, str | None, str | None]]:
    state = inspect(obj)
    skip = UNAUDITED | obj.__audit_exclude__
    for attr in state.mapper.column_attrs:
        if attr.key in skip:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = encode(history.deleted[0]) if history.deleted else None
        new = encode(history.added[0]) if history.added else None
        if old != new:
            yield attr.key, old, new


def entries_for_flush(session: Session) -> list[dict[str, Any]]:
    """Return the audit rows describing what this flush writes."""
    context = current_context()
    now = clock.utcnow()
    rows: list[dict[str, Any]] = []

    def add(obj: Audited, action: str, field=None, old=None, new=None) -> None:
        rows.append(
            {
                "at": now,
                "actor_id": context.actor_id,
                "source": context.source,
                "entity": obj.__tablename__,
                "entity_id": inspect(obj).dict["id"],
                "firm_id": obj.audit_firm_id(),
                "action": action,
                "field": field,
                "old_value": old,
                "new_value": new,
            }
        )

    for obj in session.new:
        if isinstance(obj, Audited):
            add(obj, "create", new=_row_snapshot(obj))
    for obj in session.dirty:
        if isinstance(obj, Audited) and obj not in session.deleted:
            for field, old, new in _changes(obj):
                add(obj, "update", field, old, new)
    for obj in session.deleted:
        if isinstance(obj, Audited):
            add(obj, "delete", old=_row_snapshot(obj))
    return rows


@event.listens_for(Session, "after_flush")
def _record(session: Session, flush_context) -> None:
    rows = entries_for_flush(session)
    if rows:
        session.connection().execute(AuditEntry.__table__.insert(), rows)


def _keep_old_value(target, value, oldvalue, initiator):
    return value


@event.listens_for(Audited, "mapper_configured", propagate=True)
def _load_old_values(mapper, class_) -> None:
    # An attribute expired by a commit would otherwise be replaced without its old value being read.
    for attr in mapper.column_attrs:
        if attr.key not in UNAUDITED:
            event.listen(
                getattr(class_, attr.key), "set", _keep_old_value, active_history=True, retval=True
            )
