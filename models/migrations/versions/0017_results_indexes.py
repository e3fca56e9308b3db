"""results indexes: a buyer's sold orders by time

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-13
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOLD = "status NOT IN ('rejected', 'cancelled', 'expired')"


def upgrade() -> None:
    # Whether a period's buyer is new is whether they have a sold order before it: one probe
    # of this index per buyer, answered from the index alone (models.results).
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_person_sold",
            ["person_id", "created_at"],
            sqlite_where=sa.text(SOLD),
            postgresql_where=sa.text(SOLD),
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_person_sold")
