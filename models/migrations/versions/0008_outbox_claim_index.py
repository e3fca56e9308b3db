"""outbox claim index: claimable rows only

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMABLE = "status IN ('pending', 'sending')"


def upgrade() -> None:
    # The claim ordered by due_at over two statuses of (channel, status, due_at, id): both
    # planners read every due row to sort them (a broadcast's million), or SQLite left the
    # index for a worse one as sent rows piled up. The partial index holds the claimable
    # rows only, in the order the claim takes them.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_queue")
        batch_op.create_index(
            "ix_outbox_due",
            ["channel", "due_at", "id"],
            sqlite_where=sa.text(CLAIMABLE),
            postgresql_where=sa.text(CLAIMABLE),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_queue", ["channel", "status", "due_at", "id"])
