"""Programmes and their stages (reference data), enrollments of firms, and stage transitions."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core import clock
from crm.core.audit import Audited
from crm.core.models import TimestampMixin
from crm.extensions import db
from crm.pipeline.rules import ENTRY_REASONS

#: The condition of an open enrollment, for the partial unique index on both dialects.
_OPEN = text("closed_on IS NULL")


class Programme(TimestampMixin, db.Model):
    """A cultivation programme (高企培育, 上市后备), seeded from `rules.PROGRAMMES`."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The code of `rules.PROGRAMMES`: `hte` or `listing`.
    code: Mapped[str] = mapped_column(String(20), unique=True, info={"label": "代码"})
    name: Mapped[str] = mapped_column(String(64), info={"label": "名称"})

    stages = relationship("Stage", back_populates="programme", order_by="Stage.sort_order")


class Stage(TimestampMixin, db.Model):
    """A stage of a programme, in board order."""

    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), info={"label": "项目"})
    code: Mapped[str] = mapped_column(String(20), info={"label": "代码"})
    name: Mapped[str] = mapped_column(String(64), info={"label": "名称"})
    #: `stage` on the main line, `exit` off it, `outcome` for a listing side outcome.
    kind: Mapped[str] = mapped_column(String(10), default="stage", info={"label": "类别"})
    #: Reaching it closes the enrollment.
    is_terminal: Mapped[bool] = mapped_column(default=False, info={"label": "终结阶段"})
    #: Entering it needs an official document (number and date).
    needs_document: Mapped[bool] = mapped_column(default=False, info={"label": "需证明文件"})
    sort_order: Mapped[int] = mapped_column(default=0, info={"label": "排序"})

    programme = relationship("Programme", back_populates="stages")


