"""Demotion: a listed product that sold nothing over the last editions of its category, while
others of the category sold, goes after all others in the catalog order; a sale or a pin lifts
it (docs/decisions/0030-demotion.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Integer,
    and_,
    false,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, aliased, mapped_column

from models.base import Base, UTCDateTime
from models.catalog import Category, Merchant, Product, categories_in_rotation, listed
from models.friday import day_bounds, featured_category
from models.ordering import Order, OrderItem, sold
from models.results import editions_featuring

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.elements import ColumnElement

# Demoted products a batch of `demoted_products` reads.
LIST_BATCH = 5_000


class DemotionRun(Base):
    """A Friday whose demotion ran: the row that makes it run once, written in the transaction
    that demotes."""

    __tablename__ = "demotion_runs"

    friday: Mapped[date] = mapped_column(Date, primary_key=True)
    # The category the Friday featured, whose products were judged.
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    # How many products it demoted.
    demoted: Mapped[int] = mapped_column(Integer)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Judged:
    """What one Friday's demotion did: the category judged, over which editions (newest first;
    none when the category has had fewer than asked), and how many products it demoted."""

    friday: date
    category_id: int
    editions: list[date]
    demoted: int


async def demote_unsold(
    session: AsyncSession, friday: date, editions: int, timezone: ZoneInfo, now: datetime
) -> Judged | None:
    """Once per Friday: demotes the products of the category `friday` featured that sold
    nothing from the first of its last `editions` editions up to the end of `friday` (Jakarta
    days), while products of that category sold in that time. Only products listed before
    those editions began are judged, and never a pinned one; demoted pinned ones are lifted.
    None when this Friday's demotion ran already (a second run waits for the first to commit,
    then does nothing but lift pins)."""
    # Every night, whether or not the Friday is judged already: a pin made since is lifted.
    await lift_pinned(session)
    categories = await categories_in_rotation(session)
    if not categories:
        return None
    category = await featured_category(session, friday, categories)
    if not await _claim(session, friday, category.id, now):
        return None
    days = await editions_featuring(session, category.id, editions, friday)
    if len(days) < editions or not days or days[0] != friday:
        return Judged(friday, category.id, days, 0)
    start = day_bounds(min(days), timezone)[0]
    end = day_bounds(friday, timezone)[1]
    # Of the same table as the UPDATE: aliased, or it would be correlated to the row updated.
    other = aliased(Product)
    others_sold = _sold_between(start, end).where(
        other.id == OrderItem.product_id, other.category_id == category.id
    )
    demoted = await session.execute(
        update(Product)
        .where(
            Product.category_id == category.id,
            listed(Product),
            Product.demoted == false(),
            Product.curated == false(),
            _listed_before(start),
            ~_sold_between(start, end).where(OrderItem.product_id == Product.id).exists(),
            others_sold.exists(),
        )
        .values(demoted=True, demoted_on=friday)
        .execution_options(synchronize_session=False)
    )
    count = int(demoted.rowcount)  # type: ignore[attr-defined]
    await session.execute(
        update(DemotionRun).where(DemotionRun.friday == friday).values(demoted=count)
    )
    return Judged(friday, category.id, days, count)


async def _claim(session: AsyncSession, friday: date, category_id: int, now: datetime) -> bool:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    claimed = await session.execute(
        dialect.insert(DemotionRun)
        .values(friday=friday, category_id=category_id, demoted=0, ran_at=now)
        .on_conflict_do_nothing(index_elements=["friday"])
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _sold_between(start: datetime, end: datetime) -> Select[Any]:
    """The items of orders placed from `start` to before `end` that did not end rejected,
    cancelled or expired; the caller says whose."""
    return (
        select(literal(1))
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.created_at >= start, Order.created_at < end, sold(Order.status))
    )


def _listed_before(start: datetime) -> ColumnElement[bool]:
    """The product was made, and last sent to staff's review, before `start`: a product newer
    than the editions could not have sold on them."""
    return and_(
        Product.created_at < start,
        or_(Product.review_requested_at.is_(None), Product.review_requested_at < start),
    )


async def lift_pinned(session: AsyncSession) -> int:
    """A staff pin lifts a demotion: whatever pinned a demoted product, it is lifted here at
    the latest."""
    lifted = await session.execute(
        update(Product)
        .where(Product.demoted == true(), Product.curated == true())
        .values(demoted=False, demoted_on=None)
        .execution_options(synchronize_session=False)
    )
    return int(lifted.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Demoted:
    id: int
    name: str
    merchant: str
    category: str
    demoted_on: date | None


async def demoted_products(
    session: AsyncSession, category_id: int | None = None
) -> AsyncIterator[list[Demoted]]:
    """The listed products that are demoted now (of one category, or all), by id, in
    batches."""
    after = 0
    while True:
        query = (
            select(Product.id, Product.name, Merchant.name, Category.slug, Product.demoted_on)
            .join(Merchant, Merchant.id == Product.merchant_id)
            .join(Category, Category.id == Product.category_id)
            .where(Product.demoted == true(), listed(Product), Product.id > after)
            .order_by(Product.id)
            .limit(LIST_BATCH)
        )
        if category_id is not None:
            query = query.where(Product.category_id == category_id)
        batch = [Demoted(*row) for row in await session.execute(query)]
        if batch:
            yield batch
        if len(batch) < LIST_BATCH:
            return
        after = batch[-1].id
