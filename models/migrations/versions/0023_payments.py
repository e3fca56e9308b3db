"""payments: merchants' payment details, and a transfer/QRIS order's payment and proof

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_details",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=40), nullable=True),
        sa.Column("account_number", sa.String(length=20), nullable=True),
        sa.Column("account_holder", sa.String(length=80), nullable=True),
        sa.Column("ewallet", sa.String(length=20), nullable=True),
        sa.Column("ewallet_phone", sa.String(length=20), nullable=True),
        sa.Column("qris_photo", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_payment_details_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["persons.id"], name=op.f("fk_payment_details_updated_by_persons")
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_payment_details")),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("payment_state", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("payment_asked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("payment_reminded_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("payment_proof", sa.String(length=500), nullable=True))
    with op.batch_alter_table("order_events") as batch:
        batch.add_column(sa.Column("payment_state", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("proof", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_events") as batch:
        batch.drop_column("proof")
        batch.drop_column("payment_state")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("payment_proof")
        batch.drop_column("payment_reminded_at")
        batch.drop_column("payment_asked_at")
        batch.drop_column("payment_state")
    op.drop_table("payment_details")