class Enrollment(Audited, TimestampMixin, db.Model):
    """A firm's passage through one programme; at most one is open per firm and programme."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index(
            "uq_enrollments_open_firm_programme",
            "firm_id",
            "programme_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
        # The board's counts per stage, read off this index alone, and a small column's cards.
        # Not led by the programme: SQLite would then take it for every column's cards.
        Index(
            "ix_enrollments_open_stage",
            "stage_id",
            "programme_id",
            "firm_id",
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True, info={"label": "企业"}
    )
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), info={"label": "项目"})
    #: The current stage, the target of the latest transition.
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("stages.id"), index=True, info={"label": "当前阶段"}
    )
    opened_on: Mapped[date] = mapped_column(info={"label": "入库日期"})
    #: Set when a terminal stage is reached; an open enrollment has none.
    closed_on: Mapped[date | None] = mapped_column(info={"label": "结束日期"})
    #: The reserve-pool entry reason (`rules.ENTRY_REASONS`), set on entering the reserve pool.
    entry_reason: Mapped[int | None] = mapped_column(info={"label": "入库理由"})

    firm = relationship("Firm")
    programme = relationship("Programme", lazy="joined")
    stage = relationship("Stage", lazy="joined")
    transitions = relationship(
        "StageTransition",
        back_populates="enrollment",
        order_by="(StageTransition.moved_on, StageTransition.at, StageTransition.id)",
    )

    @property
    def is_open(self) -> bool:
        """Tell whether the enrollment is still open."""
        return self.closed_on is None

    @property
    def entry_reason_label(self) -> str:
        """Return the entry reason in Chinese, or an empty string."""
        return ENTRY_REASONS.get(self.entry_reason, "") if self.entry_reason else ""


class StageTransition(TimestampMixin, db.Model):
    """One stage change of an enrollment; never edited or deleted."""

    __tablename__ = "stage_transitions"
    __table_args__ = (
        Index("ix_stage_transitions_firm_id_at", "firm_id", "at"),
        Index("ix_stage_transitions_to_stage_id_moved_on", "to_stage_id", "moved_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), index=True
    )
    #: The enrollment's firm, kept here so a firm's timeline needs no join.
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    #: None for the transition that opened the enrollment.
    from_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("stages.id"), info={"label": "原阶段"}
    )
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"), info={"label": "新阶段"})
    #: The effective date; may be backdated, never in the future.
    moved_on: Mapped[date] = mapped_column(info={"label": "变更日期"})
    #: When the move was recorded.
    at: Mapped[datetime] = mapped_column(default=clock.utcnow, info={"label": "记录时间"})
    by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "操作人"}
    )
    reason: Mapped[str | None] = mapped_column(Text, info={"label": "原因"})
    #: The evidence: a document number (文号), or the certificate number on entering `certified`.
    document_number: Mapped[str | None] = mapped_column(String(100), info={"label": "文号"})
    #: The document's date, or the certificate's issue date on entering `certified`.
    document_on: Mapped[date | None] = mapped_column(info={"label": "文件日期"})
    #: A bureau head moved the firm although the gate's requirements were not met.
    is_override: Mapped[bool] = mapped_column(default=False, info={"label": "越过门槛"})
    override_reason: Mapped[str | None] = mapped_column(Text, info={"label": "越过门槛理由"})
    #: The import batch (`import:<id>`) whose official list placed the firm here; None for a
    #: move made by a person.
    source: Mapped[str | None] = mapped_column(String(40), index=True, info={"label": "来源"})

    enrollment = relationship("Enrollment", back_populates="transitions")
    from_stage = relationship("Stage", foreign_keys=[from_stage_id], lazy="joined")
    to_stage = relationship("Stage", foreign_keys=[to_stage_id], lazy="joined")
    by = relationship("User", lazy="joined")


# --- The funnel summary (`crm.pipeline.summary`) -------------------------------------------------
# Copies of the pipeline's facts shaped for the dashboard's counts, with the firm columns a scope
# or a breakdown asks for copied beside them, so the counts read one narrow table and no join.
# Kept current by `summary` before each commit; `flask crm rebuild-funnel` builds them afresh.


class _Copies:
    """The firm's columns copied beside a summary row (`summary.FIRM_COLUMNS`)."""

    district_id: Mapped[int | None]
    park_id: Mapped[int | None]
    tech_field_id: Mapped[int | None]
    manager_id: Mapped[int | None]


class FunnelFirm(_Copies, db.Model):
    """A live firm's copied columns: what the records of other packages join for a scope."""

    __tablename__ = "funnel_firms"

    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )


class FunnelPosition(_Copies, db.Model):
    """Where a live firm stands in a programme: its latest enrollment's stage, open or final."""

    __tablename__ = "funnel_positions"
    __table_args__ = (
        # Covers the counts per stage, whole city or narrowed by the copied columns.
        Index(
            "ix_funnel_positions_counts",
            "programme_id",
            "stage_id",
            "district_id",
            "manager_id",
            "park_id",
            "tech_field_id",
        ),
    )

    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"))


class FunnelStay(_Copies, db.Model):
    """One stage transition of a live firm, seen as the stay it began."""

    __tablename__ = "funnel_stays"
    __table_args__ = (
        # Covers the conversions: the first entries into a stage, by year, and what followed.
        Index(
            "ix_funnel_stays_entries",
            "stage_id",
            "first_entry",
            "started_on",
            "later_mask",
            "district_id",
            "manager_id",
            "park_id",
            "tech_field_id",
        ),
        # Covers the medians: the lengths of the ended stays and the starts of the current ones.
        Index(
            "ix_funnel_stays_lengths",
            "programme_id",
            "is_current",
            "stage_id",
            "days",
            "started_on",
            "district_id",
            "manager_id",
            "park_id",
            "tech_field_id",
        ),
    )

    #: The transition's id (no foreign key: the rows are replaced by firm, and a key would
    #: lock the source table whenever this one is dropped or altered).
    transition_id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    #: The stage moved into.
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id"))
    started_on: Mapped[date]
    #: Days until the enrollment's next move; None for the current stay of an open enrollment
    #: and for the stage a closed enrollment ended in (not a stay).
    days: Mapped[int | None]
    #: The stay still runs: the latest move of an open enrollment.
    is_current: Mapped[bool]
    #: The enrollment's first move into this stage (the cohort of a conversion).
    first_entry: Mapped[bool]
    #: The stages the enrollment moved into after this move, one bit each
    #: (`summary.stage_bit`).
    later_mask: Mapped[int]


