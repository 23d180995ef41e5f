"""Reminder rules, the versions of their settings, and the reminder rows the daily scan writes."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db
from crm.reminders import rules

_OPEN = text("closed_at IS NULL AND done_at IS NULL")
_FINISHED = text("closed_at IS NOT NULL OR done_at IS NOT NULL")


class ReminderRule(TimestampMixin, db.Model):
    """A rule of domain.md §4, by its code (`rules.SPECS`); its settings are versions."""

    __tablename__ = "reminder_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, info={"label": "规则"})

    versions = relationship(
        "ReminderRuleVersion",
        back_populates="rule",
        order_by="(ReminderRuleVersion.effective_on.desc(), ReminderRuleVersion.id.desc())",
    )

    @property
    def spec(self) -> rules.RuleSpec:
        """Return what the rule is about."""
        return rules.SPECS[self.code]

    @property
    def label(self) -> str:
        """Return the rule's name in Chinese."""
        spec = rules.SPECS.get(self.code)
        return spec.label if spec else self.code


class ReminderRuleVersion(TimestampMixin, db.Model):
    """One version of a rule's settings, in force from its effective date; never edited."""

    __tablename__ = "reminder_rule_versions"
    __table_args__ = (Index("ix_reminder_rule_versions_rule_effective", "rule_id", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rules.id", ondelete="CASCADE"))
    effective_on: Mapped[date] = mapped_column(info={"label": "生效日期"})
    enabled: Mapped[bool] = mapped_column(default=True, info={"label": "启用"})
    #: `rules.RuleSettings.to_dict()`: offsets, recipients and the rule's switches.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, info={"label": "参数"})
    note: Mapped[str | None] = mapped_column(String(255), info={"label": "说明"})
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "创建人"}
    )

    rule = relationship("ReminderRule", back_populates="versions", lazy="joined")
    created_by = relationship("User", lazy="joined")

    @property
    def settings(self) -> rules.RuleSettings:
        """Return the settings this version stores."""
        return rules.RuleSettings.from_dict(self.rule.spec, self.enabled, self.data)


