"""Word-prefix text search over product, merchant and category names.

SQLite answers from an FTS5 index, PostgreSQL from a GIN full-text index; both are created
by the migration and follow `products.search_text`.
"""

from __future__ import annotations

import re

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product

MAX_WORDS = 5
MAX_WORD_LENGTH = 30
_ID_MASK = 0xFFFFFFFF
# Letters and digits only: both FTS tokenizers split on underscores and punctuation.
WORD = re.compile(r"[^\W_]+")


def search_words(query: str) -> list[str]:
    """The words of a query that can be matched; punctuation and operators are dropped."""
    words = [w.lower()[:MAX_WORD_LENGTH] for w in WORD.findall(query)]
    return words[:MAX_WORDS]


async def search_products(
    session: AsyncSession, words: list[str], *, offset: int = 0, limit: int = 8
) -> list[Product]:
    """Active products matching every word as a prefix, in catalog order: curated first,
    then what sold most in the last four weeks, then newest.

    Both databases find the page without scoring every match (see the migration), so a word
    found in a hundred thousand products costs about what a rare one does.
    """
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted, so FTS5 syntax typed by a person is taken as plain text.
        match = " AND ".join('"{}"*'.format(w.replace('"', "")) for w in words)
        key = literal_column("rowid")
        ranked = (
            select(key.label("key"))
            .select_from(text("product_search"))
            .where(text("product_search MATCH :match"))
            .order_by(key)
            .offset(offset)
            .limit(limit)
            .subquery()
        )
        # The low 32 bits of the key hold the product id, counted down (newest first).
        product_id = _ID_MASK - ranked.c.key.op("&")(_ID_MASK)
        query = (
            select(Product)
            .join(ranked, Product.id == product_id)
            .where(Product.active)
            .order_by(ranked.c.key)
            .params(match=match)
        )
        return list(await session.scalars(query))
    # The configuration is a literal, not a parameter, so the planner can use the GIN index.
    config = literal_column("'simple'::regconfig")
    tsquery = func.to_tsquery(config, " & ".join(f"{_pg_lexeme(w)}:*" for w in words))
    query = (
        select(Product)
        .where(literal_column("products.search_vector").op("@@")(tsquery), Product.active)
        .order_by(Product.curated.desc(), Product.recent_sold.desc(), Product.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(await session.scalars(query))


def _pg_lexeme(word: str) -> str:
    # Quoted so that tsquery operators in a word are plain characters.
    return "'" + word.replace("'", "").replace("\\", "") + "'"
