"""linked accounts: one person on Telegram and WhatsApp, joined by a code from /tautkan

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("identities", sa.Column("linked_from", sa.Integer(), nullable=True))
    op.add_column("roles", sa.Column("linked_from", sa.Integer(), nullable=True))
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_link_codes_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_codes")),
    )
    op.create_index(
        "ix_link_codes_code_hash", "link_codes", ["code_hash", "expires_at"], unique=False
    )
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_attempts")),
    )
    op.create_index("ix_link_attempts_identity", "link_attempts", ["identity", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_link_attempts_identity", table_name="link_attempts")
    op.drop_table("link_attempts")
    op.drop_index("ix_link_codes_code_hash", table_name="link_codes")
    op.drop_table("link_codes")
    with op.batch_alter_table("roles") as batch:
        batch.drop_column("linked_from")
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("linked_from")
