"""Reference data seeded per city: districts, parks, industries, technology fields."""

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db


class District(TimestampMixin, db.Model):
    """A county-level unit (县、市、区) of the deployment's city."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Administrative division code (GB/T 2260), also USCC positions 3-8.
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    #: Codes of former units now part of this one (451021 田阳县 → 田阳区).
    legacy_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Other names people write for it: short forms, former names, with the city prefix.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(default=0)


class Park(TimestampMixin, db.Model):
    """An industrial or high-tech park."""

    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    district = relationship("District")


class TechField(TimestampMixin, db.Model):
    """One of the eight fields of 《国家重点支持的高新技术领域》."""

    __tablename__ = "tech_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class Industry(TimestampMixin, db.Model):
    """An industry a firm belongs to: a technology field or one of the city's key industries."""

    __tablename__ = "industries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    #: True for the city's key industries named in its decision.
    is_key: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(default=0)
