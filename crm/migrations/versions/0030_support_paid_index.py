"""An index of the support paid in a year, which the dashboard sums by kind.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 04:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_support_entries_status_paid_on",
        "support_entries",
        ["status", "paid_on", "firm_id", "kind", "amount"],
    )


def downgrade():
    op.drop_index("ix_support_entries_status_paid_on", table_name="support_entries")
