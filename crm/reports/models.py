"""The administrator's choice of columns for each government layout (上报报表)."""

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db


class ReportTemplate(TimestampMixin, db.Model):
    """The columns an administrator chose to show in a layout, in their order.

    A layout without a row shows its built-in default columns (`crm.reports.layouts`); 恢复默认
    deletes the row, so a column added to the built-in default later reaches it too.
    """

    __tablename__ = "report_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The key of the built-in layout (`crm.reports.layouts.LAYOUTS`).
    key: Mapped[str] = mapped_column(String(40), unique=True, info={"label": "报表"})
    name: Mapped[str] = mapped_column(String(100), info={"label": "报表名称"})
    #: The keys of the columns shown, in order; keys the layout no longer has are skipped.
    columns: Mapped[list[str]] = mapped_column(JSON, info={"label": "显示的列"})
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "修改人"}
    )

    updated_by = relationship("User")
