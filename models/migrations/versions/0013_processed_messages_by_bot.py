"""processed messages keyed on the bot they came to

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
# 0012 (BIGINT money and counters) lands from another branch; this follows it once merged.
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Telegram numbers updates per bot: two bots, or a new bot token, on one database reuse
    # the same ids, and a message id alone dropped the other bot's updates as seen. Ids
    # handled before keep an empty bot; Telegram redelivers only what was not confirmed.
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bot", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.drop_constraint("pk_processed_messages", type_="primary")
        batch_op.create_primary_key("pk_processed_messages", ["channel", "bot", "message_id"])


def downgrade() -> None:
    # Ids that two bots share would collide under the old key: one of each is kept.
    op.execute(
        "DELETE FROM processed_messages WHERE bot <> ''"
        " AND EXISTS (SELECT 1 FROM processed_messages AS o WHERE o.channel ="
        " processed_messages.channel AND o.message_id = processed_messages.message_id"
        " AND o.bot < processed_messages.bot)"
    )
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.drop_constraint("pk_processed_messages", type_="primary")
        batch_op.create_primary_key("pk_processed_messages", ["channel", "message_id"])
        batch_op.drop_column("bot")