class Reminder(TimestampMixin, db.Model):
    """One thing a rule tells one recipient, once: unique by rule, record, recipient, period.

    The scan inserts these with insert-or-ignore against the unique key, so a rerun or a second
    worker creates nothing twice. A reminder that no longer applies is closed (`closed_at`,
    `closed_reason`), never deleted; the recipient reads, snoozes and marks it done.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint(
            "rule_id",
            "record_id",
            "recipient_kind",
            "recipient_id",
            "period",
            name="uq_reminders_key",
        ),
        # A recipient's open reminders by due date, with what the bell, the notification
        # centre's groups and their pages read: counted and paged off the index alone.
        Index(
            "ix_reminders_open_due",
            "recipient_kind",
            "recipient_id",
            "due_on",
            "id",
            "snoozed_until",
            "read_at",
            "kind",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        # The same by kind, with the district: 今日待办's counts and first rows of each kind, for
        # a user or across the bureau's managers (narrowed to a district).
        Index(
            "ix_reminders_open_kind",
            "recipient_kind",
            "recipient_id",
            "kind",
            "due_on",
            "id",
            "snoozed_until",
            "district_id",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        # A recipient's done and closed reminders by their last change: the centre's 已完成.
        Index(
            "ix_reminders_finished_recipient",
            "recipient_kind",
            "recipient_id",
            "updated_at",
            sqlite_where=_FINISHED,
            postgresql_where=_FINISHED,
        ),
        # A rule's open reminders to one kind of recipient, with what tells whether the rule
        # still addresses them (the firm, the record): the scan checks them every day.
        Index(
            "ix_reminders_open_rule",
            "rule_id",
            "recipient_kind",
            "recipient_id",
            "firm_id",
            "record_id",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rules.id", ondelete="CASCADE"))
    #: The rule's code, so lists group by kind without a join.
    kind: Mapped[str] = mapped_column(String(40), info={"label": "类别"})
    firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True, info={"label": "企业"}
    )
    #: The firm's district, copied by the scan (and brought up to date by each scan when a firm
    #: moves), so the bureau's 今日待办 narrows to a district off an index.
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL"), info={"label": "县（市、区）"}
    )
    #: What the reminder is about: the rule's `record_type` and the row's id (a firm's own id
    #: for a rule about the firm).
    record_type: Mapped[str] = mapped_column(String(24), info={"label": "事项类型"})
    record_id: Mapped[int] = mapped_column(info={"label": "事项"})
    #: `user` (recipient_id is a user's id) or `firm` (a firm's id: read by its enterprise users).
    recipient_kind: Mapped[str] = mapped_column(String(8), info={"label": "接收方类型"})
    recipient_id: Mapped[int] = mapped_column(info={"label": "接收方"})
    #: Which of the rule's occasions: `d30` (an offset), `jan1`, `open`, `overdue`, a year.
    period: Mapped[str] = mapped_column(String(24), info={"label": "提醒节点"})
    #: The date the reminder is about (the expiry, the deadline, the due date), if any.
    due_on: Mapped[date | None] = mapped_column(info={"label": "期限"})
    #: The page to act on: a Flask endpoint and its arguments (`rules.LINK_FIRM` and
    #: `rules.LINK_RECORD` stand for the firm and the record).
    link_endpoint: Mapped[str] = mapped_column(String(64), info={"label": "链接"})
    link_args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(info={"label": "已读时间"})
    snoozed_until: Mapped[date | None] = mapped_column(info={"label": "推迟至"})
    done_at: Mapped[datetime | None] = mapped_column(info={"label": "完成时间"})
    closed_at: Mapped[datetime | None] = mapped_column(info={"label": "关闭时间"})
    #: `rules.CLOSE_REASONS`.
    closed_reason: Mapped[str | None] = mapped_column(String(16), info={"label": "关闭原因"})

    rule = relationship("ReminderRule")
    firm = relationship("Firm")
    #: The user a reminder is addressed to (none for one addressed to a firm).
    recipient_user = relationship(
        "User",
        primaryjoin="and_(Reminder.recipient_kind == 'user', "
        "foreign(Reminder.recipient_id) == User.id)",
        viewonly=True,
    )

    @property
    def label(self) -> str:
        """Return the rule's name in Chinese."""
        spec = rules.SPECS.get(self.kind)
        return spec.label if spec else self.kind

    @property
    def period_label(self) -> str:
        """Return the occasion in Chinese."""
        return rules.describe_period(self.period, rules.SPECS.get(self.kind))

    @property
    def closed_reason_label(self) -> str:
        """Return why the reminder was closed, in Chinese, or an empty string."""
        return rules.CLOSE_REASONS.get(self.closed_reason or "", "")

    def url_arguments(self) -> dict[str, Any]:
        """Return the arguments of `link_endpoint` for this reminder."""
        return url_arguments(self)


def url_arguments(reminder) -> dict[str, Any]:
    """Return the arguments of the link of `reminder`: a `Reminder`, or a row of its columns
    `link_endpoint`, `link_args`, `firm_id` and `record_id`."""
    values = {rules.LINK_FIRM: reminder.firm_id, rules.LINK_RECORD: reminder.record_id}
    args = {key: values.get(value, value) for key, value in (reminder.link_args or {}).items()}
    if reminder.link_endpoint == "firms.detail":
        args.setdefault("firm_id", reminder.firm_id)
    return args


class ReminderEmailOptOut(db.Model):
    """A user who does not want e-mail about one kind of reminder (a rule's code).

    E-mail is on for every kind by default, so only the kinds switched off are stored; the
    reminders themselves still appear in the app.
    """

    __tablename__ = "reminder_email_opt_outs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True, info={"label": "类别"})
