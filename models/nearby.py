"""Shops by neighbourhood: the merchants of a kecamatan or kelurahan with listed products, a
page at a time, and which products of a list come from a resident's kecamatan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Merchant, Product, listed


@dataclass(frozen=True)
class Shop:
    """A merchant as the neighbourhood list shows it."""

    id: int
    name: str
    listed: int
    rating_count: int
    rating_sum: int


@dataclass(frozen=True)
class ShopPage:
    shops: list[Shop]
    has_previous: bool
    has_next: bool


async def shops_in_area(
    session: AsyncSession,
    kecamatan: str,
    kelurahan: str | None,
    *,
    after: int | None = None,
    before: int | None = None,
    size: int = 8,
) -> ShopPage:
    """A page of the merchants of a kecamatan (or of one of its kelurahan) that list at least
    one product, by name then id.

    Keyset pagination on (name, id), the cursor being a merchant's id: a shop that opens or
    closes meanwhile never shifts others between pages. A cursor naming no merchant starts
    from the first page.
    """
    cursor = after if after is not None else before
    edge = None
    if cursor is not None:
        edge = (
            await session.execute(select(Merchant.name, Merchant.id).where(Merchant.id == cursor))
        ).first()
    if edge is None:
        rows = await _shops(session, _in_area(kecamatan, kelurahan), size + 1)
        return ShopPage(rows[:size], has_previous=False, has_next=len(rows) > size)
    key = tuple_(Merchant.name, Merchant.id)
    if after is not None:
        query = _in_area(kecamatan, kelurahan).where(key > tuple(edge))
        rows = await _shops(session, query, size + 1)
        return ShopPage(rows[:size], has_previous=True, has_next=len(rows) > size)
    query = _in_area(kecamatan, kelurahan).where(key < tuple(edge))
    rows = await _shops(session, query, size + 1, forward=False)
    if len(rows) <= size:
        # Fewer shops than a page lie before: the first page is that page.
        return await shops_in_area(session, kecamatan, kelurahan, size=size)
    return ShopPage(list(reversed(rows[:size])), has_previous=True, has_next=True)


def _in_area(kecamatan: str, kelurahan: str | None) -> Select[tuple[int, str, int, int, int]]:
    query = (
        select(
            Merchant.id,
            Merchant.name,
            func.count(Product.id),
            Merchant.rating_count,
            Merchant.rating_sum,
        )
        .join(Product, Product.merchant_id == Merchant.id)
        .where(Merchant.kecamatan == kecamatan, listed(Product))
        .group_by(Merchant.id, Merchant.name, Merchant.rating_count, Merchant.rating_sum)
    )
    if kelurahan is not None:
        query = query.where(Merchant.kelurahan == kelurahan)
    return query


async def _shops(
    session: AsyncSession,
    query: Select[tuple[int, str, int, int, int]],
    limit: int,
    forward: bool = True,
) -> list[Shop]:
    order = (
        (Merchant.name.asc(), Merchant.id.asc())
        if forward
        else (Merchant.name.desc(), Merchant.id.desc())
    )
    rows = await session.execute(query.order_by(*order).limit(limit))
    return [Shop(*row) for row in rows]


async def products_from(
    session: AsyncSession, product_ids: Iterable[int], kecamatan: str
) -> set[int]:
    """Which of these products come from a merchant of `kecamatan`."""
    wanted = list(product_ids)
    if not wanted:
        return set()
    rows = await session.scalars(
        select(Product.id)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(Product.id.in_(wanted), Merchant.kecamatan == kecamatan)
    )
    return set(rows)
