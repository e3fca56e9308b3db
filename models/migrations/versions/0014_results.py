"""results: the channel an order came from, orders by time, broadcast presses and funnels

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An identity's channel is the text before its colon, written portably (no split function is
# shared by SQLite and PostgreSQL).
IDENTITY_CHANNEL = (
    "CASE WHEN i.identity LIKE 'telegram:%' THEN 'telegram'"
    " WHEN i.identity LIKE 'whatsapp:%' THEN 'whatsapp'"
    " WHEN i.identity LIKE 'console:%' THEN 'console' END"
)


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_orders_created", ["created_at"], unique=False)
    # Old orders take the channel of their buyer when all of the buyer's identities are on one
    # channel; a buyer who wrote from two is not guessed.
    channel = IDENTITY_CHANNEL
    op.execute(
        f"UPDATE orders SET channel = (SELECT MIN({channel}) FROM identities AS i"
        f" WHERE i.person_id = orders.person_id HAVING MIN({channel}) = MAX({channel}))"
    )
    op.create_table(
        "broadcast_presses",
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("pressed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_presses_broadcast_id_broadcasts"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_broadcast_presses_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("broadcast_id", "person_id", name=op.f("pk_broadcast_presses")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("funnel_kept_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("funnel_delivered", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("funnel_read", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("funnel_ordered", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("funnel_ordered")
        batch_op.drop_column("funnel_read")
        batch_op.drop_column("funnel_delivered")
        batch_op.drop_column("funnel_kept_at")
    op.drop_table("broadcast_presses")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_created")
        batch_op.drop_column("channel")
