"""Import batches, the planned or applied outcome of each of their rows, and saved mappings."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db

BATCH_STATUSES = {
    "previewing": "正在预检",
    "previewed": "已预检，待导入",
    "applied": "已导入",
    "undone": "已撤销",
}
#: What a row does (or would do): code → label.
ROW_ACTIONS = {
    "create": "新建",
    "update": "更新",
    "rename": "更名",
    "unchanged": "无变化",
    "rejected": "有错误",
    "skipped": "未导入",
}


class ImportBatch(TimestampMixin, db.Model):
    """One uploaded workbook: its mapping, the dry run over every row, and what was applied."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The import kind (crm.excel.columns.KINDS).
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    #: Where the uploaded file is kept, relative to the instance folder.
    stored_path: Mapped[str] = mapped_column(String(255))
    sheet: Mapped[str | None] = mapped_column(String(100))
    #: Sheet row numbers of the header rows.
    header_rows: Mapped[list[int] | None] = mapped_column(JSON)
    #: The columns as read and what each is mapped to: [{letter, label, key, scale, year}].
    columns: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: The saved mapping (template name) this batch used or saved.
    template_name: Mapped[str | None] = mapped_column(String(100))
    #: Choices made on upload and preview: default tier, valid rows only, confirmed renames.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="previewing", index=True)
    #: Row counts by action, of the dry run and then of the apply.
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: Rows dropped while reading: blank, total, footnote, section.
    skipped_rows: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: Problems with the sheet as a whole (unmapped columns, units not given), in Chinese.
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(String(500))
    #: The batch's latest job (preview, apply or undo); its state shows while it runs or failed.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    applied_at: Mapped[datetime | None]
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    undone_at: Mapped[datetime | None]
    #: When the uploaded file was deleted at the end of its retention (UPLOAD_RETENTION_DAYS).
    file_removed_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    job = relationship("Job")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")
    applied_by = relationship("User", foreign_keys=[applied_by_id])
    undone_by = relationship("User", foreign_keys=[undone_by_id])

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return BATCH_STATUSES.get(self.status, self.status)

    @property
    def source(self) -> str:
        """Return the audit source of the changes this batch makes."""
        return f"import:{self.id}"


class ImportRow(db.Model):
    """The outcome of one data row of a batch: planned by the dry run, replaced by the apply."""

    __tablename__ = "import_rows"
    __table_args__ = (
        UniqueConstraint("batch_id", "row_number"),
        Index("ix_import_rows_batch_id_action", "batch_id", "action", "row_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"))
    #: The row's number in the sheet, as the user sees it in Excel.
    row_number: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    firm_id: Mapped[int | None]
    #: The firm as the row names it (or the matched firm's name).
    firm_name: Mapped[str | None] = mapped_column(String(200))
    #: What the row writes, values as JSON (see crm.excel.stored): {"f": new firm columns,
    #: "o": their stored values, "n": [old name, new name], "c": [[table, key, id, new, old]]}.
    writes: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: Problems: [[column letter, level ("error" or "warning"), message], ...]; NULL when none.
    issues: Mapped[list[list[Any]] | None] = mapped_column(JSON(none_as_null=True))


class ImportMapping(TimestampMixin, db.Model):
    """A saved mapping of workbook headers to fields, reused by template name."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    #: Header label → {key, scale, year}; a key of "" means "ignore this column".
    columns: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
