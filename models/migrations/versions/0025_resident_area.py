"""resident's area: the kecamatan and kelurahan a resident shops near ("Dekat saya")

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns are added in place on SQLite too: no copy of the table.
    op.add_column("persons", sa.Column("area_kecamatan", sa.String(length=60), nullable=True))
    op.add_column("persons", sa.Column("area_kelurahan", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("area_kelurahan")
        batch.drop_column("area_kecamatan")
