"""Who hears the Friday broadcast, on which chat, and for which categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from models.base import Base, UTCDateTime
from models.catalog import Category
from models.people import Identity

# `categories` is a bit per category's place in the rotation; none set means every Friday.
EVERY_CATEGORY = 0


class Subscription(Base):
    __tablename__ = "subscriptions"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    # The chat the broadcast goes to: the one the person subscribed from.
    identity: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    categories: Mapped[int] = mapped_column(Integer, default=EVERY_CATEGORY)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


def category_bit(category: Category) -> int:
    return 1 << category.rotation


async def subscription_of(session: AsyncSession, person_id: int) -> Subscription | None:
    return await session.get(Subscription, person_id)


async def subscribe(
    session: AsyncSession, person_id: int, identity: str, now: datetime
) -> tuple[Subscription, bool]:
    """Subscribes to every Friday's broadcast on `identity`; returns whether it is new. An
    existing subscription keeps its categories and moves to the chat it was asked from."""
    found = await subscription_of(session, person_id)
    if found is not None:
        found.identity, found.channel = identity, identity.split(":", 1)[0]
        return found, False
    created = Subscription(
        person_id=person_id,
        identity=identity,
        channel=identity.split(":", 1)[0],
        categories=EVERY_CATEGORY,
        since=now,
    )
    session.add(created)
    await session.flush()
    return created, True


async def unsubscribe(session: AsyncSession, person_id: int) -> bool:
    removed = await session.execute(delete(Subscription).where(Subscription.person_id == person_id))
    return bool(removed.rowcount)  # type: ignore[attr-defined]


def toggle_category(subscription: Subscription, category: Category, all_categories: int) -> None:
    """Adds or removes a category; choosing all of them, or the last one off, means every
    Friday again."""
    chosen = subscription.categories ^ category_bit(category)
    full = (1 << all_categories) - 1
    subscription.categories = EVERY_CATEGORY if chosen in (0, full) else chosen


def hears(category: Category) -> ColumnElement[bool]:
    """Subscriptions that get the broadcast of a Friday featuring `category`."""
    return or_(
        Subscription.categories == EVERY_CATEGORY,
        Subscription.categories.op("&")(category_bit(category)) != 0,
    )


def unreachable(dialect: str) -> ColumnElement[bool]:
    """The subscription's chat has told us it cannot receive (blocked the bot).

    Asked of the few chats that did, not by joining every subscription to its identity, which
    hashed (PostgreSQL) or looked up (SQLite) a million identities for each broadcast. SQLite
    runs a correlated EXISTS once per subscription, so there it is IN over the few, collected
    once; PostgreSQL turns EXISTS into a hashed (anti-)join, where NOT IN would go row by row
    once the few outgrew its memory for them.
    """
    if dialect == "sqlite":
        return Subscription.identity.in_(
            select(Identity.identity).where(Identity.unreachable_at.is_not(None))
        )
    return exists().where(
        Identity.identity == Subscription.identity, Identity.unreachable_at.is_not(None)
    )


def reachable(dialect: str) -> ColumnElement[bool]:
    """The subscription's chat has not told us it cannot receive."""
    return ~unreachable(dialect)


async def audience(session: AsyncSession, category: Category) -> tuple[int, int]:
    """(subscribers who would get a broadcast for `category` now, of them unreachable)."""
    dialect = session.get_bind().dialect.name
    hearing = select(func.count()).select_from(Subscription).where(hears(category))
    total, skipped = (
        await session.execute(
            select(hearing.scalar_subquery(), hearing.where(unreachable(dialect)).scalar_subquery())
        )
    ).one()
    return int(total), int(skipped)


async def audience_by_channel(session: AsyncSession, category: Category) -> dict[str, int]:
    """The subscribers who would get a broadcast for `category` now, by channel."""
    dialect = session.get_bind().dialect.name
    counted = await session.execute(
        select(Subscription.channel, func.count())
        .where(hears(category), reachable(dialect))
        .group_by(Subscription.channel)
    )
    return {str(channel): int(count) for channel, count in counted.all()}
