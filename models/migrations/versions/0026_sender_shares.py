"""sender shares: the live outbox senders that split a platform's limit, and the chats they hold

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENDING = "status = 'sending'"


def upgrade() -> None:
    op.create_table(
        "sender_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sender_key", sa.String(length=80), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sender_shares")),
        sa.UniqueConstraint("worker", name=op.f("uq_sender_shares_worker")),
    )
    with op.batch_alter_table("sender_shares", schema=None) as batch_op:
        batch_op.create_index("ix_sender_shares_group", ["channel", "sender_key"], unique=False)
    # A claim on PostgreSQL skips the chats whose rows another sender holds: the rows being
    # sent, by chat. Broadcast rows are written pending, so they add nothing to it.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_sending",
            ["identity"],
            sqlite_where=sa.text(SENDING),
            postgresql_where=sa.text(SENDING),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_sending")
    op.drop_table("sender_shares")
