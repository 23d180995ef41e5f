"""Firm records and what describes them. Money is in yuan; forms show 万元."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.audit import Audited
from crm.core.models import TimestampMixin
from crm.extensions import db
from crm.firms import rules

Money = Numeric(16, 2)

#: The firms not soft-deleted: the partial indexes the lists walk hold only these.
_LIVE = text("deleted_at IS NULL")
_DELETED = text("deleted_at IS NOT NULL")


def _live_index(name: str, *columns: str) -> Index:
    """Return an index over the live firms in the order of a sort of the firm list."""
    return Index(name, *columns, sqlite_where=_LIVE, postgresql_where=_LIVE)


def _trigram_index(name: str, column: str) -> Index:
    """Return a trigram index of `column` for searching inside the text, on PostgreSQL only
    (the pg_trgm extension; SQLite has no such index and tests each row)."""
    return Index(
        name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
    ).ddl_if(dialect="postgresql")


class Firm(Audited, TimestampMixin, db.Model):
    """A technology firm the bureau follows."""

    __tablename__ = "firms"
    # One index per sort of the firm list, in its order and its tie-break on id, so a page is
    # read off the index instead of sorting every firm (an index on deleted_at alone made the
    # planner fetch every live firm and sort them).
    __table_args__ = (
        _live_index("ix_firms_live_name", "name", "id"),
        _live_index("ix_firms_live_established_on", "established_on", "id"),
        _live_index("ix_firms_live_updated_at", "updated_at", "id"),
        _live_index("ix_firms_live_district", "district_id", "id"),
        _trigram_index("ix_firms_name_trigrams", "name"),
        Index("ix_firms_deleted", "deleted_at", sqlite_where=_DELETED, postgresql_where=_DELETED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True, info={"label": "企业名称"})
    #: Unified social credit code, normalised; unique when present.
    uscc: Mapped[str | None] = mapped_column(
        String(18), unique=True, info={"label": "统一社会信用代码"}
    )
    #: Set when a manager accepted a code that fails the check character.
    uscc_check_accepted: Mapped[bool] = mapped_column(
        default=False, info={"label": "已确认校验位警告"}
    )
    legal_representative: Mapped[str | None] = mapped_column(
        String(64), info={"label": "法定代表人"}
    )
    established_on: Mapped[date | None] = mapped_column(info={"label": "成立日期"})
    registered_capital: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": "注册资本（元）"}
    )
    address: Mapped[str | None] = mapped_column(String(255), info={"label": "地址"})
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id"), index=True, info={"label": "所属县（市、区）"}
    )
    park_id: Mapped[int | None] = mapped_column(
        ForeignKey("parks.id"), index=True, info={"label": "所在园区"}
    )
    industry_id: Mapped[int | None] = mapped_column(
        ForeignKey("industries.id"), index=True, info={"label": "所属行业"}
    )
    tech_field_id: Mapped[int | None] = mapped_column(
        ForeignKey("tech_fields.id"), index=True, info={"label": "技术领域"}
    )
    is_above_scale: Mapped[bool] = mapped_column(default=False, info={"label": "规上企业"})
    is_incubator: Mapped[bool] = mapped_column(default=False, info={"label": "孵化器"})
    incubator_id: Mapped[int | None] = mapped_column(
        ForeignKey("firms.id"), info={"label": "在孵单位"}
    )
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), index=True, info={"label": "服务专员"}
    )
    notes: Mapped[str | None] = mapped_column(Text, info={"label": "备注"})
    deleted_at: Mapped[datetime | None] = mapped_column(info={"label": "删除时间"})

    district = relationship("District", lazy="joined")
    park = relationship("Park", lazy="joined")
    industry = relationship("Industry", lazy="joined")
    tech_field = relationship("TechField", lazy="joined")
    manager = relationship("User", foreign_keys=[manager_id], lazy="joined")
    incubator = relationship("Firm", remote_side=[id], foreign_keys=[incubator_id])
    former_names = relationship(
        "FirmFormerName", back_populates="firm", order_by="FirmFormerName.id.desc()"
    )
    contacts = relationship("FirmContact", back_populates="firm", order_by="FirmContact.id")
    years = relationship("FirmYear", back_populates="firm", order_by="FirmYear.year.desc()")
    ip_items = relationship("IPItem", back_populates="firm", order_by="IPItem.id.desc()")
    qualifications = relationship(
        "Qualification", back_populates="firm", order_by="Qualification.year.desc()"
    )
    certificates = relationship(
        "Certificate", back_populates="firm", order_by="Certificate.issued_on.desc()"
    )

    def audit_firm_id(self) -> int:
        """Return the firm's own id."""
        return self.id

    @property
    def primary_contact(self) -> "FirmContact | None":
        """Return the contact the bureau talks to first (`rules.primary_contact`)."""
        return rules.primary_contact(self.contacts)

    @property
    def is_deleted(self) -> bool:
        """Tell whether the firm is soft-deleted."""
        return self.deleted_at is not None


