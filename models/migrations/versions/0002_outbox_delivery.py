"""outbox delivery: due time and claims; unreachable identities

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.drop_index("ix_outbox_due")
    op.execute("UPDATE outbox SET due_at = created_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_outbox_queue", ["channel", "status", "due_at", "id"])
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_queue")
        batch_op.create_index("ix_outbox_due", ["status", "channel", "id"])
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("due_at")
