"""Certification batches (domain.md §2.6), applications with their results, and change reports."""

from datetime import date

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.certification.rules import DUTY_KINDS, DUTY_STATUSES, duty_status
from crm.core import clock
from crm.core.audit import Audited
from crm.core.models import TimestampMixin
from crm.extensions import db

#: An application's result; `submitted` until the batch's outcome is known.
APPLICATION_STATUSES = {
    "submitted": "已申报",
    "review": "评审/公示中",
    "certified": "已认定",
    "not_certified": "未通过",
    "withdrawn": "已撤回",
    "cancelled": "被取消资格",
    "lapsed": "资格已到期",
}
#: What a firm must report within three months (domain.md §2.4).
CHANGE_KINDS = {
    "name": "名称变更",
    "merger": "合并/分立",
    "business": "经营范围等重大变化",
}


class CertificationBatch(Audited, TimestampMixin, db.Model):
    """One round of the provincial certification: when firms apply and what follows."""

    __tablename__ = "certification_batches"
    __table_args__ = (UniqueConstraint("year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True, info={"label": "年度"})
    name: Mapped[str] = mapped_column(String(100), info={"label": "批次名称"})
    opens_on: Mapped[date] = mapped_column(info={"label": "申报开始"})
    closes_on: Mapped[date] = mapped_column(info={"label": "申报截止"})
    city_recommend_by: Mapped[date | None] = mapped_column(info={"label": "市级推荐截止"})
    notice_from: Mapped[date | None] = mapped_column(info={"label": "公示开始"})
    notice_to: Mapped[date | None] = mapped_column(info={"label": "公示结束"})
    filed_on: Mapped[date | None] = mapped_column(info={"label": "备案日期"})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": "备注"})

    applications = relationship("CertificationApplication", back_populates="batch")

    @property
    def label(self) -> str:
        """Return the batch as it is named in lists: year and name."""
        return f"{self.year} 年{self.name}"


class CertificationApplication(Audited, TimestampMixin, db.Model):
    """A firm's application in a batch, the assessment it was submitted with, and its result."""

    __tablename__ = "certification_applications"
    __table_args__ = (
        UniqueConstraint("firm_id", "batch_id"),
        Index("ix_certification_applications_expires_on", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True, info={"label": "企业"}
    )
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL"), index=True, info={"label": "培育记录"}
    )
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("certification_batches.id"), index=True, info={"label": "认定批次"}
    )
    submitted_on: Mapped[date] = mapped_column(info={"label": "申报日期"})
    #: Re-certification (重新认定) of a firm whose certificate expires in the batch's year.
    is_renewal: Mapped[bool] = mapped_column(default=False, info={"label": "重新认定"})
    #: The stored eligibility assessment as it stood at submission (its `result` and verdict).
    assessment_snapshot: Mapped[dict | None] = mapped_column(JSON, info={"label": "申报时预评估"})
    assessment_verdict: Mapped[str | None] = mapped_column(String(16), info={"label": "申报时结论"})
    #: APPLICATION_STATUSES.
    status: Mapped[str] = mapped_column(String(16), default="submitted", info={"label": "结果"})
    result_on: Mapped[date | None] = mapped_column(info={"label": "结果日期"})
    certificate_number: Mapped[str | None] = mapped_column(
        String(64), index=True, info={"label": "证书编号"}
    )
    issued_on: Mapped[date | None] = mapped_column(info={"label": "发证日期"})
    #: Issue date + 3 years − 1 day.
    expires_on: Mapped[date | None] = mapped_column(info={"label": "有效期至"})
    #: Why the application failed, was withdrawn, or the qualification was cancelled.
    reason: Mapped[str | None] = mapped_column(Text, info={"label": "原因"})

    firm = relationship("Firm")
    batch = relationship("CertificationBatch", back_populates="applications", lazy="joined")
    enrollment = relationship("Enrollment")

    @property
    def status_label(self) -> str:
        """Return the result in Chinese."""
        return APPLICATION_STATUSES.get(self.status, self.status)


class ChangeReport(Audited, TimestampMixin, db.Model):
    """A change a certified firm must report within three months, and when it was reported."""

    __tablename__ = "change_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True, info={"label": "企业"}
    )
    #: CHANGE_KINDS.
    kind: Mapped[str] = mapped_column(String(16), info={"label": "变更类型"})
    changed_on: Mapped[date] = mapped_column(info={"label": "变更日期"})
    #: What changed, e.g. "原名称 → 新名称".
    description: Mapped[str | None] = mapped_column(Text, info={"label": "变更内容"})
    due_on: Mapped[date] = mapped_column(index=True, info={"label": "报告期限"})
    reported_on: Mapped[date | None] = mapped_column(info={"label": "报告日期"})
    document_number: Mapped[str | None] = mapped_column(String(100), info={"label": "文号"})

    firm = relationship("Firm")

    @property
    def kind_label(self) -> str:
        """Return the kind of change in Chinese."""
        return CHANGE_KINDS.get(self.kind, self.kind)


class Duty(Audited, TimestampMixin, db.Model):
    """A yearly report a certified firm owes (§2.4): for which year, by when, and when filed.

    The daily run opens one for every firm holding a valid certificate at the end of the year
    reported (`crm.certification.duties`); a manager marks it filed, one by one, in bulk, or by
    importing the national system's list.
    """

    __tablename__ = "certification_duties"
    __table_args__ = (
        UniqueConstraint("firm_id", "kind", "year"),
        Index("ix_certification_duties_kind_year", "kind", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True, info={"label": "企业"}
    )
    #: DUTY_KINDS.
    kind: Mapped[str] = mapped_column(String(20), info={"label": "报表"})
    #: The year reported on.
    year: Mapped[int] = mapped_column(info={"label": "报告年度"})
    due_on: Mapped[date] = mapped_column(info={"label": "填报截止"})
    filed_on: Mapped[date | None] = mapped_column(info={"label": "填报日期"})
    marked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "标记人"}
    )

    firm = relationship("Firm")
    marked_by = relationship("User")

    @property
    def kind_label(self) -> str:
        """Return the report's name in Chinese."""
        return DUTY_KINDS.get(self.kind, self.kind)

    def status(self, today: date | None = None) -> str:
        """Return DUTY_STATUSES' code on `today`."""
        return duty_status(self.due_on, self.filed_on, today or clock.today())

    def status_label(self, today: date | None = None) -> str:
        """Return the status in Chinese."""
        return DUTY_STATUSES[self.status(today)]


class DutyDeadline(Audited, TimestampMixin, db.Model):
    """The deadline an administrator set for a report of a year, instead of the default."""

    __tablename__ = "duty_deadlines"
    __table_args__ = (UniqueConstraint("kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), info={"label": "报表"})
    year: Mapped[int] = mapped_column(info={"label": "报告年度"})
    due_on: Mapped[date] = mapped_column(info={"label": "填报截止"})
