"""Undo an applied import batch from its audit record: delete what it created, restore what it
changed, and refuse, saying where, when a later change touched the same record or field.

All or nothing: when any part cannot be undone, nothing is. The undo's own changes are in the
audit trail with the source `undo:<batch id>`. Flushes, never commits.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import aliased

from crm.accounts.models import User
from crm.core import clock, jsontext
from crm.core.audit import AuditContext, AuditEntry, BulkAudit, decode
from crm.core.bulk import chunks
from crm.core.filters import format_datetime
from crm.eligibility.models import Assessment
from crm.excel.models import ImportBatch
from crm.extensions import db
from crm.firms.history import entity_label
from crm.firms.models import Firm
from crm.pipeline import summary
from crm.pipeline.models import StageTransition

#: Children first, so no row is deleted while another still points at it.
DELETE_ORDER = (
    "certificates",
    "certification_duties",
    "enrollments",
    "change_reports",
    "firm_former_names",
    "firm_contacts",
    "firm_years",
    "ip_items",
    "qualifications",
    "firms",
)
#: Conflicts listed in the refusal before "等 N 处".
SHOWN_CONFLICTS = 20


class UndoRefused(Exception):
    """The batch cannot be undone; `reasons` say where, in Chinese."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("；".join(reasons))
        self.reasons = reasons


@dataclass
class Undone:
    """What the undo reverted."""

    deleted: int = 0
    restored: int = 0
    firm_ids: set[int] = field(default_factory=set)


def _entries(source: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.source == source).order_by(AuditEntry.id)
        )
    )


def conflicts(source: str, last_id: int, created_firms: set[int]) -> list[str]:
    """Return, in Chinese, every later change that stands in the way of undoing `source`."""
    mine, later = aliased(AuditEntry), aliased(AuditEntry)
    stmt = (
        select(later.entity, later.entity_id, later.firm_id, later.field, later.at, User.name)
        .join(mine, and_(mine.entity == later.entity, mine.entity_id == later.entity_id))
        .outerjoin(User, User.id == later.actor_id)
        .where(
            mine.source == source,
            later.id > last_id,
            or_(mine.action == "create", later.action == "delete", later.field == mine.field),
        )
        .distinct()
    )
    rows = list(db.session.execute(stmt))
    ids = sorted(created_firms)
    for chunk in chunks(ids):
        rows += db.session.execute(
            select(
                AuditEntry.entity,
                AuditEntry.entity_id,
                AuditEntry.firm_id,
                AuditEntry.field,
                AuditEntry.at,
                User.name,
            )
            .outerjoin(User, User.id == AuditEntry.actor_id)
            .where(AuditEntry.firm_id.in_(chunk), AuditEntry.id > last_id)
        )
    names = _firm_names({row[2] for row in rows if row[2] is not None})
    reasons = []
    for entity, _entity_id, firm_id, column, at, actor in dict.fromkeys(rows):
        what = entity_label(entity)
        if column:
            what += "的「" + _label(entity, column) + "」"
        reasons.append(
            f"「{names.get(firm_id, '未知企业')}」{what}在导入之后"
            f"（{format_datetime(at)}，{actor or '系统'}）又有修改"
        )
    reasons = list(dict.fromkeys(reasons))
    reasons += _blocking_references(created_firms)
    return reasons


def _blocking_references(created_firms: set[int]) -> list[str]:
    """Return the rows outside the audit trail that point at firms the batch created."""
    reasons = []
    ids = sorted(created_firms)
    for chunk in chunks(ids):
        for name, username in db.session.execute(
            select(Firm.name, User.username)
            .join(User, User.firm_id == Firm.id)
            .where(Firm.id.in_(chunk))
        ):
            reasons.append(f"已为导入的企业「{name}」开通企业账号 {username}")
    return reasons


