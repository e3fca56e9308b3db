"""catalog import keys: merchants by Jakpreneur id, products by merchant and SKU

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What staff's files hold of a merchant, matched by the program's own id (`jbl import`).
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jakpreneur_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("owner_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("address", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("pickup", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("delivery", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_merchants_jakpreneur_id", ["jakpreneur_id"], unique=True)
        # A merchant who writes from the phone in the import is found by it.
        batch_op.create_index("ix_merchants_contact_phone", ["contact_phone"], unique=False)
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sku", sa.String(length=60), nullable=True))
        batch_op.create_index("ix_products_merchant_sku", ["merchant_id", "sku"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_merchant_sku")
        batch_op.drop_column("sku")
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_index("ix_merchants_contact_phone")
        batch_op.drop_index("ix_merchants_jakpreneur_id")
        for column in ("delivery", "pickup", "description", "address", "owner_name"):
            batch_op.drop_column(column)
        batch_op.drop_column("jakpreneur_id")
