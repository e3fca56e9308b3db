"""shop claims: merchants take over their imported shop by phone, staff decide the contested

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_shop_claims_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_shop_claims_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_claims")),
        sa.UniqueConstraint("person_id", "merchant_id", name=op.f("uq_shop_claims_person_id")),
    )
    op.create_index("ix_shop_claims_status", "shop_claims", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shop_claims_status", table_name="shop_claims")
    op.drop_table("shop_claims")
