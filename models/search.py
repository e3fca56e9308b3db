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
# Letters and digits only: both FTS tokenizers split on underscores and punctuation.
WORD = re.compile(r"[^\W_]+")


def search_words(query: str) -> list[str]:
    """The words of a query that can be matched; punctuation and operators are dropped."""
    words = [w.lower()[:MAX_WORD_LENGTH] for w in WORD.findall(query)]
    return words[:MAX_WORDS]


async def search_products(
    session: AsyncSession, words: list[str], *, offset: int = 0, limit: int = 8
) -> list[Product]:
    """Active products matching every word as a prefix, best match first."""
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted, so FTS5 syntax typed by a person is taken as plain text.
        match = " AND ".join('"{}"*'.format(w.replace('"', "")) for w in words)
        ranked = (
            select(literal_column("rowid").label("id"), literal_column("rank").label("score"))
            .select_from(text("product_fts"))
            .where(text("product_fts MATCH :match"))
            .subquery()
        )
        query = (
            select(Product)
            .join(ranked, ranked.c.id == Product.id)
            .where(Product.active)
            .order_by(ranked.c.score, Product.curated.desc(), Product.recent_sold.desc())
            .params(match=match)
        )
    else:
        # The configuration is a literal, not a parameter, so the GIN index expression matches.
        config = literal_column("'simple'::regconfig")
        tsquery = func.to_tsquery(config, " & ".join(f"{_pg_lexeme(w)}:*" for w in words))
        vector = func.to_tsvector(config, Product.search_text)
        query = (
            select(Product)
            .where(vector.op("@@")(tsquery), Product.active)
            .order_by(
                func.ts_rank(vector, tsquery).desc(),
                Product.curated.desc(),
                Product.recent_sold.desc(),
            )
        )
    rows = await session.scalars(query.order_by(Product.id).offset(offset).limit(limit))
    return list(rows)


def _pg_lexeme(word: str) -> str:
    # Quoted so that tsquery operators in a word are plain characters.
    return "'" + word.replace("'", "").replace("\\", "") + "'"
