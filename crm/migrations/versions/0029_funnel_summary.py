"""The funnel summary: each firm's position per programme and its stays, for the dashboard.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 03:30:00.000000

The tables are filled from the enrollments and transitions already recorded, by the same code
that keeps them current (`crm.pipeline.summary.rebuild`).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

COPIED = ("district_id", "park_id", "tech_field_id", "manager_id")
#: The order the covering indexes list the copied columns in.
INDEXED = ("district_id", "manager_id", "park_id", "tech_field_id")


def upgrade():
    op.create_table(
        "funnel_positions",
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=True) for name in COPIED),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"]),
        sa.ForeignKeyConstraint(["stage_id"], ["stages.id"]),
        sa.PrimaryKeyConstraint("firm_id", "programme_id"),
    )
    op.create_index(
        "ix_funnel_positions_counts",
        "funnel_positions",
        ["programme_id", "stage_id", *INDEXED],
    )
    op.create_table(
        "funnel_stays",
        sa.Column("transition_id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("first_entry", sa.Boolean(), nullable=False),
        sa.Column("later_mask", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=True) for name in COPIED),
        sa.ForeignKeyConstraint(["transition_id"], ["stage_transitions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"]),
        sa.ForeignKeyConstraint(["stage_id"], ["stages.id"]),
        sa.PrimaryKeyConstraint("transition_id"),
    )
    op.create_index("ix_funnel_stays_firm_id", "funnel_stays", ["firm_id"])
    op.create_index(
        "ix_funnel_stays_entries",
        "funnel_stays",
        ["stage_id", "first_entry", "started_on", "later_mask", *INDEXED],
    )
    op.create_index(
        "ix_funnel_stays_lengths",
        "funnel_stays",
        ["programme_id", "is_current", "stage_id", "days", "started_on", *INDEXED],
    )
    from crm.pipeline import summary

    summary.rebuild(op.get_bind())


def downgrade():
    op.drop_table("funnel_stays")
    op.drop_table("funnel_positions")
