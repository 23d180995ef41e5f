"""Change requests a firm files from the portal, and the files attached to its requests and
measures."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db

#: What a request changes.
KINDS = {
    "profile": "企业信息",
    "contact": "联系人",
    "year": "年度数据",
    "ip": "知识产权",
}
#: The states of a request.
STATUSES = {
    "pending": "待审核",
    "approved": "已通过",
    "partial": "部分通过",
    "rejected": "未通过",
    "withdrawn": "已撤回",
}
#: A request still waiting for the bureau.
OPEN = "pending"


class ChangeRequest(TimestampMixin, db.Model):
    """Changes a firm's user proposes to its record; the bureau approves them field by field.

    Nothing here is the record: approving writes through the firms' services, and the audit
    trail names the request as the source (`portal:<id>`).
    """

    __tablename__ = "change_requests"
    __table_args__ = (
        Index("ix_change_requests_status_firm", "status", "firm_id"),
        Index("ix_change_requests_firm_submitted", "firm_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    #: `KINDS`.
    kind: Mapped[str] = mapped_column(String(16), info={"label": "类别"})
    #: The row a request changes (a contact, a year, an IP item); empty for a new one and for
    #: the firm's own profile.
    target_id: Mapped[int | None] = mapped_column(info={"label": "对象"})
    #: What the request is about, in words: 2025 年度数据, 专利「…」.
    title: Mapped[str] = mapped_column(String(255), info={"label": "事项"})
    status: Mapped[str] = mapped_column(String(16), default=OPEN, info={"label": "状态"})
    #: The firm's words to the bureau.
    note: Mapped[str | None] = mapped_column(Text, info={"label": "说明"})
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "提交人"}
    )
    submitted_at: Mapped[datetime] = mapped_column(info={"label": "提交时间"})
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "审核人"}
    )
    decided_at: Mapped[datetime | None] = mapped_column(info={"label": "审核时间"})
    #: Why fields were turned down, for the firm to read.
    reason: Mapped[str | None] = mapped_column(Text, info={"label": "审核意见"})
    #: When a user of the firm saw the decision on its home page.
    seen_at: Mapped[datetime | None]

    firm = relationship("Firm")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    items = relationship(
        "ChangeItem",
        back_populates="request",
        order_by="ChangeItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def kind_label(self) -> str:
        """Return what the request changes, in Chinese."""
        return KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        """Return the state in Chinese."""
        return STATUSES.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        """Tell whether the request still waits for the bureau."""
        return self.status == OPEN


class ChangeItem(db.Model):
    """One field of a request: its value when the firm asked, the value asked for, the decision."""

    __tablename__ = "change_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("change_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    #: The model attribute it changes.
    field: Mapped[str] = mapped_column(String(60))
    #: Both as the audit trail encodes them (`crm.core.audit.encode`).
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    #: `approved` or `rejected` once decided.
    decision: Mapped[str | None] = mapped_column(String(10))

    request = relationship("ChangeRequest", back_populates="items")


class Attachment(TimestampMixin, db.Model):
    """A supporting file a firm's user attached to a request or a measure.

    The file is kept under a random name in the attachments folder; `filename` is the name the
    user gave, cleaned, used only when the file is downloaded.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_owner", "owner_kind", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    #: `request` (a change request) or `measure` (a coaching measure).
    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255), info={"label": "文件名"})
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(info={"label": "大小"})
    #: SHA-256 of the content.
    digest: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    uploaded_by = relationship("User")
