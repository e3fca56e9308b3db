"""bot setup: a digest of what was last set at the platform per bot (webhook, command menus)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_setup",
        sa.Column("bot", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot", "item", name=op.f("pk_bot_setup")),
    )


def downgrade() -> None:
    op.drop_table("bot_setup")
