"""Targets of the dashboard indicators, per year, for the city or one district.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 06:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("placeholder", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index(
            "uq_targets_city",
            ["year", "indicator"],
            unique=True,
            sqlite_where=sa.text("district_id IS NULL"),
            postgresql_where=sa.text("district_id IS NULL"),
        )
        batch_op.create_index(
            "uq_targets_district",
            ["year", "indicator", "district_id"],
            unique=True,
            sqlite_where=sa.text("district_id IS NOT NULL"),
            postgresql_where=sa.text("district_id IS NOT NULL"),
        )


def downgrade():
    op.drop_table("targets")
