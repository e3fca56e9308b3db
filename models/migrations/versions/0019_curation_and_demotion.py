"""curation and demotion: a product's review by staff, and its demotion when it stops selling

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The catalog lists what its merchant shows and staff approved (models.catalog.listed).
LISTED = "new.active AND new.review_state = 'listed'"
# As in 0001: the catalog order as one integer, the product id in the low 32 bits.
RANK_KEY = (
    "(((1 - {row}.curated) << 52) | ((1048575 - min({row}.recent_sold, 1048575)) << 32)"
    " | (4294967295 - {row}.id))"
)


def _sqlite_triggers(rank_key: str, listed: str, watched: str) -> list[str]:
    return [
        f"CREATE TRIGGER product_search_insert AFTER INSERT ON products WHEN {listed} BEGIN "
        f"INSERT INTO product_search(rowid, search_text) "
        f"VALUES ({rank_key.format(row='new')}, new.search_text); END",
        f"CREATE TRIGGER product_search_update AFTER UPDATE OF {watched} ON products BEGIN "
        f"DELETE FROM product_search WHERE rowid = {rank_key.format(row='old')}; "
        f"INSERT INTO product_search(rowid, search_text) "
        f"SELECT {rank_key.format(row='new')}, new.search_text WHERE {listed}; END",
        "CREATE TRIGGER product_search_delete AFTER DELETE ON products BEGIN "
        f"DELETE FROM product_search WHERE rowid = {rank_key.format(row='old')}; END",
    ]


def _drop_sqlite_triggers() -> None:
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS product_search_{name}")


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        # Staff's review: listed, waiting, changes asked or rejected, with the note the merchant
        # is shown, and since when it waits (the queue is oldest first).
        batch_op.add_column(
            sa.Column("review_state", sa.String(length=16), server_default="listed", nullable=False)
        )
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("review_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        # Demoted by the weekly job on the Friday it names: no sale over the editions before.
        batch_op.add_column(
            sa.Column("demoted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("demoted_on", sa.Date(), nullable=True))
        batch_op.drop_index("ix_products_catalog")
        batch_op.create_index(
            "ix_products_catalog",
            ["category_id", "active", "review_state", "demoted", "curated", "recent_sold", "id"],
        )
        batch_op.create_index("ix_products_review", ["review_state", "review_requested_at", "id"])
    if op.get_bind().dialect.name == "sqlite":
        _drop_sqlite_triggers()
        watched = "active, review_state, curated, recent_sold, search_text"
        for statement in _sqlite_triggers(RANK_KEY, LISTED, watched):
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_products_popular")
        op.execute(
            "CREATE INDEX ix_products_popular ON products "
            "(curated DESC, recent_sold DESC, id DESC) WHERE active AND review_state = 'listed'"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Dropping a column the triggers read is refused: they go first and come back after.
        _drop_sqlite_triggers()
    else:
        op.execute("DROP INDEX ix_products_popular")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_review")
        batch_op.drop_index("ix_products_catalog")
        batch_op.create_index(
            "ix_products_catalog", ["category_id", "active", "curated", "recent_sold", "id"]
        )
        for column in ("demoted_on", "demoted", "review_requested_at", "review_note"):
            batch_op.drop_column(column)
        batch_op.drop_column("review_state")
    if sqlite:
        for statement in _sqlite_triggers(
            RANK_KEY, "new.active", "active, curated, recent_sold, search_text"
        ):
            op.execute(statement)
        # Products waiting for review were left out: all shown ones are keyed again.
        op.execute("DELETE FROM product_search")
        op.execute(
            "INSERT INTO product_search(rowid, search_text) SELECT "
            f"{RANK_KEY.format(row='products')}, search_text FROM products WHERE active"
        )
    else:
        op.execute(
            "CREATE INDEX ix_products_popular ON products "
            "(curated DESC, recent_sold DESC, id DESC) WHERE active"
        )
