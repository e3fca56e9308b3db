"""What a merchant operator changes about their own products: stock, price, shown or hidden,
and new products. Every change checks that the person runs the product's merchant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import REVIEWED_COLUMNS, Category, Merchant, Product, Review, search_text_for
from models.curation import ask_review
from models.errors import Refusal
from models.ordering import operated_merchants

MAX_STOCK = 100_000
MAX_PRICE = 100_000_000


async def product_for_operator(session: AsyncSession, person_id: int, product_id: int) -> Product:
    """A product of a shop the person runs; any other is refused as not found."""
    product = await session.get(Product, product_id)
    if product is None or product.merchant_id not in await operated_merchants(session, person_id):
        raise Refusal("shop_product_not_found")
    return product


async def shop_products(
    session: AsyncSession, merchant_ids: list[int], after_id: int, size: int
) -> list[Product]:
    """The shops' products in id order, hidden ones included, a page after `after_id`."""
    rows = await session.scalars(
        select(Product)
        .where(Product.merchant_id.in_(merchant_ids), Product.id > after_id)
        .order_by(Product.id)
        .limit(size + 1)
    )
    return list(rows)


def check_stock(stock: int) -> None:
    if not 0 <= stock <= MAX_STOCK:
        raise Refusal("stock_out_of_range", high=MAX_STOCK)


def check_price(price: int) -> None:
    if not 100 <= price <= MAX_PRICE:
        raise Refusal("price_out_of_range", low=100, high=MAX_PRICE)


async def set_stock(session: AsyncSession, person_id: int, product_id: int, stock: int) -> Product:
    check_stock(stock)
    return await _change(session, person_id, product_id, stock=stock)


async def set_price(session: AsyncSession, person_id: int, product_id: int, price: int) -> Product:
    """The catalog shows the new price at once; orders keep the price they were placed at."""
    check_price(price)
    return await _change(session, person_id, product_id, price=price)


async def set_shown(session: AsyncSession, person_id: int, product_id: int, shown: bool) -> Product:
    return await _change(session, person_id, product_id, active=shown)


async def set_reviewed(
    session: AsyncSession,
    person_id: int,
    product_id: int,
    column: str,
    value: str,
    now: datetime,
    *,
    review: bool,
) -> Product:
    """A new name, description or photo; staff review it when `review` (`ask_review`). A new
    name is found by search at once."""
    assert column in REVIEWED_COLUMNS, column
    product = await product_for_operator(session, person_id, product_id)
    if value != getattr(product, column):
        setattr(product, column, value)
        if column == "name":
            product.search_text = search_text_for(value, product.merchant.name, product.category)
        ask_review(product, now, required=review)
    await session.flush()
    return product


async def _change(
    session: AsyncSession, person_id: int, product_id: int, **values: int | bool
) -> Product:
    product = await product_for_operator(session, person_id, product_id)
    for name, value in values.items():
        setattr(product, name, value)
    await session.flush()
    return product


async def add_product(
    session: AsyncSession,
    person_id: int,
    merchant_id: int,
    *,
    name: str,
    category_id: int,
    price: int,
    stock: int,
    description: str,
    photo: str | None,
    now: datetime,
    review: bool,
) -> Product:
    """A new product of the shop; with `review` it waits for staff before it is listed."""
    if merchant_id not in await operated_merchants(session, person_id):
        raise Refusal("shop_product_not_found")
    check_price(price)
    check_stock(stock)
    merchant = await session.get(Merchant, merchant_id)
    category = await session.get(Category, category_id)
    if merchant is None or category is None:
        raise Refusal("category_gone")
    product = Product(
        merchant_id=merchant.id,
        category_id=category.id,
        name=name,
        description=description,
        price=price,
        stock=stock,
        unit="pcs",
        photo_url=photo,
        active=True,
        curated=False,
        recent_sold=0,
        search_text=search_text_for(name, merchant.name, category),
        created_at=now,
        review_state=Review.WAITING if review else Review.LISTED,
        review_requested_at=now if review else None,
    )
    session.add(product)
    await session.flush()
    return product
