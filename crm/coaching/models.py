"""Coaching plans (一企一策), their measures and milestones, and the activities logged on a firm."""

from datetime import date

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.audit import Audited
from crm.core.models import TimestampMixin
from crm.extensions import db

PLAN_STATUSES = {"draft": "草拟", "active": "实施中", "closed": "已结束"}
MEASURE_STATUSES = {
    "planned": "未开始",
    "in_progress": "进行中",
    "done": "已完成",
    "dropped": "已取消",
}
ACTIVITY_KINDS = {
    "visit": "走访",
    "phone": "电话",
    "meeting": "座谈/培训",
    "online": "线上沟通",
    "other": "其他",
}


class CoachingPlan(Audited, TimestampMixin, db.Model):
    """A firm's coaching plan for one year: diagnosis, goal, people, measures, outcome."""

    __tablename__ = "coaching_plans"
    __table_args__ = (UniqueConstraint("firm_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(info={"label": "年度"})
    #: `draft`, `active` or `closed` (PLAN_STATUSES).
    status: Mapped[str] = mapped_column(String(16), default="draft", info={"label": "状态"})
    #: Pre-filled from the eligibility gap list when the plan is created, one line per gap.
    diagnosis: Mapped[str | None] = mapped_column(Text, info={"label": "诊断"})
    goal: Mapped[str | None] = mapped_column(Text, info={"label": "目标"})
    liaison_leader: Mapped[str | None] = mapped_column(String(64), info={"label": "联系领导"})
    #: The responsible account manager; required before the plan becomes active.
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, info={"label": "服务专员"}
    )
    county_contact: Mapped[str | None] = mapped_column(String(64), info={"label": "县区联系人"})
    firm_contact: Mapped[str | None] = mapped_column(String(64), info={"label": "企业联系人"})
    intermediary: Mapped[str | None] = mapped_column(String(200), info={"label": "中介服务机构"})
    outcome: Mapped[str | None] = mapped_column(Text, info={"label": "成效"})
    closed_on: Mapped[date | None] = mapped_column(info={"label": "结束日期"})

    firm = relationship("Firm")
    manager = relationship("User", lazy="joined")
    measures = relationship(
        "CoachingMeasure",
        back_populates="plan",
        order_by="(CoachingMeasure.due_on.is_(None), CoachingMeasure.due_on, CoachingMeasure.id)",
        cascade="all, delete-orphan",
    )
    milestones = relationship(
        "CoachingMilestone",
        back_populates="plan",
        order_by="(CoachingMilestone.due_on, CoachingMilestone.id)",
        cascade="all, delete-orphan",
    )

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return PLAN_STATUSES.get(self.status, self.status)


class CoachingMeasure(Audited, TimestampMixin, db.Model):
    """One thing to do under a plan: what, who, by when, and how it went."""

    __tablename__ = "coaching_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_plans.id", ondelete="CASCADE"), index=True
    )
    #: The plan's firm, kept here so the audit trail and permission checks need no join.
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255), info={"label": "措施"})
    #: Free text: the person or unit responsible, not necessarily a user of the system; the
    #: label shown when no user is set.
    owner: Mapped[str | None] = mapped_column(String(64), info={"label": "责任人"})
    #: The user responsible, whom the measure's reminders reach (else the plan's manager).
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, info={"label": "责任人账号"}
    )
    due_on: Mapped[date | None] = mapped_column(index=True, info={"label": "完成时限"})
    #: `planned`, `in_progress`, `done` or `dropped` (MEASURE_STATUSES).
    status: Mapped[str] = mapped_column(String(16), default="planned", info={"label": "状态"})
    result: Mapped[str | None] = mapped_column(Text, info={"label": "结果"})
    done_on: Mapped[date | None] = mapped_column(info={"label": "完成日期"})

    plan = relationship("CoachingPlan", back_populates="measures")
    owner_user = relationship("User", lazy="joined")

    @property
    def owner_label(self) -> str:
        """Return who is responsible: the user's name, else the text, else nothing."""
        return self.owner_user.name if self.owner_user is not None else (self.owner or "")

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return MEASURE_STATUSES.get(self.status, self.status)


class CoachingMilestone(Audited, TimestampMixin, db.Model):
    """A dated point a plan aims to reach."""

    __tablename__ = "coaching_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_plans.id", ondelete="CASCADE"), index=True
    )
    #: The plan's firm, kept here so the audit trail and permission checks need no join.
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255), info={"label": "节点"})
    due_on: Mapped[date] = mapped_column(info={"label": "计划日期"})
    done_on: Mapped[date | None] = mapped_column(info={"label": "完成日期"})

    plan = relationship("CoachingPlan", back_populates="milestones")


class Activity(Audited, TimestampMixin, db.Model):
    """A visit, call, meeting or other contact with a firm, with what to follow up."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_firm_id_occurred_on", "firm_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    #: `visit`, `phone`, `meeting`, `online` or `other` (ACTIVITY_KINDS).
    kind: Mapped[str] = mapped_column(String(16), info={"label": "方式"})
    occurred_on: Mapped[date] = mapped_column(info={"label": "日期"})
    participants: Mapped[str | None] = mapped_column(String(255), info={"label": "参加人员"})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": "内容"})
    follow_up: Mapped[str | None] = mapped_column(Text, info={"label": "后续事项"})
    follow_up_due_on: Mapped[date | None] = mapped_column(info={"label": "后续事项时限"})
    follow_up_done: Mapped[bool] = mapped_column(default=False, info={"label": "后续事项已办结"})
    #: The user who sees the follow-up through, whom its reminders reach (else the author,
    #: else the firm's manager).
    follow_up_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "后续事项责任人"}
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "记录人"}
    )

    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")
    # Read by the edit form only: not joined to every activity listed.
    follow_up_owner = relationship("User", foreign_keys=[follow_up_owner_id])

    @property
    def kind_label(self) -> str:
        """Return the kind of contact in Chinese."""
        return ACTIVITY_KINDS.get(self.kind, self.kind)
