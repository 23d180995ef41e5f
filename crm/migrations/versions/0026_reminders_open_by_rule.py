"""A rule's open reminders off an index: the scan checks each day whom they still address.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 18:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

OPEN = sa.text("closed_at IS NULL AND done_at IS NULL")


def upgrade():
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reminders_open_rule",
            ["rule_id", "recipient_kind", "recipient_id", "firm_id", "record_id"],
            unique=False,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )


def downgrade():
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_open_rule", sqlite_where=OPEN, postgresql_where=OPEN)
