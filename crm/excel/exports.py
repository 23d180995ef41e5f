"""The import history as an export: the batches a user sees on the import page, every one.

Registered with `crm.core.exports`, delivered by the reports package like every other list; the
web process imports it with the import pages, the worker through the app's job modules.
"""

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from crm.accounts.models import User
from crm.core.exports import Column, ListExport, register
from crm.core.permissions import EDITOR_ROLES
from crm.excel import columns, queries
from crm.excel.models import ImportBatch
from crm.extensions import db


def batch_state(batch: ImportBatch) -> str:
    """Return the state the import page shows: the batch's job while it runs or after it
    failed, else the batch's status."""
    job = batch.job
    if job is not None and not job.is_finished:
        return f"{job.kind_label}中"
    if job is not None and job.status == "failed":
        return f"{job.kind_label}失败"
    return batch.status_label


def _rows(user: User, args: MultiDict) -> Iterator[ImportBatch]:
    stmt = queries.batches_seen(user).options(
        joinedload(ImportBatch.created_by), joinedload(ImportBatch.job)
    )
    return iter(db.session.scalars(stmt).yield_per(500))


def _count(user: User, args: MultiDict) -> int:
    stmt = queries.batches_seen(user).order_by(None)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _counted(*actions: str):
    return lambda batch: sum((batch.counts or {}).get(action, 0) for action in actions)


def _kind_label(batch: ImportBatch) -> str:
    kind = columns.KINDS.get(batch.kind)
    return kind.label if kind is not None else batch.kind


BATCHES = register(
    ListExport(
        name="import_batches",
        filename="导入记录",
        sheet="导入记录",
        columns=(
            Column("id", "批次", "count", 8, lambda batch: batch.id),
            Column("filename", "文件", "text", 36, lambda batch: batch.filename),
            Column("kind", "类型", "text", 16, _kind_label),
            Column("created_at", "上传时间", "datetime", 17, lambda batch: batch.created_at),
            Column(
                "created_by",
                "上传人",
                "text",
                12,
                lambda batch: batch.created_by.name if batch.created_by else None,
            ),
            Column("state", "状态", "text", 14, batch_state),
            Column("create", "新建", "count", 8, _counted("create")),
            Column("update", "更新", "count", 8, _counted("update", "rename")),
            Column("unchanged", "无变化", "count", 8, _counted("unchanged")),
            Column("rejected", "有错误", "count", 8, _counted("rejected")),
        ),
        rows=_rows,
        count=_count,
        allowed=lambda user: user.role in EDITOR_ROLES,
    )
)
