"""Import use cases: upload a workbook, dry-run it, correct its mapping, apply it, undo it.

The upload only stores the file and queues the dry run; the work happens in background jobs
(`import.preview`, `import.apply`, `import.undo`), each one transaction: a job that fails leaves
the database as it was. Functions here flush and never commit; views, the CLI and the job
runner commit.
"""

import shutil
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from crm.core import clock
from crm.core.audit import AuditContext
from crm.excel import annotate, columns, queries, sheets
from crm.excel.apply import Applied, ImportRefused, apply_stored
from crm.excel.dryrun import DryRun, dry_run, is_stale, write_annotated
from crm.excel.models import ImportBatch, ImportMapping
from crm.excel.retention import batch_folder  # also registers the daily clean-up
from crm.excel.undo import UndoRefused, undo_batch
from crm.extensions import db
from crm.jobs import files, queue, registry
from crm.jobs.models import Job


class ImportRequestError(ValueError):
    """An import request the rules refuse; the message is in Chinese."""


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
        queue_batch_job(batch, "import.preview", user)
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


def queue_batch_job(batch: ImportBatch, kind: str, user) -> Job:
    """Queue a job for the batch and remember it as the batch's latest job.

    The batch's status changes only when a job succeeds; while one is queued or running, or
    after one failed, the batch page says so from the job itself.
    """
    if batch.file_removed_at is not None and kind != "import.undo":
        raise ImportRequestError(
            "该批次上传的文件已超过保留期限并被删除，无法再预检或导入，请重新上传文件。"
        )
    if batch.job_id is not None:
        latest = db.session.get(Job, batch.job_id)
        if latest is not None and not latest.is_finished:
            raise ImportRequestError("该批次正在处理中，请等待当前任务完成")
    job = queue.enqueue(kind, {"batch_id": batch.id}, user)
    batch.job_id = job.id
    db.session.flush()
    return job


# --- Reading and mapping --------------------------------------------------------------------------


def _batch_of(job) -> ImportBatch:
    batch = db.session.get(ImportBatch, (job.payload or {}).get("batch_id"))
    if batch is None:
        raise queue.JobError("导入批次不存在")
    return batch


def run_preview(batch: ImportBatch, progress=None, annotated: Path | None = None) -> DryRun:
    """Dry-run the batch, keep each row's outcome, and write the annotated sheet if asked.

    The web's dry run does not ask: the annotated copy is written by a job of its own
    (`queue_annotated`), after the dry run is shown. The CLI asks, and waits for it.
    """
    options = {k: v for k, v in batch.options.items() if k != "annotated_job_id"}
    batch.options = options
    result = dry_run(batch, progress)
    batch.status = "previewed"
    if annotated is not None and result.has_issues:
        if progress is not None:
            progress.update(99, 100, "正在生成标注了问题的文件")
        write_annotated(batch, annotated)
    return result


def run_apply(batch: ImportBatch, progress=None) -> Applied:
    """Write the batch as its dry run planned it, all or nothing.

    When firm data changed since the dry run in a way it may depend on, the dry run is made
    again against today's data first, in this same transaction.
    """
    user = batch.applied_by or batch.created_by
    if is_stale(batch):
        dry_run(batch, progress, user)
        # The annotated copy showed the outcomes replaced just now; a new one is made on demand.
        options = {k: v for k, v in batch.options.items() if k != "annotated_job_id"}
        batch.options = options
    if progress is not None:
        progress.update(95, 100, "正在写入数据库")
    confirmed = batch.options.get("confirmed_renames")
    applied = apply_stored(
        batch,
        AuditContext(user.id if user else None, batch.source),
        valid_only=bool(batch.options.get("valid_only")),
        confirmed_renames=set(confirmed) if confirmed is not None else None,
    )
    batch.counts = applied.counts
    batch.status = "applied"
    batch.applied_at = clock.utcnow()
    if applied.firm_ids:
        queue.enqueue("eligibility.refresh", {"firm_ids": sorted(applied.firm_ids)}, user)
    return applied


def summary(counts: dict[str, int], done: bool) -> str:
    """Return the counts of a dry run or an apply in one Chinese sentence."""
    parts = [("新建", "create"), ("更新", "update"), ("更名", "rename"), ("无变化", "unchanged")]
    text = "、".join(f"{label} {counts.get(code, 0)}" for label, code in parts)
    if done:
        return f"导入完成：{text}、未导入 {counts.get('rejected', 0) + counts.get('skipped', 0)}。"
    return f"预检完成：{text}、有错误 {counts.get('rejected', 0)}。"


