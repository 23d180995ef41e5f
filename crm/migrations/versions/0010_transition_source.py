"""Stage transitions say where they came from: a person's move, or an imported official list.

A provincial list of certified firms, or a county's reserve-pool list, puts the firms it names
into their stage. Those transitions carry the import batch as their source (`import:<id>`), so
the batch's undo finds and removes exactly them; a move made on a page leaves it empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stage_transitions") as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_stage_transitions_source", ["source"])


def downgrade():
    with op.batch_alter_table("stage_transitions") as batch_op:
        batch_op.drop_index("ix_stage_transitions_source")
        batch_op.drop_column("source")
