"""Buyers rate a completed order 1 to 5, once; the merchant's average shows on its products."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.catalog import Merchant
from models.errors import Refusal
from models.ordering import COMPLETED, order_of_person

MAX_COMMENT = 300


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)

    # One rating per order.
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(MAX_COMMENT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def rate_order(
    session: AsyncSession, person_id: int, order_id: int, stars: int, now: datetime
) -> Rating:
    """The buyer's stars for their completed order; a second rating of it is refused."""
    if not 1 <= stars <= 5:
        raise Refusal("rating_out_of_range")
    order = await order_of_person(session, person_id, order_id)
    if order.status != COMPLETED:
        raise Refusal("rating_not_completed", order=order.id)
    if await session.get(Rating, order.id) is not None:
        raise Refusal("rating_already", order=order.id)
    rating = Rating(
        order_id=order.id,
        person_id=person_id,
        merchant_id=order.merchant_id,
        stars=stars,
        created_at=now,
    )
    session.add(rating)
    try:
        await session.flush()
    except IntegrityError as error:  # the same rating, racing: the other one counts
        raise Refusal("rating_already", order=order.id) from error
    # Kept on the merchant, so that a product card shows it without another query.
    await session.execute(
        update(Merchant)
        .where(Merchant.id == order.merchant_id)
        .values(rating_count=Merchant.rating_count + 1, rating_sum=Merchant.rating_sum + stars)
        .execution_options(synchronize_session=False)
    )
    return rating


async def comment_on(session: AsyncSession, person_id: int, order_id: int, comment: str) -> Rating:
    rating = await session.get(Rating, order_id)
    if rating is None or rating.person_id != person_id:
        raise Refusal("order_not_found")
    rating.comment = comment[:MAX_COMMENT]
    await session.flush()
    return rating
