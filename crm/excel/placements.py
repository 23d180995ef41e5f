"""Stages an official list puts its firms in: the dry run's plan and the apply's writes.

A provincial list of certified firms enrols each firm that is in no high-tech enrollment into
the certified stage, on the issue date of its certificate still valid today; a county's
reserve-pool list puts its firms into the reserve pool with their entry reason. Either is a
`placements` child of the row's plan, which the pages describe as the stage it gives ("阶段：
意向企业 → 高企后备库"); the apply hands it to `crm.pipeline.services.place_firm`, whose
transition carries the batch as its source, so the batch's undo removes it. A firm already
further along keeps its stage, with a warning that says so.
"""

from datetime import date
from typing import Any

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, or_, select

from crm.core import clock
from crm.core.audit import AuditContext, audit_source
from crm.core.bulk import chunks
from crm.excel.convert import ConvertedRow
from crm.extensions import db
from crm.firms.models import Firm
from crm.firms.rules import certificate_expiry
from crm.pipeline import rules as pipeline_rules
from crm.pipeline.queries import stage_ids
from crm.pipeline.services import PLACEABLE_FROM, Placement, open_enrollments, place_firm

TABLE = "placements"
#: How a placement is stored and described: not a table of the database, the shape of a child.
COLUMNS = Table(
    TABLE,
    MetaData(),
    Column("stage_id", Integer, info={"label": "培育阶段"}),
    Column("moved_on", Date, info={"label": "转入日期"}),
    Column("entry_reason", Integer, info={"label": "入库理由"}),
    Column("document_number", String, info={"label": "文号"}),
    Column("document_on", Date, info={"label": "文件日期"}),
)
#: The transition's reason, by the stage the list places in.
REASONS = {
    "certified": "依据导入的高新技术企业名单（导入批次 {batch}）",
    "reserve": "依据导入的高企后备库入库名单（导入批次 {batch}）",
}
HTE = pipeline_rules.HTE


class Placements:
    """The stored stages of the firms a dry run matched, and the firms a chunk already placed."""

    def __init__(self) -> None:
        self.stage_ids = stage_ids(HTE)
        self.placed: set[int] = set()

    def load(self, firm_ids: set[int]) -> dict[int, tuple]:
        """Return the open high-tech enrollment of each of the firms (see `open_enrollments`)."""
        return open_enrollments(HTE, sorted(firm_ids))


def plan_certified(placements: Placements, candidates: list[tuple]) -> None:
    """Enrol in the certified stage each candidate's firm that is in no high-tech enrollment.

    `candidates` are (row plan, firm id, issue date, certificate number) of the rows whose
    certificate was planned; a firm is placed once, from its newest certificate valid today.
    """
    today = clock.today()
    newest: dict[int, tuple] = {}
    for candidate in candidates:
        _plan, firm_id, issued, _number = candidate
        if certificate_expiry(issued) < today or firm_id in placements.placed:
            continue
        if firm_id not in newest or issued > newest[firm_id][2]:
            newest[firm_id] = candidate
    enrollments = placements.load(set(newest))
    for firm_id, (plan, _, issued, number) in newest.items():
        stored = enrollments.get(firm_id)
        if stored is not None:
            if stored[1] != "certified":
                name = pipeline_rules.stage_name(HTE, stored[1])
                plan.warn(
                    "",
                    f"企业在高企培育中处于「{name}」阶段，阶段未变更；"
                    "如已获认定，请在企业页将其转入「已认定高企」",
                )
            continue
        values = {"stage_id": placements.stage_ids["certified"], "moved_on": issued}
        # The certificate is the evidence: the key carries it for the transition, unshown.
        key = (firm_id, HTE, number, issued.isoformat())
        plan.children.append((TABLE, key, None, values, {}))
        placements.placed.add(firm_id)