class FunnelCertificate(_Copies, db.Model):
    """A high-tech certificate of a live firm, for the holders on a day and the expiries."""

    __tablename__ = "funnel_certificates"
    __table_args__ = (
        Index(
            "ix_funnel_certificates_span",
            "expires_on",
            "issued_on",
            "ended_on",
            "status",
            "district_id",
            "manager_id",
            "park_id",
            "tech_field_id",
            "firm_id",
        ),
    )

    #: The certificate's id (no foreign key, as `FunnelStay.transition_id`).
    certificate_id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    issued_on: Mapped[date]
    expires_on: Mapped[date]
    ended_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16))


class FunnelPatent(_Copies, db.Model):
    """An invention patent a live firm holds: granted, valid, and its own (not licensed)."""

    __tablename__ = "funnel_patents"
    __table_args__ = (
        Index(
            "ix_funnel_patents_granted_on",
            "granted_on",
            "district_id",
            "manager_id",
            "park_id",
            "tech_field_id",
        ),
    )

    #: The IP item's id (no foreign key, as `FunnelStay.transition_id`).
    item_id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    granted_on: Mapped[date]


class FunnelPoolYear(_Copies, db.Model):
    """A year's R&D expense and sales revenue of a firm in the high-tech reserve pool now, when
    both figures are known."""

    __tablename__ = "funnel_pool_years"
    __table_args__ = (
        Index(
            "ix_funnel_pool_years_year",
            "year",
            "district_id",
            "manager_id",
            "park_id",
            "tech_field_id",
            "rd_expense",
            "sales_revenue",
        ),
    )

    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True)
    rd_expense: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    sales_revenue: Mapped[Decimal] = mapped_column(Numeric(16, 2))


# --- Counts of the summary's rows ----------------------------------------------------------------
# The rows of the funnel summary counted by what the figures read and the copied firm columns,
# NULL written as 0 so that a key is a primary key. A figure sums a few thousand of these instead
# of reading a hundred thousand rows. `summary` keeps them by adding what each refresh changed.


class _Counted:
    """The copied firm columns (0: none) and the number of summary rows with this key."""

    district_id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(primary_key=True)
    tech_field_id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(primary_key=True)
    #: How many summary rows have this key.
    n: Mapped[int]


class FunnelStageCount(_Counted, db.Model):
    """The live firms per programme and stage they stand in (`FunnelPosition`)."""

    __tablename__ = "funnel_stage_counts"

    programme_id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(primary_key=True)


class FunnelEntryCount(_Counted, db.Model):
    """The enrollments' first entries into a stage, by year and the stages entered after."""

    __tablename__ = "funnel_entry_counts"

    stage_id: Mapped[int] = mapped_column(primary_key=True)
    cohort: Mapped[int] = mapped_column(primary_key=True)
    later_mask: Mapped[int] = mapped_column(primary_key=True)


class FunnelLengthCount(_Counted, db.Model):
    """The ended stays in a stage, by their length in days."""

    __tablename__ = "funnel_length_counts"

    programme_id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(primary_key=True)
    days: Mapped[int] = mapped_column(primary_key=True)


class FunnelRunningCount(_Counted, db.Model):
    """The current stays in a stage, by the day they began."""

    __tablename__ = "funnel_running_counts"

    programme_id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(primary_key=True)
    started_on: Mapped[date] = mapped_column(primary_key=True)
