"""Reminders: the rules, the versions of their settings, the reminder rows; users for owners.

A reminder is unique by (rule, record, recipient, period), so the daily scan inserts with
insert-or-ignore and a rerun or a second worker creates nothing twice. A coaching measure's
owner and a visit's follow-up were free text, which no reminder can reach: each gets a user
reference. Existing measures whose owner text is exactly the name of one active staff user get
that user (best effort; the text stays as the label). Follow-ups had no owner at all: their
reminders go to whoever logged the visit until someone is named.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 09:00:00

"""

import sqlalchemy as sa
from alembic import op

STAFF = "('admin', 'bureau_head', 'manager')"
MATCH = (
    "FROM users WHERE users.name = TRIM(coaching_measures.owner) "
    f"AND users.role IN {STAFF} AND users.is_active = :active"
)


# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_rules")),
        sa.UniqueConstraint("code", name=op.f("uq_reminder_rules_code")),
    )
    op.create_table(
        "reminder_rule_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_reminder_rule_versions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["reminder_rules.id"],
            name=op.f("fk_reminder_rule_versions_rule_id_reminder_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_rule_versions")),
    )
    with op.batch_alter_table("reminder_rule_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reminder_rule_versions_rule_effective", ["rule_id", "effective_on"], unique=False
        )

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=True),
        sa.Column("record_type", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("recipient_kind", sa.String(length=8), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=24), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("link_endpoint", sa.String(length=64), nullable=False),
        sa.Column("link_args", sa.JSON(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_reason", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_reminders_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["reminder_rules.id"],
            name=op.f("fk_reminders_rule_id_reminder_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint(
            "rule_id",
            "record_id",
            "recipient_kind",
            "recipient_id",
            "period",
            name="uq_reminders_key",
        ),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminders_firm_id"), ["firm_id"], unique=False)
        batch_op.create_index(
            "ix_reminders_open_recipient",
            ["recipient_kind", "recipient_id", "due_on"],
            unique=False,
            sqlite_where=sa.text("closed_at IS NULL AND done_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL AND done_at IS NULL"),
        )

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_owner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_activities_follow_up_owner_id_users"),
            "users",
            ["follow_up_owner_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("coaching_measures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_coaching_measures_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_coaching_measures_owner_id_users"),
            "users",
            ["owner_id"],
            ["id"],
            ondelete="SET NULL",
        )

    # The owner named by its user's exact name, when exactly one active staff user has it.
    op.get_bind().execute(
        sa.text(
            f"UPDATE coaching_measures SET owner_id = (SELECT MIN(users.id) {MATCH}) "
            f"WHERE owner IS NOT NULL AND (SELECT COUNT(*) {MATCH}) = 1"
        ),
        {"active": True},
    )


def downgrade():
    with op.batch_alter_table("coaching_measures", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_coaching_measures_owner_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_coaching_measures_owner_id"))
        batch_op.drop_column("owner_id")

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_activities_follow_up_owner_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("follow_up_owner_id")

    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_reminders_open_recipient",
            sqlite_where=sa.text("closed_at IS NULL AND done_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL AND done_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_reminders_firm_id"))

    op.drop_table("reminders")
    with op.batch_alter_table("reminder_rule_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_rule_versions_rule_effective")

    op.drop_table("reminder_rule_versions")
    op.drop_table("reminder_rules")
