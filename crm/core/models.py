"""Mixins shared by the models of every domain."""

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from crm.core import clock


class TimestampMixin:
    """Add `created_at` and `updated_at`, kept in naive UTC."""

    created_at: Mapped[datetime] = mapped_column(default=clock.utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=clock.utcnow, onupdate=clock.utcnow)


def label_of(model, field: str) -> str:
    """Return the Chinese label stored in a column's `info`, or the field name."""
    column = model.__table__.columns.get(field)
    if column is None:
        return field
    return column.info.get("label", field)