def plan_reserve(
    placements: Placements, rows: list[ConvertedRow], plans, matched, options: dict[str, Any]
) -> None:
    """Plan each row's firm into the reserve pool, or say why it stays where it is."""
    default_reason = options.get("entry_reason")
    today = clock.today()
    firm_ids = {m for m in matched if m is not None}
    enrollments = placements.load(firm_ids)
    incomplete = _incomplete(firm_ids)
    for row, plan, firm_id in zip(rows, plans, matched, strict=True):
        if plan.has_errors:
            continue
        for missing in incomplete.get(firm_id, ()):
            plan.warn("", f"企业未填写{missing}，入库后请在企业页补充")
        reason = row.values.get("entry_reason") or default_reason
        if reason is None:
            plan.error(
                row.letters.get("entry_reason", ""),
                "缺少入库理由：请增加「入库理由」列或在导入时选择入库理由",
            )
            continue
        document_on = row.values.get("document_on")
        moved_on = row.values.get("moved_on") or document_on or today
        if moved_on > today:
            letter = row.letters.get("moved_on") or row.letters.get("document_on", "")
            plan.error(letter, "入库日期不能晚于今天")
            continue
        values = {
            "stage_id": placements.stage_ids["reserve"],
            "moved_on": moved_on,
            "entry_reason": int(reason),
            "document_number": row.values.get("document_number"),
            "document_on": document_on,
        }
        stored = enrollments.get(firm_id)
        if stored is None:
            plan.children.append((TABLE, (firm_id, HTE), None, _given(values), {}))
            continue
        enrollment_id, stage, stored_reason, last_moved_on = stored
        if stage == "reserve":
            if stored_reason != values["entry_reason"]:
                shown = pipeline_rules.ENTRY_REASONS.get(stored_reason, "未填写")
                plan.warn(
                    row.letters.get("entry_reason", ""),
                    f"企业已在高企后备库，入库理由为「{shown}」，未作修改",
                )
            continue
        if stage not in PLACEABLE_FROM["reserve"]:
            name = pipeline_rules.stage_name(HTE, stage)
            plan.warn("", f"企业在高企培育中处于「{name}」阶段，未转入高企后备库")
            continue
        if last_moved_on is not None and moved_on < last_moved_on:
            plan.warn(
                row.letters.get("moved_on", ""),
                f"入库日期早于企业上一次阶段变更（{last_moved_on.isoformat()}），按该日期入库",
            )
            values["moved_on"] = last_moved_on
        old = {"stage_id": placements.stage_ids[stage], "entry_reason": stored_reason}
        plan.children.append((TABLE, (firm_id, HTE), enrollment_id, _given(values), old))


def _incomplete(firm_ids: set[int]) -> dict[int, list[str]]:
    """Return what the reserve pool asks of a firm (domain.md §1.1) and each firm lacks."""
    found: dict[int, list[str]] = {}
    for chunk in chunks(sorted(firm_ids)):
        stmt = select(Firm.id, Firm.district_id, Firm.tech_field_id).where(
            Firm.id.in_(chunk),
            or_(Firm.district_id.is_(None), Firm.tech_field_id.is_(None)),
        )
        for firm_id, district_id, tech_field_id in db.session.execute(stmt):
            missing = ["所属县（市、区）"] if district_id is None else []
            found[firm_id] = missing + (["技术领域"] if tech_field_id is None else [])
    return found


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {column: value for column, value in values.items() if value is not None}


def write_placements(rows, context: AuditContext) -> dict[int, int]:
    """Place the planned firms through the pipeline; return the transition id by row number."""
    stage_codes = {stage_id: code for code, stage_id in stage_ids(HTE).items()}
    batch = context.source.removeprefix("import:")
    written: dict[int, int] = {}
    with audit_source(context.source, context.actor_id):
        for row in rows:
            for table, key, _row_id, values, _old in row.children:
                if table != TABLE:
                    continue
                stage = stage_codes[values["stage_id"]]
                if stage == "certified":
                    issued = date.fromisoformat(key[3])
                    values = {**values, "document_number": key[2], "document_on": issued}
                placement = Placement(
                    firm_id=row.firm_id,
                    stage_code=stage,
                    moved_on=values["moved_on"],
                    entry_reason=values.get("entry_reason"),
                    document_number=values.get("document_number"),
                    document_on=values.get("document_on"),
                    reason=REASONS[stage].format(batch=batch),
                )
                transition = place_firm(
                    HTE, placement, source=context.source, actor_id=context.actor_id
                )
                written[row.number] = transition.id
    return written