@registry.handler("import.preview", label="导入预检")
def preview_job(job, progress) -> dict[str, Any]:
    """Dry-run the batch over every row and keep each row's outcome.

    When a row has a problem, the annotated copy is queued to be written next, so the dry run
    is shown without waiting for it.
    """
    batch = _batch_of(job)
    result = run_preview(batch, progress)
    if result.has_issues:
        queue_annotated(batch, batch.created_by)
    return {"message": summary(batch.counts, False), "next_url": f"/imports/{batch.id}"}


def queue_annotated(batch: ImportBatch, user) -> Job:
    """Queue the writing of the batch's annotated copy and remember the job; flush.

    One copy serves the dry run and, unchanged, the apply of that same dry run: a copy that is
    written, or being written, is not queued again.
    """
    if batch.file_removed_at is not None:
        raise ImportRequestError("该批次上传的文件已超过保留期限并被删除，无法再生成标注文件。")
    if not has_issues(batch):
        raise ImportRequestError("该批次没有需要标注的问题")
    current = queries.annotated_job(batch) or queries.annotating_job(batch)
    if current is not None:
        return current
    job = queue.enqueue("import.annotate", {"batch_id": batch.id}, user)
    batch.options = {**batch.options, "annotated_job_id": job.id}
    db.session.flush()
    return job


def has_issues(batch: ImportBatch) -> bool:
    """Tell whether some row of the batch's dry run has a problem to mark."""
    options = batch.options or {}
    if "has_issues" in options:
        return bool(options["has_issues"])
    return bool((batch.counts or {}).get("rejected"))  # a batch dry-run before this was kept


@registry.handler("import.annotate", label="生成标注了问题的原表")
def annotate_job(job, progress) -> dict[str, Any]:
    """Write the uploaded sheet back with each row's outcome and its faulty cells marked.

    Writes nothing to the batch (the dry run that queued this job recorded it), so it never
    competes with the batch's own jobs; a job the batch no longer names has nothing to do.
    """
    batch = _batch_of(job)
    if (batch.options or {}).get("annotated_job_id") != job.id:
        return {"message": "该批次已重新预检，此标注文件不再生成。"}
    if batch.file_removed_at is not None:
        raise queue.JobError("该批次上传的文件已超过保留期限并被删除，无法生成标注文件。")
    progress.update(0, 1, "正在生成标注了问题的原表")
    write_annotated(batch, files.result_file(job, annotate.result_name(batch.filename)))
    return {"message": "已生成标注了问题的原表。", "next_url": f"/imports/{batch.id}"}


@registry.handler("import.apply", label="导入数据")
def apply_job(job, progress) -> dict[str, Any]:
    """Apply the batch, all or nothing."""
    batch = _batch_of(job)
    try:
        run_apply(batch, progress)
    except ImportRefused as error:
        raise queue.JobError(str(error)) from None
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
    queue_batch_job(batch, "import.apply", user)


def request_remap(batch: ImportBatch, user, choices: list[dict[str, Any]], save_as: str) -> None:
    """Re-run the dry run with the user's mapping, saving it as a template if named; flush."""
    if batch.status != "previewed":
        raise ImportRequestError("该批次当前不能修改对应关系")
    batch.columns = choices
    batch.options = {**batch.options, "mapped": True}
    if save_as:
        save_mapping(batch.kind, save_as, choices, user)
        batch.template_name = save_as
    queue_batch_job(batch, "import.preview", user)


def request_sheet(batch: ImportBatch, user, sheet: str) -> None:
    """Re-run the dry run on another sheet of the workbook; flush."""
    if batch.status != "previewed":
        raise ImportRequestError("该批次当前不能更换工作表")
    if sheet not in {s["name"] for s in sheets.offered(batch)}:
        raise ImportRequestError(f"工作表「{sheet}」没有可导入的数据，请选择其他工作表")
    options = {k: v for k, v in batch.options.items() if k != "mapped"}
    batch.options = {**options, "sheet": sheet}
    queue_batch_job(batch, "import.preview", user)


def request_year(batch: ImportBatch, user, year: int) -> None:
    """Re-run the dry run with the year of the yearly columns whose header names none; flush."""
    if batch.status != "previewed":
        raise ImportRequestError("该批次当前不能修改年度")
    batch.options = {**batch.options, "year": year}
    queue_batch_job(batch, "import.preview", user)


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


@registry.handler("import.undo", label="撤销导入")
def undo_job(job, progress) -> dict[str, Any]:
    """Revert an applied batch, or fail saying which later changes stand in the way."""
    batch = _batch_of(job)
    progress.update(0, 1, "正在核对导入之后的修改")
    try:
        undone = undo_batch(batch, job.created_by_id)
    except UndoRefused as error:
        raise queue.JobError("无法撤销：" + "；".join(error.reasons)) from None
    if undone.firm_ids:
        queue.enqueue("eligibility.refresh", {"firm_ids": sorted(undone.firm_ids)})
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
    queue_batch_job(batch, "import.undo", user)
