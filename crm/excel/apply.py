"""Write a dry run's plan: set-based inserts and updates, each change in the audit trail.

Thousands of rows go in a handful of statements rather than one ORM object per row, so the
session listener never sees them; `BulkAudit` records them in the listener's own form, with the
batch as the source. Renames go through the certification service one by one (there are few),
so the former name stays searchable and a certified firm's change-report duty opens. Flushes,
never commits: the job that applies a batch commits once, or rolls everything back.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update

from crm.certification import changes
from crm.core import clock
from crm.core.audit import AuditContext, BulkAudit, audit_source
from crm.excel.plan import Plan, RowPlan
from crm.extensions import db
from crm.firms.models import Firm, FirmYear, IPItem, Qualification

MODELS = {"firm_years": FirmYear, "ip_items": IPItem, "qualifications": Qualification}
WRITTEN = ("create", "update", "rename")


class ImportRefused(Exception):
    """The plan cannot be applied as asked; the message is in Chinese."""


@dataclass
class Applied:
    """What applying a plan wrote."""

    counts: dict[str, int]
    firm_ids: set[int] = field(default_factory=set)


def apply_plan(
    plan: Plan,
    context: AuditContext,
    *,
    valid_only: bool = False,
    confirmed_renames: set[int] | None = None,
) -> Applied:
    """Write the plan's creates, updates and confirmed renames; refuse errors unless valid_only.

    `confirmed_renames` holds the row numbers whose rename the user confirmed (None: all).
    A rename left unconfirmed is skipped with its row.
    """
    rejected = sum(row.action == "rejected" for row in plan.rows)
    if rejected and not valid_only:
        raise ImportRefused(
            f"有 {rejected} 行存在错误，未导入任何数据。请修改后重新上传，或选择“只导入无误的行”。"
        )
    for row in plan.rows:
        unconfirmed = confirmed_renames is not None and row.number not in confirmed_renames
        if row.action == "rename" and unconfirmed:
            row.action = "skipped"
            row.warn("", "更名未确认，本行未导入")
    rows = [row for row in plan.rows if row.action in WRITTEN]
    audit = BulkAudit(context)
    now = clock.utcnow()
    created = _create_firms([r for r in rows if r.action == "create" and r.firm_values], audit, now)
    _rename(rows, context)
    _update_firms(rows, audit, now)
    _write_children(rows, created, audit, now)
    audit.write()
    db.session.flush()
    firm_ids = {row.firm_id for row in rows if row.firm_id is not None}
    return Applied(plan.counts(), firm_ids)


def _create_firms(rows: list[RowPlan], audit: BulkAudit, now) -> dict[int, int]:
    """Insert the new firms; return their ids by row number."""
    if not rows:
        return {}
    defaults = {"is_above_scale": False, "is_incubator": False, "uscc_check_accepted": False}
    values = _same_keys(
        [{**defaults, **row.firm_values, "created_at": now, "updated_at": now} for row in rows]
    )
    ids = db.session.scalars(
        insert(Firm).returning(Firm.id, sort_by_parameter_order=True), values
    ).all()
    created = {}
    for row, firm_id, row_values in zip(rows, ids, values, strict=True):
        row.firm_id = firm_id
        created[row.number] = firm_id
        audit.created("firms", firm_id, firm_id, row_values)
    return created


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


def _write_children(rows: list[RowPlan], created: dict[int, int], audit: BulkAudit, now) -> None:
    inserts: dict[str, list[tuple[RowPlan, dict[str, Any]]]] = defaultdict(list)
    updates: dict[tuple[str, frozenset], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        firm_id = row.firm_id if row.firm_id is not None else created.get(row.number)
        for table, _key, row_id, values, old in row.children:
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
        ids = db.session.scalars(
            insert(model).returning(model.id, sort_by_parameter_order=True), params
        ).all()
        for row_id, values in zip(ids, params, strict=True):
            audit.created(table, row_id, values["firm_id"], values)
    for (table, _columns), params in updates.items():
        db.session.execute(update(MODELS[table]), params)


def _same_keys(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every parameter set the same keys, so one INSERT statement takes them all."""
    keys = dict.fromkeys(key for values in params for key in values)
    return [{key: values.get(key) for key in keys} for values in params]


def _with_defaults(model, values: dict[str, Any]) -> dict[str, Any]:
    if model is IPItem:
        return {"status": "valid", "acquisition": "own", **values}
    return values
