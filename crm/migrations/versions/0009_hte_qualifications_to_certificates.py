"""HTE qualifications give way to certificates: the certificate record is the only one.

Since 0008 every high-tech certificate is a dated row of `certificates`, which every reader asks;
the HTE rows of `qualifications` only repeated them by year. Any HTE qualification whose year no
certificate of its firm was issued in (one added after 0008, before this revision) first becomes
a certificate dated 1 January of that year, marked estimated; then the HTE qualifications go.
Going back re-creates one HTE qualification per firm and year of a certificate not cancelled.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:30:00.000000

"""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

qualifications = sa.table(
    "qualifications",
    sa.column("id", sa.Integer),
    sa.column("firm_id", sa.Integer),
    sa.column("tier", sa.String),
    sa.column("year", sa.Integer),
    sa.column("number", sa.String),
    sa.column("source_document", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
certificates = sa.table(
    "certificates",
    sa.column("firm_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("number", sa.String),
    sa.column("issued_on", sa.Date),
    sa.column("issued_on_estimated", sa.Boolean),
    sa.column("expires_on", sa.Date),
    sa.column("source", sa.String),
    sa.column("document", sa.String),
    sa.column("status", sa.String),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _expiry(issued_on: date) -> date:
    return issued_on.replace(year=issued_on.year + 3) - timedelta(days=1)


def upgrade():
    connection = op.get_bind()
    issued = {
        (row.firm_id, row.issued_on.year)
        for row in connection.execute(
            sa.select(certificates.c.firm_id, certificates.c.issued_on).where(
                certificates.c.kind == "hte"
            )
        )
    }
    missing = []
    for row in connection.execute(
        sa.select(qualifications)
        .where(qualifications.c.tier == "hte")
        .order_by(qualifications.c.firm_id, qualifications.c.year)
    ):
        if (row.firm_id, row.year) in issued:
            continue
        issued.add((row.firm_id, row.year))
        issued_on = date(row.year, 1, 1)
        missing.append(
            {
                "firm_id": row.firm_id,
                "kind": "hte",
                "number": row.number,
                "issued_on": issued_on,
                "issued_on_estimated": True,
                "expires_on": _expiry(issued_on),
                "source": "migrated",
                "document": row.source_document,
                "status": "valid",
                "created_at": _now(),
                "updated_at": _now(),
            }
        )
    if missing:
        connection.execute(certificates.insert(), missing)
    connection.execute(qualifications.delete().where(qualifications.c.tier == "hte"))


def downgrade():
    connection = op.get_bind()
    seen = set()
    rows = []
    for row in connection.execute(
        sa.select(certificates)
        .where(certificates.c.kind == "hte", certificates.c.status != "cancelled")
        .order_by(certificates.c.firm_id, certificates.c.issued_on)
    ):
        key = (row.firm_id, row.issued_on.year)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "firm_id": row.firm_id,
                "tier": "hte",
                "year": row.issued_on.year,
                "number": row.number,
                "source_document": row.document or "高新技术企业证书",
                "created_at": _now(),
                "updated_at": _now(),
            }
        )
    if rows:
        connection.execute(qualifications.insert(), rows)
