"""report_deliveries: the staff's Saturday report of a Friday, queued once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-13
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_deliveries",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("friday", sa.Date(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_report_deliveries_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("person_id", "friday", name=op.f("pk_report_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("report_deliveries")
