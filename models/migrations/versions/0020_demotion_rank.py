"""demotion rank: demoted products rank after all others in search, and each Friday's demotion
is recorded once

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = "new.active AND new.review_state = 'listed'"
# The catalog order as one integer, as in 0001 and 0019, with demoted above curated: a demoted
# product's key is larger than any other's, so FTS5 walks it after them.
RANK_KEY = (
    "(({row}.demoted << 53) | ((1 - {row}.curated) << 52)"
    " | ((1048575 - min({row}.recent_sold, 1048575)) << 32) | (4294967295 - {row}.id))"
)
# The key of 0019, to go back to.
RANK_KEY_0019 = (
    "(((1 - {row}.curated) << 52) | ((1048575 - min({row}.recent_sold, 1048575)) << 32)"
    " | (4294967295 - {row}.id))"
)
WATCHED = "active, review_state, demoted, curated, recent_sold, search_text"
WATCHED_0019 = "active, review_state, curated, recent_sold, search_text"


def _sqlite_triggers(rank_key: str, watched: str) -> list[str]:
    return [
        f"CREATE TRIGGER product_search_insert AFTER INSERT ON products WHEN {LISTED} BEGIN "
        f"INSERT INTO product_search(rowid, search_text) "
        f"VALUES ({rank_key.format(row='new')}, new.search_text); END",
        f"CREATE TRIGGER product_search_update AFTER UPDATE OF {watched} ON products BEGIN "
        f"DELETE FROM product_search WHERE rowid = {rank_key.format(row='old')}; "
        f"INSERT INTO product_search(rowid, search_text) "
        f"SELECT {rank_key.format(row='new')}, new.search_text WHERE {LISTED}; END",
        "CREATE TRIGGER product_search_delete AFTER DELETE ON products BEGIN "
        f"DELETE FROM product_search WHERE rowid = {rank_key.format(row='old')}; END",
    ]


def _sqlite_rekey(rank_key: str, watched: str) -> None:
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS product_search_{name}")
    for statement in _sqlite_triggers(rank_key, watched):
        op.execute(statement)
    # Every listed product keyed again by the new key.
    op.execute("DELETE FROM product_search")
    op.execute(
        "INSERT INTO product_search(rowid, search_text) SELECT "
        f"{rank_key.format(row='products')}, search_text FROM products "
        "WHERE active AND review_state = 'listed'"
    )


def _postgres_popular(columns: str) -> None:
    op.execute("DROP INDEX ix_products_popular")
    op.execute(
        f"CREATE INDEX ix_products_popular ON products ({columns}) "
        "WHERE active AND review_state = 'listed'"
    )


def upgrade() -> None:
    # One row per Friday whose demotion ran: the job claims it in the transaction that demotes,
    # so that firing twice or late demotes once.
    op.create_table(
        "demotion_runs",
        sa.Column("friday", sa.Date(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("demoted", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"], name=op.f("fk_demotion_runs_category_id_categories")
        ),
        sa.PrimaryKeyConstraint("friday", name=op.f("pk_demotion_runs")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rekey(RANK_KEY, WATCHED)
    else:
        _postgres_popular("demoted, curated DESC, recent_sold DESC, id DESC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rekey(RANK_KEY_0019, WATCHED_0019)
    else:
        _postgres_popular("curated DESC, recent_sold DESC, id DESC")
    op.drop_table("demotion_runs")
