"""paid broadcast: the Friday's choice of Telegram's paid broadcast, who made it, when
Telegram refused it, and how many paid sends went out

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as table:
        table.add_column(sa.Column("paid", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("paid_chosen_by", sa.Integer(), nullable=True))
        table.add_column(sa.Column("paid_refused_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(
            sa.Column("paid_sends", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        table.create_foreign_key(
            op.f("fk_broadcasts_paid_chosen_by_persons"), "persons", ["paid_chosen_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as table:
        table.drop_constraint(op.f("fk_broadcasts_paid_chosen_by_persons"), type_="foreignkey")
        table.drop_column("paid_sends")
        table.drop_column("paid_refused_at")
        table.drop_column("paid_chosen_by")
        table.drop_column("paid")