def _firm_names(ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    ordered = sorted(ids)
    for chunk in chunks(ordered):
        names.update(db.session.execute(select(Firm.id, Firm.name).where(Firm.id.in_(chunk))).all())
    return names


def _label(entity: str, column: str) -> str:
    table = db.metadata.tables.get(entity)
    if table is None or column not in table.c:
        return column
    return table.c[column].info.get("label", column)


def undo_batch(batch: ImportBatch, actor_id: int | None) -> Undone:
    """Revert everything the batch wrote, or raise UndoRefused with every reason."""
    if batch.status != "applied":
        raise UndoRefused(["只有已导入的批次可以撤销"])
    entries = _entries(batch.source)
    created: dict[str, list[AuditEntry]] = defaultdict(list)
    updated: dict[tuple[str, int], dict[str, AuditEntry]] = defaultdict(dict)
    for entry in entries:
        if entry.action == "create":
            created[entry.entity].append(entry)
        elif entry.action == "update":
            # The earliest change of a field holds the value from before the batch.
            updated[(entry.entity, entry.entity_id)].setdefault(entry.field, entry)
    result = Undone()
    if not entries:
        return result
    created_firms = {e.entity_id for e in created.get("firms", [])}
    reasons = conflicts(batch.source, entries[-1].id, created_firms)
    if reasons:
        shown = reasons[:SHOWN_CONFLICTS]
        if len(reasons) > SHOWN_CONFLICTS:
            shown.append(f"等 {len(reasons)} 处")
        raise UndoRefused(shown)
    audit = BulkAudit(AuditContext(actor_id, f"undo:{batch.id}"))
    result.restored = _restore(updated, audit)
    # The stages an official list placed firms in (`crm.excel.placements`) go before the
    # enrollments they opened; transitions are not audited, their source names the batch.
    db.session.execute(delete(StageTransition).where(StageTransition.source == batch.source))
    result.deleted = _delete_created(created, created_firms, audit)
    audit.write()
    result.firm_ids = {
        e.firm_id for e in entries if e.firm_id is not None and e.firm_id not in created_firms
    }
    # Restored firm columns, deleted transitions and firms, all written past the flush.
    summary.note_firms(db.session, result.firm_ids | created_firms)
    batch.status = "undone"
    batch.undone_at = clock.utcnow()
    batch.undone_by_id = actor_id
    db.session.flush()
    return result


def _restore(updated: dict[tuple[str, int], dict[str, AuditEntry]], audit: BulkAudit) -> int:
    groups: dict[tuple[str, frozenset], list[dict[str, Any]]] = defaultdict(list)
    now = clock.utcnow()
    for (entity, entity_id), fields in updated.items():
        table = db.metadata.tables[entity]
        values = {column: decode(table.c[column], e.old_value) for column, e in fields.items()}
        for column, entry in fields.items():
            audit.updated(
                entity,
                entity_id,
                entry.firm_id,
                column,
                decode(table.c[column], entry.new_value),
                values[column],
            )
        # Bound names must differ from the column names, which SQLAlchemy keeps for itself.
        params = {"row_id": entity_id, **{f"v_{c}": v for c, v in values.items()}}
        groups[(entity, frozenset(values))].append(params)
    for (entity, columns), params in groups.items():
        table = db.metadata.tables[entity]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(f"v_{c}") for c in columns} | {"updated_at": now})
        )
        db.session.execute(stmt, params)
    return sum(len(fields) for fields in updated.values())


def _delete_created(
    created: dict[str, list[AuditEntry]], created_firms: set[int], audit: BulkAudit
) -> int:
    count = 0
    firm_ids = sorted(created_firms)
    for chunk in chunks(firm_ids):
        # Stored assessments are derived from the firm and go with it.
        db.session.execute(delete(Assessment).where(Assessment.firm_id.in_(chunk)))
    for entity in sorted(created, key=_delete_rank):
        table = db.metadata.tables[entity]
        entries = created[entity]
        ids = [e.entity_id for e in entries]
        for chunk in chunks(ids):
            db.session.execute(delete(table).where(table.c.id.in_(chunk)))
        for entry in entries:
            audit.deleted(entity, entry.entity_id, entry.firm_id, jsontext.loads(entry.new_value))
        count += len(entries)
    return count


def _delete_rank(entity: str) -> int:
    return DELETE_ORDER.index(entity) if entity in DELETE_ORDER else -1
