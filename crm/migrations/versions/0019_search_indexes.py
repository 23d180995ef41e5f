"""Search read off indexes on PostgreSQL: trigram indexes of the firm and former names.

A search for a full firm name or a former name tested each of 100,000 firms in the list's order
until the end (about 110 ms on PostgreSQL). Trigram indexes (the pg_trgm extension) of the
firm names and the former names let PostgreSQL find the few matching firms directly; the
planner still walks the list's order when a word is common. The extension is trusted since
PostgreSQL 13: the owner of the database may create it. SQLite has no trigram index; nothing
changes there. The extension is left in place on downgrade.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 13:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

#: (table, index) of the trigram indexes of the names searched inside.
TRIGRAM_INDEXES = (
    ("firms", "ix_firms_name_trigrams"),
    ("firm_former_names", "ix_firm_former_names_name_trigrams"),
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, name in TRIGRAM_INDEXES:
        op.create_index(
            name, table, ["name"], postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name in reversed(TRIGRAM_INDEXES):
        op.drop_index(name, table_name=table)
