"""processed messages by age

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The nightly prune deletes the oldest ids; without this it would read the whole table.
    op.create_index("ix_processed_messages_at", "processed_messages", ["at"])


def downgrade() -> None:
    op.drop_index("ix_processed_messages_at", table_name="processed_messages")
