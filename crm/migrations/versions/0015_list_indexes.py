"""Indexes in the order of each list's sort, so a page is read off an index at 100,000 firms.

The firm list had an index on `deleted_at` alone. Every live firm matches `deleted_at IS NULL`,
yet the planner took it, fetched every firm and sorted them all for each page (350 ms at
100,000 firms by last update). Partial indexes over the live firms, one per sort with its
tie-break on id, give a page in index order; the deleted firms keep a small partial index of
their own for the administrator's 只看已删除.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 11:07:46.698637

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
DELETED = sa.text("deleted_at IS NOT NULL")
#: (name, columns) of the partial indexes over the live firms.
LIVE_INDEXES = (
    ("ix_firms_live_name", ["name", "id"]),
    ("ix_firms_live_established_on", ["established_on", "id"]),
    ("ix_firms_live_updated_at", ["updated_at", "id"]),
)


def upgrade():
    with op.batch_alter_table("firms", schema=None) as batch_op:
        batch_op.drop_index("ix_firms_deleted_at")
        batch_op.create_index(
            "ix_firms_deleted", ["deleted_at"], sqlite_where=DELETED, postgresql_where=DELETED
        )
        for name, columns in LIVE_INDEXES:
            batch_op.create_index(name, columns, sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade():
    with op.batch_alter_table("firms", schema=None) as batch_op:
        for name, _ in reversed(LIVE_INDEXES):
            batch_op.drop_index(name)
        batch_op.drop_index("ix_firms_deleted")
        batch_op.create_index("ix_firms_deleted_at", ["deleted_at"])