class FirmFormerName(Audited, TimestampMixin, db.Model):
    """A name the firm used before, kept searchable."""

    __tablename__ = "firm_former_names"
    __table_args__ = (_trigram_index("ix_firm_former_names_name_trigrams", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True, info={"label": "曾用名"})
    #: The day the firm stopped using this name, when known.
    changed_on: Mapped[date | None] = mapped_column(info={"label": "变更日期"})

    firm = relationship("Firm", back_populates="former_names")


class FirmContact(Audited, TimestampMixin, db.Model):
    """A person to talk to at the firm."""

    __tablename__ = "firm_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), info={"label": "姓名"})
    role: Mapped[str | None] = mapped_column(String(32), info={"label": "职务"})
    phone: Mapped[str | None] = mapped_column(String(32), info={"label": "电话"})
    email: Mapped[str | None] = mapped_column(String(254), info={"label": "电子邮箱"})
    #: The firm's contact for the bureau; with none marked, its first contact is (see rules).
    is_primary: Mapped[bool] = mapped_column(default=False, info={"label": "主要联系人"})

    firm = relationship("Firm", back_populates="contacts")


class FirmYear(Audited, TimestampMixin, db.Model):
    """A firm's figures for one accounting year (amounts in yuan, staff as yearly averages)."""

    __tablename__ = "firm_years"
    __table_args__ = (UniqueConstraint("firm_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(info={"label": "年度"})
    total_revenue: Mapped[Decimal | None] = mapped_column(Money, info={"label": "总收入"})
    #: Main business plus other business revenue.
    sales_revenue: Mapped[Decimal | None] = mapped_column(Money, info={"label": "销售收入"})
    hightech_revenue: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": "高新技术产品（服务）收入"}
    )
    rd_expense: Mapped[Decimal | None] = mapped_column(Money, info={"label": "研发费用"})
    domestic_rd_expense: Mapped[Decimal | None] = mapped_column(
        Money, info={"label": "境内研发费用"}
    )
    #: 成本费用总额, the denominator of the tech-SME R&D option.
    total_costs: Mapped[Decimal | None] = mapped_column(Money, info={"label": "成本费用总额"})
    total_assets: Mapped[Decimal | None] = mapped_column(Money, info={"label": "资产总额"})
    total_liabilities: Mapped[Decimal | None] = mapped_column(Money, info={"label": "负债总额"})
    total_staff: Mapped[int | None] = mapped_column(info={"label": "职工总数"})
    tech_staff: Mapped[int | None] = mapped_column(info={"label": "科技人员数"})
    #: Number of scientific and technological results transformed in the year.
    transformed_results: Mapped[int | None] = mapped_column(info={"label": "科技成果转化数"})

    firm = relationship("Firm", back_populates="years")

    @property
    def net_assets(self) -> Decimal | None:
        """Return total assets minus total liabilities."""
        return rules.net_assets(self.total_assets, self.total_liabilities)


class IPItem(Audited, TimestampMixin, db.Model):
    """A piece of intellectual property the firm holds or has applied for."""

    __tablename__ = "ip_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), info={"label": "类型"})
    number: Mapped[str | None] = mapped_column(String(64), info={"label": "授权号/登记号"})
    title: Mapped[str] = mapped_column(String(255), info={"label": "名称"})
    granted_on: Mapped[date | None] = mapped_column(info={"label": "授权日期"})
    status: Mapped[str] = mapped_column(String(16), default="valid", info={"label": "状态"})
    acquisition: Mapped[str] = mapped_column(String(16), default="own", info={"label": "获得方式"})
    #: The year of the certification application this Class II item was used in.
    used_in_year: Mapped[int | None] = mapped_column(info={"label": "已用于申报年度"})

    firm = relationship("Firm", back_populates="ip_items")

    @property
    def ip_class(self) -> str | None:
        """Return `I` or `II`, derived from the kind."""
        return rules.ip_class(self.kind)


class Qualification(Audited, TimestampMixin, db.Model):
    """A tier the firm holds for a year (科技型中小企业, 高新技术企业, 瞪羚企业, ...)."""

    __tablename__ = "qualifications"
    __table_args__ = (UniqueConstraint("firm_id", "tier", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(String(32), info={"label": "资质"})
    year: Mapped[int] = mapped_column(info={"label": "年度"})
    number: Mapped[str | None] = mapped_column(String(64), info={"label": "证书/登记编号"})
    source_document: Mapped[str | None] = mapped_column(String(255), info={"label": "依据文件"})

    firm = relationship("Firm", back_populates="qualifications")

    @property
    def tier_label(self) -> str:
        """Return the tier in Chinese."""
        return rules.TIERS.get(self.tier, (self.tier, 0))[0]


class Certificate(Audited, TimestampMixin, db.Model):
    """A dated certificate the firm holds or held: the one record of its validity.

    Valid on a day from its issue date to its expiry, unless it ended earlier on `ended_on`
    (replaced by a re-certification, or cancelled). Only the certification package writes it.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("firm_id", "kind", "issued_on"),
        Index("ix_certificates_kind_expires_on", "kind", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(
        ForeignKey("firms.id", ondelete="CASCADE"), index=True, info={"label": "企业"}
    )
    #: CERTIFICATE_KINDS.
    kind: Mapped[str] = mapped_column(
        String(16), default=rules.HTE_KIND, info={"label": "证书类型"}
    )
    number: Mapped[str | None] = mapped_column(String(64), index=True, info={"label": "证书编号"})
    issued_on: Mapped[date] = mapped_column(info={"label": "发证日期"})
    #: True when only the year is known (a record from before this table): dated 1 January
    #: until a list with the real date is imported.
    issued_on_estimated: Mapped[bool] = mapped_column(
        default=False, info={"label": "发证日期按年度估计"}
    )
    #: Issue date + 3 years − 1 day.
    expires_on: Mapped[date] = mapped_column(info={"label": "有效期至"})
    #: CERTIFICATE_SOURCES.
    source: Mapped[str] = mapped_column(String(16), info={"label": "来源"})
    #: What the record rests on: the batch, the imported file, the administrator's document.
    document: Mapped[str | None] = mapped_column(String(255), info={"label": "依据文件"})
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("certification_applications.id", ondelete="SET NULL"),
        index=True,
        info={"label": "认定申报"},
    )
    transition_id: Mapped[int | None] = mapped_column(
        ForeignKey("stage_transitions.id", ondelete="SET NULL"), info={"label": "阶段变更"}
    )
    #: CERTIFICATE_STATUSES.
    status: Mapped[str] = mapped_column(String(16), default="valid", info={"label": "状态"})
    #: The day it stopped being valid before its expiry (replaced, cancelled).
    ended_on: Mapped[date | None] = mapped_column(info={"label": "终止日期"})
    #: CANCEL_GROUNDS, for a cancelled certificate.
    cancel_ground: Mapped[str | None] = mapped_column(String(32), info={"label": "取消依据"})
    reason: Mapped[str | None] = mapped_column(Text, info={"label": "说明"})

    firm = relationship("Firm", back_populates="certificates")

    @property
    def kind_label(self) -> str:
        """Return the kind of certificate in Chinese."""
        return rules.CERTIFICATE_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        """Return the status in Chinese."""
        return rules.CERTIFICATE_STATUSES.get(self.status, self.status)

    @property
    def cancel_ground_label(self) -> str:
        """Return the ground of the cancellation in Chinese, or an empty string."""
        return rules.CANCEL_GROUNDS.get(self.cancel_ground or "", "")

    @property
    def source_label(self) -> str:
        """Return how the certificate was recorded, in Chinese."""
        return rules.CERTIFICATE_SOURCES.get(self.source, self.source)

    def is_valid_on(self, day: date) -> bool:
        """Tell whether the certificate was in force on `day`."""
        return rules.certificate_valid_on(self.issued_on, self.expires_on, self.ended_on, day)
