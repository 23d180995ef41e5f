"""The funnel summary: narrow copies of each live firm's pipeline and indicator facts.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 03:30:00.000000

The tables are filled from the records already there by the code that keeps them current
(`crm.pipeline.summary.rebuild`), when there are firms to summarise. That code follows the
tables at the head: a later migration that changes them must rebuild them itself, and this one
then fills only a database that already has firms, which it upgrades in one run to the head.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

#: The firm columns each table copies, in the order the covering indexes list them.
COPIED = ("district_id", "manager_id", "park_id", "tech_field_id")


def _copies() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=True) for name in COPIED]


def _firm() -> list:
    return [
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], ondelete="CASCADE"),
    ]


def _counts(name: str, *key: sa.Column) -> None:
    """Create a table of counts keyed by `key` and the copied firm columns (0: none)."""
    copies = ("district_id", "park_id", "tech_field_id", "manager_id")
    op.create_table(
        name,
        *key,
        *(sa.Column(copy, sa.Integer(), nullable=False) for copy in copies),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*(column.name for column in key), *copies),
    )


def upgrade():
    op.create_table(
        "funnel_firms",
        *_firm(),
        *_copies(),
        sa.PrimaryKeyConstraint("firm_id"),
    )
    op.create_table(
        "funnel_positions",
        *_firm(),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        *_copies(),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"]),
        sa.ForeignKeyConstraint(["stage_id"], ["stages.id"]),
        sa.PrimaryKeyConstraint("firm_id", "programme_id"),
    )
    op.create_index(
        "ix_funnel_positions_counts",
        "funnel_positions",
        ["programme_id", "stage_id", *COPIED],
    )
    op.create_table(
        "funnel_stays",
        sa.Column("transition_id", sa.Integer(), nullable=False),
        *_firm(),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("first_entry", sa.Boolean(), nullable=False),
        sa.Column("later_mask", sa.Integer(), nullable=False),
        *_copies(),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"]),
        sa.ForeignKeyConstraint(["stage_id"], ["stages.id"]),
        sa.PrimaryKeyConstraint("transition_id"),
    )
    op.create_index("ix_funnel_stays_firm_id", "funnel_stays", ["firm_id"])
    op.create_index(
        "ix_funnel_stays_entries",
        "funnel_stays",
        ["stage_id", "first_entry", "started_on", "later_mask", *COPIED],
    )
    op.create_index(
        "ix_funnel_stays_lengths",
        "funnel_stays",
        ["programme_id", "is_current", "stage_id", "days", "started_on", *COPIED],
    )
    op.create_table(
        "funnel_certificates",
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        *_firm(),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        *_copies(),
        sa.PrimaryKeyConstraint("certificate_id"),
    )
    op.create_index("ix_funnel_certificates_firm_id", "funnel_certificates", ["firm_id"])
    op.create_index(
        "ix_funnel_certificates_span",
        "funnel_certificates",
        ["expires_on", "issued_on", "ended_on", "status", *COPIED, "firm_id"],
    )
    op.create_table(
        "funnel_patents",
        sa.Column("item_id", sa.Integer(), nullable=False),
        *_firm(),
        sa.Column("granted_on", sa.Date(), nullable=False),
        *_copies(),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("ix_funnel_patents_firm_id", "funnel_patents", ["firm_id"])
    op.create_index("ix_funnel_patents_granted_on", "funnel_patents", ["granted_on", *COPIED])
    op.create_table(
        "funnel_pool_years",
        *_firm(),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("rd_expense", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("sales_revenue", sa.Numeric(precision=16, scale=2), nullable=False),
        *_copies(),
        sa.PrimaryKeyConstraint("firm_id", "year"),
    )
    op.create_index(
        "ix_funnel_pool_years_year",
        "funnel_pool_years",
        ["year", *COPIED, "rd_expense", "sales_revenue"],
    )
    _counts(
        "funnel_stage_counts",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
    )
    _counts(
        "funnel_entry_counts",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("cohort", sa.Integer(), nullable=False),
        sa.Column("later_mask", sa.Integer(), nullable=False),
    )
    _counts(
        "funnel_length_counts",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
    )
    _counts(
        "funnel_running_counts",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
    )
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT count(*) FROM firms")):
        from crm.pipeline import summary

        summary.rebuild(bind)


def downgrade():
    for table in (
        "funnel_running_counts",
        "funnel_length_counts",
        "funnel_entry_counts",
        "funnel_stage_counts",
        "funnel_pool_years",
        "funnel_patents",
        "funnel_certificates",
        "funnel_stays",
        "funnel_positions",
        "funnel_firms",
    ):
        op.drop_table(table)
