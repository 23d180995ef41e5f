"""Import use cases: upload a workbook, dry-run it, correct its mapping, apply it, undo it.

The upload only stores the file and queues the dry run; the work happens in background jobs
(`import.preview`, `import.apply`, `import.undo`), each one transaction: a job that fails leaves
the database as it was. Functions here flush and never commit; views, the CLI and the job
runner commit.
"""

import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select

from crm.core import clock, jobs
from crm.core.audit import AuditContext
from crm.core.spreadsheets import Limits, SpreadsheetError, Table, find_table, open_workbook
from crm.excel import annotate, columns
from crm.excel.apply import ImportRefused, apply_plan
from crm.excel.convert import MappedColumn, Matchers, convert_rows, readers
from crm.excel.models import ImportBatch, ImportMapping, ImportRow
from crm.excel.plan import Plan, plan_rows
from crm.excel.undo import UndoRefused, undo_batch
from crm.extensions import db

#: Rows shown under each column on the mapping page.
SAMPLE_ROWS = 5
#: Rows between two progress updates.
PROGRESS_EVERY = 2000


class ImportRequestError(ValueError):
    """An import request the rules refuse; the message is in Chinese."""


def batch_folder(batch_id: int) -> Path:
    """Return the folder under the instance folder that keeps a batch's uploaded file."""
    return Path(current_app.instance_path) / "imports" / str(batch_id)


def limits() -> Limits:
    """Return the reading limits of this deployment."""
    return Limits(max_bytes=current_app.config["MAX_CONTENT_LENGTH"])


