"""search text without angle brackets

PostgreSQL's full-text parser takes `<word>` for a markup tag and leaves the word out of the
index, so a product named `Kue <Lapis>` was not found by "lapis".

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE products SET search_text = replace(replace(search_text, '<', ' '), '>', ' ')"
        " WHERE search_text LIKE '%<%' OR search_text LIKE '%>%'"
    )


def downgrade() -> None:
    """Nothing to undo: the brackets carried no meaning for search."""
