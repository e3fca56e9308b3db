"""money and counters as BIGINT

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rupiah amounts and counters that only grow. PostgreSQL's INTEGER stops at 2,147,483,647: an
# order of 25 × Rp100.000.000 overflowed `orders.total`.
COLUMNS = (
    ("products", "price"),
    ("order_items", "unit_price"),
    ("orders", "total"),
    ("products", "recent_sold"),
    ("merchants", "rating_count"),
    ("merchants", "rating_sum"),
)


def upgrade() -> None:
    # SQLite's INTEGER holds 64 bits already; there the declared type changes nothing, and
    # rebuilding `products` would drop its search triggers.
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
