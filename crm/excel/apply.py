"""Write a dry run's plan: set-based inserts and updates, each change in the audit trail.

New rows are written in SQL straight from the stored plan (`crm.excel.creates`); the updates
and renames are read back here and written chunk by chunk. Thousands of rows go in a handful
of statements rather than one ORM object per row, so the session listener never sees them;
`BulkAudit` records them in the listener's own form, with the batch as the source. Renames go
through the certification service one by one (there are few), so the former name stays
searchable and a certified firm's change-report duty opens. Flushes, never commits: the job
that applies a batch commits once, or rolls everything back.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from crm.certification import changes
from crm.certification.models import Duty
from crm.core import bulk, clock
from crm.core.audit import AuditContext, BulkAudit, audit_source
from crm.excel import certificates, placements
from crm.excel.columns import KINDS
from crm.excel.creates import write_creates
from crm.excel.models import ImportRow
from crm.excel.plan import RowPlan, ip_key
from crm.excel.stored import stored_plans
from crm.extensions import db
from crm.firms.models import Firm, FirmContact, FirmYear, IPItem, Qualification
from crm.pipeline import summary

MODELS = {
    "firm_years": FirmYear,
    "firm_contacts": FirmContact,
    "ip_items": IPItem,
    "qualifications": Qualification,
    "certification_duties": Duty,
}
#: The stored rows written here in Python; creates are written in SQL (crm.excel.creates).
CHANGED = ("update", "rename")


class ImportRefused(Exception):
    """The plan cannot be applied as asked; the message is in Chinese."""


@dataclass
class Applied:
    """What applying a plan wrote."""

    counts: dict[str, int]
    firm_ids: set[int] = field(default_factory=set)


@bulk.collection_paused()
def apply_stored(
    batch,
    context: AuditContext,
    *,
    valid_only: bool = False,
    confirmed_renames: set[int] | None = None,
) -> Applied:
    """Write a batch's stored dry run, chunk by chunk; refuse errors unless valid_only.

    `confirmed_renames` holds the row numbers whose rename the user confirmed (None: all); a
    rename left unconfirmed is skipped with its row. All chunks are one transaction.
    """
    rejected = batch.counts.get("rejected", 0)
    if rejected and not valid_only:
        raise ImportRefused(
            f"有 {rejected} 行存在错误，未导入任何数据。请修改后重新上传，或选择“只导入无误的行”。"
        )
    counts = Counter(batch.counts)
    kind = KINDS[batch.kind]
    firm_ids = set()
    if kind.written_in_sql:
        firm_ids = write_creates(
            batch.id, kind, context, clock.utcnow(), batch.options.get("written")
        )
    for plans in stored_plans(batch.id, CHANGED if kind.written_in_sql else (*CHANGED, "create")):
        for row in plans:
            unconfirmed = confirmed_renames is not None and row.number not in confirmed_renames
            if row.action == "rename" and unconfirmed:
                row.action = "skipped"
                row.warn("", "更名未确认，本行未导入")
                counts["rename"] -= 1
                counts["skipped"] += 1
        firm_ids |= apply_rows(plans, context)
        _record_outcomes(batch.id, plans)
    # The bulk updates may move firms to another district, park, field or manager.
    summary.note_firms(db.session, firm_ids)
    return Applied(dict(counts), firm_ids)


def apply_rows(rows: list[RowPlan], context: AuditContext) -> set[int]:
    """Write planned updates and renames; return the ids of the firms touched.

    Creates are written in SQL beforehand (`crm.excel.creates`), except those of a kind whose
    records go through their own package (a reserve-pool list's placements).
    """
    rows = [row for row in rows if row.action in (*CHANGED, "create")]
    audit = BulkAudit(context)
    now = clock.utcnow()
    _rename(rows, context)
    _update_firms(rows, audit, now)
    _write_children(rows, audit, now)
    transitions = placements.write_placements(rows, context)
    certificates.write_certificates(rows, context, transitions)
    audit.write()
    db.session.flush()
    return {row.firm_id for row in rows if row.firm_id is not None}


def _record_outcomes(batch_id: int, rows: list[RowPlan]) -> None:
    """Record the renames the apply skipped in their stored rows."""
    bulk.update_rows(
        ImportRow.__table__,
        ("firm_id", "action", "issues"),
        ("batch_id", "row_number"),
        (
            (row.firm_id, row.action, [list(i) for i in row.issues] or None, batch_id, row.number)
            for row in rows
            if row.action == "skipped"
        ),
    )


def _rename(rows: list[RowPlan], context: AuditContext) -> None:
    today = clock.today()
    renamed = [row for row in rows if row.action == "rename" and row.new_name]
    if not renamed:
        return
    with audit_source(context.source, context.actor_id):
        for row in renamed:
            firm = db.session.get(Firm, row.firm_id)
            changes.rename_firm(firm, row.new_name, today, today)
        db.session.flush()


def _update_firms(rows: list[RowPlan], audit: BulkAudit, now) -> None:
    updates = [row for row in rows if row.action in ("update", "rename") and row.firm_values]
    groups: dict[frozenset, list[dict[str, Any]]] = defaultdict(list)
    for row in updates:
        groups[frozenset(row.firm_values)].append(
            {"id": row.firm_id, **row.firm_values, "updated_at": now}
        )
        for column, value in row.firm_values.items():
            audit.updated(
                "firms", row.firm_id, row.firm_id, column, row.firm_old.get(column), value
            )
    for params in groups.values():
        db.session.execute(update(Firm), params)


def _write_children(rows: list[RowPlan], audit: BulkAudit, now) -> None:
    inserts: dict[str, list[tuple[RowPlan, dict[str, Any]]]] = defaultdict(list)
    updates: dict[tuple[str, frozenset], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        firm_id = row.firm_id
        for table, _key, row_id, values, old in row.children:
            if table in (certificates.TABLE, placements.TABLE):
                continue  # recorded through certification and the pipeline
            if row_id is None:
                inserts[table].append(
                    (row, {"firm_id": firm_id, **values, "created_at": now, "updated_at": now})
                )
                continue
            updates[(table, frozenset(values))].append({"id": row_id, **values, "updated_at": now})
            for column, value in values.items():
                audit.updated(table, row_id, firm_id, column, old.get(column), value)
    for table, items in inserts.items():
        model = MODELS[table]
        params = _same_keys([_with_defaults(model, values) for _, values in items])
        _insert(model.__table__, params)
        ids = _inserted_ids(model, now)
        audit.created_rows(
            table,
            [(ids[_natural_key(model, values)], values["firm_id"], values) for values in params],
        )
    for (table, _columns), params in updates.items():
        db.session.execute(update(MODELS[table]), params)


def _natural_key(model, values) -> tuple:
    """Return what tells a new child row apart from the others of its firm (see the dry run)."""
    if model is FirmYear:
        return (values["firm_id"], values["year"])
    if model is Qualification:
        return (values["firm_id"], values["tier"], values["year"])
    if model is Duty:
        return (values["firm_id"], values["kind"], values["year"])
    if model is FirmContact:  # a row adds one contact to its firm at most
        return (values["firm_id"], values["name"])
    return (values["firm_id"], *ip_key(values))


def _inserted_ids(model, now) -> dict[tuple, int]:
    """Return the ids of the rows of `model` this apply inserted, by their natural key."""
    columns = {
        FirmYear: (FirmYear.firm_id, FirmYear.year),
        Qualification: (Qualification.firm_id, Qualification.tier, Qualification.year),
        IPItem: (IPItem.firm_id, IPItem.number, IPItem.kind, IPItem.title),
        Duty: (Duty.firm_id, Duty.kind, Duty.year),
        FirmContact: (FirmContact.firm_id, FirmContact.name),
    }[model]
    rows = db.session.execute(select(model.id, *columns).where(model.created_at == now))
    found = {}
    for row_id, *values in rows:
        values = dict(zip((c.key for c in columns), values, strict=True))
        found[_natural_key(model, values)] = row_id
    return found


def _insert(table, params: list[dict[str, Any]]) -> None:
    """Insert parameter sets that all have the same keys."""
    if params:
        keys = tuple(params[0])
        bulk.insert_rows(table, keys, [tuple(values.values()) for values in params])


def _same_keys(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every parameter set the same keys, so one INSERT statement takes them all."""
    keys = dict.fromkeys(key for values in params for key in values)
    return [{key: values.get(key) for key in keys} for values in params]


def _with_defaults(model, values: dict[str, Any]) -> dict[str, Any]:
    if model is IPItem:
        return {"status": "valid", "acquisition": "own", **values}
    return values
