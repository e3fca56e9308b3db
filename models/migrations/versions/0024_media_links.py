"""media_links: expiring tokens under which photos sent in chat are fetched by URL

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_links",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("media_key", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_media_links")),
    )
    with op.batch_alter_table("media_links", schema=None) as batch_op:
        batch_op.create_index("ix_media_links_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_media_links_media_key", ["media_key", "expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("media_links")
