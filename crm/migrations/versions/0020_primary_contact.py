"""A firm's primary contact: the person a firm list's 联系人 names.

Firm lists carry one contact per firm (联系人, 联系电话, 邮箱, 职务). Importing a list that names
someone new makes that person the primary contact while the former one stays in the list, so
which contact is the primary one is now recorded. Existing contacts are ordinary ones; a firm
none of whose contacts is marked has its first contact as the primary one.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("firm_contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_primary", sa.Boolean(), nullable=True))
    contacts = sa.table("firm_contacts", sa.column("is_primary", sa.Boolean))
    op.get_bind().execute(contacts.update().values(is_primary=False))
    with op.batch_alter_table("firm_contacts", schema=None) as batch_op:
        batch_op.alter_column("is_primary", existing_type=sa.Boolean(), nullable=False)


def downgrade():
    with op.batch_alter_table("firm_contacts", schema=None) as batch_op:
        batch_op.drop_column("is_primary")
