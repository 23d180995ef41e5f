"""The firm list by district off an index of the live firms by (district, id).

The firm list by district joined every firm it shows to its district and sorted them all (113 to
177 ms at 100,000 firms on PostgreSQL). It is now read district by district, in the districts'
order, each from this index at the right offset.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 13:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")


def upgrade():
    with op.batch_alter_table("firms", schema=None) as batch_op:
        batch_op.create_index(
            "ix_firms_live_district",
            ["district_id", "id"],
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade():
    with op.batch_alter_table("firms", schema=None) as batch_op:
        batch_op.drop_index("ix_firms_live_district")
