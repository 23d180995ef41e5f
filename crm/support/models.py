"""Support ledger entries and the subsidy rules that create claimable ones (domain.md §3)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.audit import Audited
from crm.core.models import TimestampMixin
from crm.extensions import db
from crm.support.rules import ENTRY_STATUSES, RULE_EVENTS, SUPPORT_KINDS, next_status


class SubsidyRule(Audited, TimestampMixin, db.Model):
    """A support an event entitles a firm to: which kind, how much, from when."""

    __tablename__ = "subsidy_rules"
    __table_args__ = (Index("ix_subsidy_rules_event_effective_from", "event", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), info={"label": "名称"})
    #: RULE_EVENTS.
    event: Mapped[str] = mapped_column(String(40), info={"label": "触发事件"})
    #: SUPPORT_KINDS.
    kind: Mapped[str] = mapped_column(String(20), info={"label": "扶持类型"})
    #: In yuan; empty while the amount is not yet decided (the entry is still created).
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), info={"label": "金额（元）"})
    effective_from: Mapped[date] = mapped_column(info={"label": "生效日期"})
    #: The policy document the rule comes from.
    basis: Mapped[str | None] = mapped_column(String(255), info={"label": "政策依据"})
    is_active: Mapped[bool] = mapped_column(default=True, info={"label": "启用"})

    @property
    def event_label(self) -> str:
        """Return the triggering event in Chinese."""
        return RULE_EVENTS.get(self.event, self.event)

    @property
    def kind_label(self) -> str:
        """Return the kind of support in Chinese."""
        return SUPPORT_KINDS.get(self.kind, self.kind)


class SupportEntry(Audited, TimestampMixin, db.Model):
    """One support measure on a firm's ledger."""

    __tablename__ = "support_entries"
    __table_args__ = (
        # A rule gives a firm one entry per triggering event.
        UniqueConstraint("firm_id", "rule_id", "trigger_key"),
        Index("ix_support_entries_firm_id_granted_on", "firm_id", "granted_on"),
        # The ledger's order (latest first), alone or within a year, a kind, a status. The
        # status index ends with the firm and amount, so the totals by status read it alone.
        Index("ix_support_entries_granted_on_id", "granted_on", "id"),
        Index("ix_support_entries_kind_granted_on_id", "kind", "granted_on", "id"),
        Index(
            "ix_support_entries_status_granted_on_id",
            "status",
            "granted_on",
            "id",
            "firm_id",
            "amount",
        ),
        # The money paid in a year, by kind, summed off this index alone.
        Index(
            "ix_support_entries_status_paid_on", "status", "paid_on", "firm_id", "kind", "amount"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), info={"label": "企业"}
    )
    #: SUPPORT_KINDS.
    kind: Mapped[str] = mapped_column(String(20), info={"label": "扶持类型"})
    title: Mapped[str | None] = mapped_column(String(200), info={"label": "事项"})
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), info={"label": "金额（元）"})
    granted_on: Mapped[date] = mapped_column(info={"label": "日期"})
    document_number: Mapped[str | None] = mapped_column(String(100), info={"label": "文号"})
    #: ENTRY_STATUSES.
    status: Mapped[str] = mapped_column(String(16), default="claimable", info={"label": "状态"})
    #: The day the money was paid out; required once the status is `paid`.
    paid_on: Mapped[date | None] = mapped_column(info={"label": "拨付日期"})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": "备注"})
    #: The rule that created the entry; none for an entry made by hand.
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("subsidy_rules.id", ondelete="SET NULL"), index=True, info={"label": "依据规则"}
    )
    #: What triggered it, e.g. `transition:42` or `application:7`; unique per firm and rule.
    trigger_key: Mapped[str | None] = mapped_column(String(64), info={"label": "触发来源"})
    #: For an incubator award: the incubated firm whose certification earned it.
    related_firm_id: Mapped[int | None] = mapped_column(
        ForeignKey("firms.id", ondelete="SET NULL"), info={"label": "相关企业"}
    )

    firm = relationship("Firm", foreign_keys=[firm_id])
    related_firm = relationship("Firm", foreign_keys=[related_firm_id])
    rule = relationship("SubsidyRule")

    @property
    def kind_label(self) -> str:
        """Return the kind of support in Chinese."""
        return SUPPORT_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return ENTRY_STATUSES.get(self.status, self.status)

    @property
    def is_rule_made(self) -> bool:
        """Tell whether a subsidy rule created the entry (it may be edited, not deleted)."""
        return self.trigger_key is not None

    @property
    def next_status(self) -> str | None:
        """Return the status the entry moves to next, or None once paid."""
        return next_status(self.status)
