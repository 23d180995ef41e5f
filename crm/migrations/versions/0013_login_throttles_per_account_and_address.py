"""Login throttles per account from any address, and per address at any accounts.

The lock per account and address let a locked account log in from another address, and one guess
each at many accounts triggered nothing. Failures at one account from anywhere now make its next
attempt wait longer and longer (capped), and many failures from one address lock it for a while.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:04:22.399755

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.Column("wait_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_throttles")),
        sa.UniqueConstraint("username", name=op.f("uq_account_throttles_username")),
    )
    op.create_table(
        "address_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_throttles")),
        sa.UniqueConstraint("address", name=op.f("uq_address_throttles_address")),
    )


def downgrade():
    op.drop_table("address_throttles")
    op.drop_table("account_throttles")
