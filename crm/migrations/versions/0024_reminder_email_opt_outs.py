"""The kinds of reminder each user wants no e-mail about (e-mail is on by default).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 15:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_email_opt_outs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reminder_email_opt_outs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_reminder_email_opt_outs")),
    )


def downgrade():
    op.drop_table("reminder_email_opt_outs")
