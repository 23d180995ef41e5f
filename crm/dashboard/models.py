"""The targets the bureau is judged against (domain.md §8), as data administrators edit."""

from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import TimestampMixin
from crm.extensions import db


class Target(TimestampMixin, db.Model):
    """The value an indicator should reach in a year, for the whole city or one district.

    `indicator` is a key of `crm.dashboard.targets.INDICATORS`. A row seeded from the doubling
    plan is a placeholder until an administrator sets the bureau's own figure.
    """

    __tablename__ = "targets"
    __table_args__ = (
        # One value per year and indicator for the whole city, and one per district.
        Index(
            "uq_targets_city",
            "year",
            "indicator",
            unique=True,
            sqlite_where=text("district_id IS NULL"),
            postgresql_where=text("district_id IS NULL"),
        ),
        Index(
            "uq_targets_district",
            "year",
            "indicator",
            "district_id",
            unique=True,
            sqlite_where=text("district_id IS NOT NULL"),
            postgresql_where=text("district_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(info={"label": "年度"})
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id"), info={"label": "县（市、区）"}
    )
    indicator: Mapped[str] = mapped_column(String(32), info={"label": "指标"})
    value: Mapped[Decimal] = mapped_column(Numeric(16, 2), info={"label": "目标值"})
    #: True while the value is the seeded doubling-plan figure, not one the bureau set.
    placeholder: Mapped[bool] = mapped_column(default=False, info={"label": "占位值"})

    district = relationship("District")