def start_import(
    kind: str, upload, user, options: dict[str, Any] | None = None, *, queued: bool = True
) -> ImportBatch:
    """Store an uploaded workbook as a new batch and queue its dry run; flush.

    `upload` is a werkzeug FileStorage (or any object with `filename` and `save(path)`). The
    CLI runs the dry run itself (`queued=False`).
    """
    if kind not in columns.KINDS:
        raise ImportRequestError("请选择导入类型")
    filename = Path(upload.filename or "").name or "未命名文件"
    batch = ImportBatch(
        kind=kind,
        filename=filename[:255],
        stored_path="",
        options=dict(options or {}),
        created_by_id=user.id if user is not None else None,
        template_name=(options or {}).get("template") or None,
    )
    db.session.add(batch)
    db.session.flush()
    folder = batch_folder(batch.id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / ("upload" + Path(filename).suffix.lower()[:10])
    upload.save(stored)
    batch.stored_path = str(stored.relative_to(current_app.instance_path))
    if queued:
        queue(batch, "import.preview", user)
    db.session.flush()
    return batch


def start_import_from_path(kind: str, path: Path, user, options=None) -> ImportBatch:
    """Store a workbook from the file system (the CLI) as a new batch and queue its dry run."""

    class _File:
        filename = path.name

        @staticmethod
        def save(target) -> None:
            shutil.copyfile(path, target)

    return start_import(kind, _File(), user, options, queued=False)


def queue(batch: ImportBatch, kind: str, user) -> jobs.Job:
    """Queue a job for the batch and remember it as the batch's latest job.

    The batch's status changes only when a job succeeds; while one is queued or running, or
    after one failed, the batch page says so from the job itself.
    """
    if batch.job_id is not None:
        latest = db.session.get(jobs.Job, batch.job_id)
        if latest is not None and not latest.is_finished:
            raise ImportRequestError("该批次正在处理中，请等待当前任务完成")
    job = jobs.enqueue(kind, {"batch_id": batch.id}, user)
    batch.job_id = job.id
    db.session.flush()
    return job


def stored_file(batch: ImportBatch) -> Path:
    """Return the uploaded file of a batch."""
    return Path(current_app.instance_path) / batch.stored_path


# --- Reading and mapping --------------------------------------------------------------------------


@dataclass
class Sheet:
    """The batch's sheet as read: its table and the columns mapped to fields."""

    table: Table
    mapped: list[MappedColumn]


def _saved_mapping(kind: str, name: str | None) -> dict[str, dict[str, Any]]:
    if not name:
        return {}
    mapping = db.session.scalar(select(ImportMapping).filter_by(kind=kind, name=name))
    return mapping.columns if mapping else {}


def map_columns(batch: ImportBatch, table: Table) -> list[MappedColumn]:
    """Map the table's columns: the batch's own choices, a saved template, or the synonyms."""
    chosen = {c["label"]: c for c in batch.columns or []} if batch.options.get("mapped") else {}
    saved = _saved_mapping(batch.kind, batch.template_name)
    mapped = []
    for position, column in enumerate(table.columns):
        choice = chosen.get(column.label) or saved.get(column.label)
        if choice is not None:
            scale = choice.get("scale")
            mapped.append(
                MappedColumn(
                    position,
                    column.letter,
                    column.label,
                    choice.get("key") or None,
                    Decimal(scale) if scale else None,
                    choice.get("year"),
                )
            )
            continue
        match = columns.match_header(batch.kind, column.label)
        if match is None:
            mapped.append(MappedColumn(position, column.letter, column.label, None))
        else:
            mapped.append(
                MappedColumn(
                    position, column.letter, column.label, match.key, match.scale, match.year
                )
            )
    return mapped


def notices(kind: columns.ImportKind, mapped: list[MappedColumn]) -> list[str]:
    """Return what the user should know about the mapping as a whole."""
    found: list[str] = []
    keys = Counter((c.key, c.year) for c in mapped if c.key)
    if not any(c.key in ("name", "uscc") for c in mapped):
        found.append("未找到「企业名称」或「统一社会信用代码」列，无法确定每行是哪家企业")
    for (key, year), count in keys.items():
        if count > 1:
            label = kind.get(key).label + (f"（{year} 年）" if year else "")
            found.append(f"有 {count} 列都对应「{label}」，请在下方只保留一列")
    for column in mapped:
        if not column.key:
            continue
        definition = kind.get(column.key)
        if definition.parser == "money" and column.scale is None:
            found.append(
                f"{column.letter} 列「{column.label}」未注明单位，按元导入；如为万元请在下方选择"
            )
    ignored = [f"{c.letter}「{c.label}」" for c in mapped if not c.key]
    if ignored:
        found.append("以下列未对应任何字段，将不导入：" + "、".join(ignored[:12]))
    return found


def _serialise(mapped: list[MappedColumn]) -> list[dict[str, Any]]:
    return [
        {
            "index": c.index,
            "letter": c.letter,
            "label": c.label,
            "key": c.key or "",
            "scale": str(c.scale) if c.scale is not None else None,
            "year": c.year,
        }
        for c in mapped
    ]


def _sample(value) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def read_plan(batch: ImportBatch, progress=None, user=None) -> tuple[Plan, Sheet]:
    """Read the batch's workbook, map and convert every row, and dry-run it."""
    path = stored_file(batch)
    try:
        with open_workbook(path, limits(), filename=batch.filename) as workbook:
            sheet = batch.options.get("sheet") or workbook.pick_sheet(columns.is_known_header)
            if sheet not in workbook.sheet_names:
                raise jobs.JobError(f"工作簿中没有名为「{sheet}」的工作表")
            table, guessed = _find_table(workbook, sheet, _header_test(batch))
            mapped = map_columns(batch, table)
            kind = columns.KINDS[batch.kind]
            sample: list = []
            matchers = Matchers(current_app.config["CITY"])
            rows = _counted(table, progress, sample)
            converted = list(convert_rows(readers(kind, mapped, matchers), rows))
    except SpreadsheetError as error:
        raise jobs.JobError(str(error)) from None
    batch.sheet = sheet
    batch.header_rows = list(table.header_rows)
    batch.columns = _serialise(mapped)
    batch.skipped_rows = dict(table.skipped)
    batch.notices = notices(kind, mapped)
    if guessed:
        batch.notices.insert(
            0,
            f"未能按列名识别表头，已将第 {table.header_rows[-1]} 行作为表头；"
            "请在下方为各列指定对应的字段后重新预检",
        )
    if sample:
        shown = [[number, [_sample(v) for v in values]] for number, values in sample]
        batch.options = {**batch.options, "sample": shown}
    if progress is not None:
        progress.update(len(converted), len(converted), "正在比对系统中的数据")
    user = user if user is not None else batch.created_by
    plan = plan_rows(kind, converted, user, batch.options)
    return plan, Sheet(table, mapped)


def _header_test(batch: ImportBatch):
    """Return what counts as a column name: the synonyms, and the labels mapped by hand."""
    labels = {c["label"] for c in batch.columns or [] if c.get("key")}
    labels |= set(_saved_mapping(batch.kind, batch.template_name))
    parts = {part for label in labels for part in label.split(" / ")}
    return lambda text: text in parts or columns.is_known_header(text)


def _find_table(workbook, sheet: str, known) -> tuple[Table, bool]:
    """Find the table by its column names; failing that, take the fullest early row as header.

    The second way lets the user map columns the synonyms do not know; it is said so.
    """
    try:
        return find_table(workbook.rows(sheet), known), False
    except SpreadsheetError as error:
        if not str(error).startswith("未找到表头"):
            raise
    return find_table(workbook.rows(sheet), bool), True


def _counted(table: Table, progress, sample: list):
    """Yield the table's rows, keeping the first few in `sample` and reporting progress."""
    for count, (number, values) in enumerate(table.rows, start=1):
        if count <= SAMPLE_ROWS:
            sample.append((number, values))
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress.update(count, None, f"正在校验第 {count} 行")
        yield number, values


def store_rows(batch: ImportBatch, plan: Plan) -> None:
    """Replace the batch's row outcomes with those of `plan`."""
    db.session.execute(delete(ImportRow).where(ImportRow.batch_id == batch.id))
    params = [
        {
            "batch_id": batch.id,
            "row_number": row.number,
            "action": row.action,
            "firm_id": row.firm_id,
            "firm_name": (row.firm_name or "")[:200] or None,
            "changes": [list(change) for change in row.changes] or None,
            "issues": [list(issue) for issue in row.issues] or None,
        }
        for row in plan.rows
    ]
    if params:
        db.session.execute(insert(ImportRow), params)
    batch.counts = plan.counts()


# --- Jobs ----------------------------------------------------------------------------------------


def _batch_of(job) -> ImportBatch:
    batch = db.session.get(ImportBatch, (job.payload or {}).get("batch_id"))
    if batch is None:
        raise jobs.JobError("导入批次不存在")
    return batch


def run_preview(batch: ImportBatch, progress=None, annotated: Path | None = None) -> Plan:
    """Dry-run the batch, keep each row's outcome, and write the annotated sheet if asked."""
    plan, sheet = read_plan(batch, progress)
    if progress is not None:
        progress.update(1, 1, "正在保存预检结果")
    store_rows(batch, plan)
    batch.status = "previewed"
    options = {k: v for k, v in batch.options.items() if k != "annotated_job_id"}
    if annotated is not None and any(row.issues for row in plan.rows):
        if progress is not None:
            progress.update(1, 1, "正在生成标注了问题的文件")
        with open_workbook(stored_file(batch), limits(), filename=batch.filename) as workbook:
            annotate.write_annotated(workbook.rows(batch.sheet), sheet, plan, annotated)
    batch.options = options
    return plan


def run_apply(batch: ImportBatch, progress=None, plan: Plan | None = None) -> Plan:
    """Write the batch, all or nothing, dry-run again against today's data unless `plan` is given.

    The CLI passes the dry run it has just made in the same transaction.
    """
    user = batch.applied_by or batch.created_by
    if plan is None:
        plan, _sheet = read_plan(batch, progress, user)
    if progress is not None:
        progress.update(1, 1, "正在写入数据库")
    confirmed = batch.options.get("confirmed_renames")
    applied = apply_plan(
        plan,
        AuditContext(user.id if user else None, batch.source),
        valid_only=bool(batch.options.get("valid_only")),
        confirmed_renames=set(confirmed) if confirmed is not None else None,
    )
    store_rows(batch, plan)
    batch.status = "applied"
    batch.applied_at = clock.utcnow()
    if applied.firm_ids:
        jobs.enqueue("eligibility.refresh", {"firm_ids": sorted(applied.firm_ids)}, user)
    return plan


def summary(counts: dict[str, int], done: bool) -> str:
    """Return the counts of a dry run or an apply in one Chinese sentence."""
    parts = [("新建", "create"), ("更新", "update"), ("更名", "rename"), ("无变化", "unchanged")]
    text = "、".join(f"{label} {counts.get(code, 0)}" for label, code in parts)
    if done:
        return f"导入完成：{text}、未导入 {counts.get('rejected', 0) + counts.get('skipped', 0)}。"
    return f"预检完成：{text}、有错误 {counts.get('rejected', 0)}。"


@jobs.handler("import.preview", label="导入预检")
def preview_job(job, progress) -> dict[str, Any]:
    """Dry-run the batch over every row and keep each row's outcome and the annotated file."""
    batch = _batch_of(job)
    target = jobs.result_file(job, annotate.result_name(batch.filename))
    run_preview(batch, progress, target)
    if target.exists():
        batch.options = {**batch.options, "annotated_job_id": job.id}
    return {"message": summary(batch.counts, False), "next_url": f"/imports/{batch.id}"}


@jobs.handler("import.apply", label="导入数据")
def apply_job(job, progress) -> dict[str, Any]:
    """Apply the batch, all or nothing."""
    batch = _batch_of(job)
    try:
        run_apply(batch, progress)
    except ImportRefused as error:
        raise jobs.JobError(str(error)) from None
    return {"message": summary(batch.counts, True), "next_url": f"/imports/{batch.id}"}


def request_apply(batch: ImportBatch, user, *, valid_only: bool, confirmed: list[int]) -> None:
    """Queue the apply of a previewed batch with the user's choices; flush."""
    if batch.status != "previewed":
        raise ImportRequestError("该批次当前不能导入")
    rejected = batch.counts.get("rejected", 0)
    if rejected and not valid_only:
        raise ImportRequestError(
            f"有 {rejected} 行存在错误：请修改后重新上传，或勾选“只导入无误的行”。"
        )
    batch.options = {**batch.options, "valid_only": valid_only, "confirmed_renames": confirmed}
    batch.applied_by_id = user.id if user is not None else None
    queue(batch, "import.apply", user)


def request_remap(batch: ImportBatch, user, choices: list[dict[str, Any]], save_as: str) -> None:
    """Re-run the dry run with the user's mapping, saving it as a template if named; flush."""
    if batch.status != "previewed":
        raise ImportRequestError("该批次当前不能修改对应关系")
    batch.columns = choices
    batch.options = {**batch.options, "mapped": True}
    if save_as:
        save_mapping(batch.kind, save_as, choices, user)
        batch.template_name = save_as
    queue(batch, "import.preview", user)


def save_mapping(kind: str, name: str, choices: list[dict[str, Any]], user) -> ImportMapping:
    """Save the mapping of headers to fields under a template name, replacing an older one."""
    mapping = db.session.scalar(select(ImportMapping).filter_by(kind=kind, name=name))
    if mapping is None:
        mapping = ImportMapping(kind=kind, name=name, created_by_id=user.id if user else None)
        db.session.add(mapping)
    mapping.columns = {
        c["label"]: {"key": c.get("key") or "", "scale": c.get("scale"), "year": c.get("year")}
        for c in choices
    }
    db.session.flush()
    return mapping


def mapping_names(kind: str | None = None) -> list[ImportMapping]:
    """Return the saved mappings, by kind and name."""
    stmt = select(ImportMapping).order_by(ImportMapping.kind, ImportMapping.name)
    if kind:
        stmt = stmt.where(ImportMapping.kind == kind)
    return list(db.session.scalars(stmt))


@jobs.handler("import.undo", label="撤销导入")
def undo_job(job, progress) -> dict[str, Any]:
    """Revert an applied batch, or fail saying which later changes stand in the way."""
    batch = _batch_of(job)
    progress.update(0, 1, "正在核对导入之后的修改")
    try:
        undone = undo_batch(batch, job.created_by_id)
    except UndoRefused as error:
        raise jobs.JobError("无法撤销：" + "；".join(error.reasons)) from None
    if undone.firm_ids:
        jobs.enqueue("eligibility.refresh", {"firm_ids": sorted(undone.firm_ids)})
    return {
        "message": (
            f"已撤销：删除 {undone.deleted} 条导入新建的记录，恢复 {undone.restored} 个字段。"
        ),
        "next_url": f"/imports/{batch.id}",
    }


def request_undo(batch: ImportBatch, user) -> None:
    """Queue the undo of an applied batch; flush."""
    if batch.status != "applied":
        raise ImportRequestError("只有已导入的批次可以撤销")
    queue(batch, "import.undo", user)
