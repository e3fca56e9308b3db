"""merchant invites

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merchant_invites",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_invites_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["used_by"], ["persons.id"], name=op.f("fk_merchant_invites_used_by_persons")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_merchant_invites")),
    )
    with op.batch_alter_table("merchant_invites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_merchant_invites_merchant_id"), ["merchant_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("merchant_invites")
