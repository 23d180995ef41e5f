"""Import batches say when their uploaded file was deleted at the end of its retention.

The worker deletes uploaded workbooks after UPLOAD_RETENTION_DAYS (those of batches that can
still be undone excepted); the batch keeps its rows and its page says the file is gone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 11:27:45.948701

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_removed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_column("file_removed_at")
