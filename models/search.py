"""Word-prefix text search over product, merchant and category names.

SQLite answers from an FTS5 index keyed by catalog rank, PostgreSQL from a GIN full-text index
and the catalog-order index; the migration creates them and they follow `products`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import Select, String, bindparam, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import LISTING_COLUMNS, Listing, Product, best_first, listed, listings

MAX_WORDS = 5
# How many of the best products PostgreSQL checks before it treats a word as rare.
POPULAR_WINDOW = 5000
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
) -> list[Listing]:
    """Listed products matching every word as a prefix, in catalog order: demoted ones last,
    curated first, then what sold most in the last four weeks, then newest.

    Both databases find the page without scoring every match (see the migration), so a word
    found in a hundred thousand products costs about what a rare one does.
    """
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted, so FTS5 syntax typed by a person is taken as plain text.
        match = " AND ".join('"{}"*'.format(w.replace('"', "")) for w in words)
        found = await session.execute(
            _sqlite_search(), {"match": match, "offset": offset, "limit": limit}
        )
        return listings(found)
    return await _search_postgres(session, words, offset, limit)


@functools.cache
def _sqlite_search() -> Select[Any]:
    """Built once: building it per search (and binding with `.params()`, which copies the
    whole statement) cost more than SQLite's answer."""
    key = literal_column("rowid")
    ranked = (
        select(key.label("key"))
        .select_from(text("product_search"))
        .where(text("product_search MATCH :match"))
        .order_by(key)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
        .subquery()
    )
    # The low 32 bits of the key hold the product id, counted down (newest first); the high
    # bits demoted, then not curated (migration 0020).
    product_id = _ID_MASK - ranked.c.key.op("&")(_ID_MASK)
    return (
        select(*LISTING_COLUMNS)
        .join(ranked, Product.id == product_id)
        .where(listed(Product))
        .order_by(ranked.c.key)
    )


async def _search_postgres(
    session: AsyncSession, words: list[str], offset: int, limit: int
) -> list[Listing]:
    """Two bounded plans instead of trusting the planner's guess of how common a prefix is.

    First the best `POPULAR_WINDOW` listed products in catalog order are checked: a common
    word fills the page from them, and any match outside them ranks lower. Only when they
    hold too few matches is the word rare enough to collect all its matches from the GIN
    index and sort them. Each plan is one statement that returns the page's listings.
    """
    params = {
        "query": " & ".join(f"{_pg_lexeme(w)}:*" for w in words),
        "offset": offset,
        "limit": limit,
    }
    common, rare = _pg_search()
    found = listings(await session.execute(common, params))
    if len(found) < limit:
        found = listings(await session.execute(rare, params))
    return found


@functools.cache
def _pg_search() -> tuple[Select[Any], Select[Any]]:
    """The common word's plan and the rare word's, built once: built per search they cost
    more than PostgreSQL's answer."""
    config = literal_column("'simple'::regconfig")
    tsquery = func.to_tsquery(config, bindparam("query", type_=String()))
    vector = literal_column("products.search_vector")
    ranked = (Product.id, Product.demoted, Product.curated, Product.recent_sold)
    window = (
        select(*ranked, vector.label("vector"))
        .where(listed(Product))
        .order_by(*best_first(Product))
        .limit(POPULAR_WINDOW)
        .subquery()
    )
    # MATERIALIZED keeps the planner from walking the catalog order for a rare word.
    matches = (
        select(*ranked)
        .where(vector.op("@@")(tsquery), listed(Product))
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    rank = ("id", "demoted", "curated", "recent_sold")
    common = select(*(window.c[name] for name in rank)).where(window.c.vector.op("@@")(tsquery))
    return _listed(common), _listed(select(*(matches.c[name] for name in rank)))


def _listed(matching: Select[Any]) -> Select[Any]:
    """The page of `matching` (id, demoted, curated, recent_sold) in catalog order, as
    listings."""
    page = (
        matching.order_by(*best_first(matching.selected_columns))
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
        .subquery("page")
    )
    return (
        select(*LISTING_COLUMNS).join(page, Product.id == page.c.id).order_by(*best_first(page.c))
    )


def _pg_lexeme(word: str) -> str:
    # Quoted so that tsquery operators in a word are plain characters.
    return "'" + word.replace("'", "").replace("\\", "") + "'"
