"""Indexes the bell, the notification centre and 今日待办 read off alone.

The open reminders' index by recipient and due date carries the columns the bell and the
centre's groups read (snooze, read, kind), and a second one by kind carries the district, which
reminders now copy from their firm, for 今日待办 and the bureau's view narrowed to a district; a
third finds a recipient's done and closed ones.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 18:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

OPEN = sa.text("closed_at IS NULL AND done_at IS NULL")
FINISHED = sa.text("closed_at IS NOT NULL OR done_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reminders_district_id_districts"),
            "districts",
            ["district_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(
        "UPDATE reminders SET district_id = "
        "(SELECT firms.district_id FROM firms WHERE firms.id = reminders.firm_id) "
        "WHERE firm_id IS NOT NULL"
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_open_recipient", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index(
            "ix_reminders_open_due",
            ["recipient_kind", "recipient_id", "due_on", "id", "snoozed_until", "read_at", "kind"],
            unique=False,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
        batch_op.create_index(
            "ix_reminders_open_kind",
            [
                "recipient_kind",
                "recipient_id",
                "kind",
                "due_on",
                "id",
                "snoozed_until",
                "district_id",
            ],
            unique=False,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
        batch_op.create_index(
            "ix_reminders_finished_recipient",
            ["recipient_kind", "recipient_id", "updated_at"],
            unique=False,
            sqlite_where=FINISHED,
            postgresql_where=FINISHED,
        )


def downgrade():
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_reminders_finished_recipient", sqlite_where=FINISHED, postgresql_where=FINISHED
        )
        batch_op.drop_index("ix_reminders_open_kind", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index("ix_reminders_open_due", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index(
            "ix_reminders_open_recipient",
            ["recipient_kind", "recipient_id", "due_on"],
            unique=False,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reminders_district_id_districts"), type_="foreignkey"
        )
        batch_op.drop_column("district_id")
