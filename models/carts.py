"""A person's cart: products and quantities, not yet reserved."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Select, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime
from models.catalog import Merchant, Product, listed_product
from models.errors import Refusal

# More than this of one product in one order is a typing slip, not a purchase.
MAX_QUANTITY = 99


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship(lazy="joined", innerjoin=True)


@dataclass(frozen=True)
class CartGroup:
    """The part of a cart bought from one merchant: it becomes one order."""

    merchant: Merchant
    items: list[CartItem]

    @property
    def total(self) -> int:
        return sum(item.quantity * item.product.price for item in self.items)


@functools.cache
def _items_of() -> Select[tuple[CartItem]]:
    # Built once: every look at the cart runs it, and building it cost more than running it.
    return (
        select(CartItem)
        .where(CartItem.person_id == bindparam("person_id"))
        .order_by(CartItem.added_at, CartItem.product_id)
    )


async def cart_items(session: AsyncSession, person_id: int) -> list[CartItem]:
    return list(await session.scalars(_items_of(), {"person_id": person_id}))


async def cart_groups(session: AsyncSession, person_id: int) -> list[CartGroup]:
    groups: dict[int, CartGroup] = {}
    for item in await cart_items(session, person_id):
        merchant = item.product.merchant
        groups.setdefault(merchant.id, CartGroup(merchant, [])).items.append(item)
    return list(groups.values())


def check_quantity(product: Product, quantity: int) -> None:
    if quantity < 1:
        raise Refusal("quantity_too_small")
    if quantity > MAX_QUANTITY:
        raise Refusal("quantity_too_large", limit=MAX_QUANTITY)
    if quantity > product.stock:
        raise Refusal("not_enough_stock", product=product.name, left=product.stock)


async def add_to_cart(
    session: AsyncSession, person_id: int, product_id: int, quantity: int, now: datetime
) -> CartItem:
    """Adds to what is already in the cart; refuses what the stock cannot cover."""
    product = await listed_product(session, product_id)
    if product is None:
        raise Refusal("product_gone")
    item = await session.get(CartItem, (person_id, product_id))
    total = quantity + (item.quantity if item else 0)
    check_quantity(product, total)
    if item is None:
        item = CartItem(person_id=person_id, product=product, quantity=total, added_at=now)
        session.add(item)
    else:
        item.quantity = total
    await session.flush()
    return item


async def set_quantity(
    session: AsyncSession, person_id: int, product_id: int, quantity: int
) -> CartItem | None:
    """Sets an item's quantity; zero removes it. Returns None when the item is gone."""
    item = await session.get(CartItem, (person_id, product_id))
    if item is None:
        raise Refusal("cart_item_gone")
    if quantity == 0:
        await session.delete(item)
        await session.flush()
        return None
    check_quantity(item.product, quantity)
    item.quantity = quantity
    await session.flush()
    return item


async def empty_cart(session: AsyncSession, person_id: int) -> None:
    await session.execute(delete(CartItem).where(CartItem.person_id == person_id))
