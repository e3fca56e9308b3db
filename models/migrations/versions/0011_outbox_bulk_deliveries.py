"""outbox without foreign keys and without the indexes no query reads

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Starting a broadcast to a million subscribers inserts 840,000 outbox rows in one
    # statement. On PostgreSQL each row paid three foreign-key checks (the person's locking its
    # persons row, so every persons page was rewritten as well) and two index entries nobody
    # reads: no query looks rows up by person, and the console's take by identity now goes
    # through the claim's partial index. Together they were about two thirds of the start
    # (benchmarks/broadcast.py).
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_person_id_persons", type_="foreignkey")
        batch_op.drop_constraint("fk_outbox_merchant_id_merchants", type_="foreignkey")
        batch_op.drop_constraint("fk_outbox_broadcast_id_broadcasts", type_="foreignkey")
        batch_op.drop_index("ix_outbox_person_id")
        batch_op.drop_index("ix_outbox_identity")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_identity", ["identity"], unique=False)
        batch_op.create_index("ix_outbox_person_id", ["person_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_outbox_broadcast_id_broadcasts", "broadcasts", ["broadcast_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_outbox_merchant_id_merchants", "merchants", ["merchant_id"], ["id"]
        )
        batch_op.create_foreign_key("fk_outbox_person_id_persons", "persons", ["person_id"], ["id"])
