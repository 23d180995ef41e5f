"""A firm's listing case: where it aims to list and who takes it there (domain.md §1.2)."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.audit import Audited
from crm.core.models import TimestampMixin
from crm.extensions import db

MARKETS = {
    "sse_main": "上交所主板",
    "star": "科创板",
    "szse_main": "深交所主板",
    "chinext": "创业板",
    "bse": "北交所",
    "neeq": "新三板",
    "bbw": "北部湾股权交易所",
}
NEEQ_TIERS = {"base": "基础层", "innovation": "创新层"}


class ListingCase(Audited, TimestampMixin, db.Model):
    """The details of one listing-reserve enrollment; stage evidence lives on its transitions."""

    __tablename__ = "listing_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True, info={"label": "培育记录"}
    )
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True, info={"label": "企业"}
    )
    #: MARKETS.
    target_market: Mapped[str | None] = mapped_column(String(16), info={"label": "拟上市板块"})
    neeq_tier: Mapped[str | None] = mapped_column(String(16), info={"label": "新三板分层"})
    sponsor_broker: Mapped[str | None] = mapped_column(String(200), info={"label": "保荐券商"})
    law_firm: Mapped[str | None] = mapped_column(String(200), info={"label": "律师事务所"})
    audit_firm: Mapped[str | None] = mapped_column(String(200), info={"label": "会计师事务所"})
    stock_code: Mapped[str | None] = mapped_column(String(16), info={"label": "证券代码"})
    notes: Mapped[str | None] = mapped_column(Text, info={"label": "备注"})

    enrollment = relationship("Enrollment")
    firm = relationship("Firm")

    @property
    def market_label(self) -> str:
        """Return the target market in Chinese, or an empty string."""
        return MARKETS.get(self.target_market or "", "")

    @property
    def neeq_tier_label(self) -> str:
        """Return the NEEQ tier in Chinese, or an empty string."""
        return NEEQ_TIERS.get(self.neeq_tier or "", "")
