"""Stored eligibility data: settings versions, the manager's expert assessment, computed results."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core import clock
from crm.core.audit import Audited
from crm.core.models import TimestampMixin
from crm.eligibility.facts import ExpertFacts, HteAssessment, TechSmeAssessment
from crm.eligibility.settings import Settings
from crm.extensions import db


class SettingsVersion(TimestampMixin, db.Model):
    """One version of the eligibility settings, in force from its effective date."""

    __tablename__ = "eligibility_settings"

    #: The version number.
    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[date] = mapped_column(index=True, info={"label": "生效日期"})
    #: `Settings.to_dict()`: decimals as strings, missing keys take the defaults.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, info={"label": "参数"})
    note: Mapped[str | None] = mapped_column(String(255), info={"label": "说明"})
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "创建人"}
    )

    created_by = relationship("User", lazy="joined")

    @property
    def settings(self) -> Settings:
        """Return the settings this version stores."""
        return Settings.from_dict(self.data)


class ExpertAssessment(Audited, TimestampMixin, db.Model):
    """The account manager's judgement of what only experts score, one per firm."""

    __tablename__ = "expert_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), unique=True)
    tech_advancement: Mapped[int | None] = mapped_column(info={"label": "技术的先进程度"})
    core_support: Mapped[int | None] = mapped_column(
        info={"label": "对主要产品（服务）在技术上发挥核心支持作用"}
    )
    acquisition: Mapped[int | None] = mapped_column(info={"label": "知识产权获得方式"})
    standards: Mapped[int | None] = mapped_column(info={"label": "参与编制标准"})
    rd_rules: Mapped[int | None] = mapped_column(
        info={"label": "研究开发组织管理制度及研发投入核算体系"}
    )
    rd_institution: Mapped[int | None] = mapped_column(info={"label": "研发机构及产学研合作"})
    rd_incentives: Mapped[int | None] = mapped_column(info={"label": "成果转化激励及创新创业平台"})
    rd_talent: Mapped[int | None] = mapped_column(info={"label": "科技人员培养及人才引进"})
    #: None while the manager has not checked the firm's record.
    clean_record: Mapped[bool | None] = mapped_column(
        info={"label": "近一年无重大安全质量事故及严重环境违法"}
    )
    national_award: Mapped[bool] = mapped_column(
        default=False, info={"label": "近五年获国家级科技奖励"}
    )
    provincial_rd_institution: Mapped[bool] = mapped_column(
        default=False, info={"label": "拥有省级以上研发机构"}
    )
    led_standard: Mapped[bool] = mapped_column(
        default=False, info={"label": "近五年主导制定国际/国家/行业标准"}
    )
    assessed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), info={"label": "评估人"}
    )
    notes: Mapped[str | None] = mapped_column(Text, info={"label": "备注"})

    firm = relationship("Firm")
    assessed_by = relationship("User", lazy="joined")

    def facts(self) -> ExpertFacts:
        """Return the assessment as the facts the rules read."""
        return ExpertFacts(
            tech_advancement=self.tech_advancement,
            core_support=self.core_support,
            acquisition=self.acquisition,
            standards=self.standards,
            rd_rules=self.rd_rules,
            rd_institution=self.rd_institution,
            rd_incentives=self.rd_incentives,
            rd_talent=self.rd_talent,
            clean_record=self.clean_record,
            national_award=bool(self.national_award),
            provincial_rd_institution=bool(self.provincial_rd_institution),
            led_standard=bool(self.led_standard),
        )


class Assessment(TimestampMixin, db.Model):
    """A computed pre-assessment of a firm; the firm's latest row is current, older rows stay."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_firm_id_is_current", "firm_id", "is_current"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    computed_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    #: The application date the high-tech assessment was made for.
    applied_on: Mapped[date]
    settings_id: Mapped[int] = mapped_column(ForeignKey("eligibility_settings.id"))
    #: True for the firm's latest assessment only.
    is_current: Mapped[bool] = mapped_column(default=True)
    #: High-tech verdict: `pass`, `fail` or `uncertain`.
    verdict: Mapped[str] = mapped_column(String(10))
    #: `VERDICT_RANK` of the verdict, 0 for pass: the readiness list's indexes order by it.
    verdict_rank: Mapped[int]
    score_min: Mapped[int]
    score_max: Mapped[int]
    #: The largest shortfall among the gaps, 0 to 1, for sorting by how near a firm is.
    largest_gap: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    tech_sme_year: Mapped[int]
    #: None while figures are missing.
    tech_sme_score: Mapped[int | None]
    tech_sme_verdict: Mapped[str] = mapped_column(String(10))
    #: `HteAssessment.to_dict()`.
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: `TechSmeAssessment.to_dict()`.
    tech_sme: Mapped[dict[str, Any]] = mapped_column(JSON)

    firm = relationship("Firm")
    settings_version = relationship("SettingsVersion", lazy="joined")

    @property
    def hte(self) -> HteAssessment:
        """Return the stored high-tech assessment."""
        return HteAssessment.from_dict(self.result)

    @property
    def tech_sme_result(self) -> TechSmeAssessment:
        """Return the stored tech-SME evaluation."""
        return TechSmeAssessment.from_dict(self.tech_sme)


#: The current assessments only: the readiness list reads nothing else.
_CURRENT = {"sqlite_where": text("is_current = 1"), "postgresql_where": text("is_current")}

# One index per sort of the readiness list over the current assessments, in the order of the
# sort with its tie-breaks and the firm id last, so a page is read off the index and joined to
# its firms, never by sorting every firm. Read backwards, each gives the opposite direction.
Index(
    "ix_assessments_current_verdict",
    Assessment.verdict_rank,
    Assessment.score_min.desc(),
    Assessment.largest_gap,
    Assessment.firm_id,
    **_CURRENT,
)
Index(
    "ix_assessments_current_score_min",
    Assessment.score_min.desc(),
    Assessment.verdict_rank,
    Assessment.largest_gap,
    Assessment.firm_id,
    **_CURRENT,
)
Index(
    "ix_assessments_current_score_max",
    Assessment.score_max.desc(),
    Assessment.verdict_rank,
    Assessment.score_min.desc(),
    Assessment.largest_gap,
    Assessment.firm_id,
    **_CURRENT,
)
Index(
    "ix_assessments_current_largest_gap",
    Assessment.largest_gap,
    Assessment.verdict_rank,
    Assessment.score_min.desc(),
    Assessment.firm_id,
    **_CURRENT,
)
