"""The Friday calendar: which category each Friday features."""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, ForeignKey, Select, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.catalog import Category, categories_in_rotation

FRIDAY = 4
# A Friday on which the rotation starts with category 0; every later Friday moves one on.
ROTATION_EPOCH = date(2026, 1, 2)


class FridayEdition(Base):
    __tablename__ = "friday_editions"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    headline: Mapped[str | None] = mapped_column(String(300))

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)


def day_bounds(day: date, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """The day from local midnight to local midnight, as instants."""
    start = datetime.combine(day, time(0), tzinfo=timezone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone)


def edition_date(today: date) -> date:
    """This week's Friday: today when it is Friday, else the coming one."""
    return today + timedelta(days=(FRIDAY - today.weekday()) % 7)


def last_friday(today: date) -> date:
    """The last Friday that has ended: yesterday on a Saturday, a week ago on a Friday."""
    return today - timedelta(days=(today.weekday() - FRIDAY) % 7 or 7)


def rotation_index(friday: date, categories: int) -> int:
    return ((friday - ROTATION_EPOCH).days // 7) % categories


async def featured_category(
    session: AsyncSession, friday: date, categories: list[Category]
) -> Category:
    """The planned category of that Friday, or the rotation's when nobody planned one.

    `categories` are all of them in rotation order; callers have them at hand already.
    """
    edition = await session.get(FridayEdition, friday)
    if edition is not None:
        return edition.category
    if not categories:
        raise LookupError("no categories: run `jbl db init`")
    return categories[rotation_index(friday, len(categories))]


async def this_weeks_categories(
    session: AsyncSession, friday: date
) -> tuple[Category, list[Category]]:
    """The category featured on `friday` and all of them in rotation order, in one query
    (every /katalog asks)."""
    rows = (await session.execute(_categories_and_plan(), {"friday": friday})).all()
    categories = [category for category, _ in rows]
    if not categories:
        raise LookupError("no categories: run `jbl db init`")
    featured = next((c for c, planned_id in rows if c.id == planned_id), None)
    return featured or categories[rotation_index(friday, len(categories))], categories


@functools.cache
def _categories_and_plan() -> Select[tuple[Category, int | None]]:
    # Built once: building it (and its cache key) cost more than running it.
    planned = (
        select(FridayEdition.category_id)
        .where(FridayEdition.date == bindparam("friday", type_=Date()))
        .scalar_subquery()
    )
    return select(Category, planned).order_by(Category.rotation)


async def plan_rotation(session: AsyncSession, first_friday: date, weeks: int) -> None:
    """Writes the rotation into the calendar for `weeks` Fridays, keeping existing plans."""
    categories = await categories_in_rotation(session)
    for week in range(weeks):
        friday = first_friday + timedelta(weeks=week)
        if await session.get(FridayEdition, friday) is None:
            category = await featured_category(session, friday, categories)
            session.add(FridayEdition(date=friday, category_id=category.id))
    await session.flush()


async def set_edition(
    session: AsyncSession, friday: date, category: Category, headline: str | None
) -> FridayEdition:
    """Plans a Friday: its featured category and, optionally, a headline of staff's own."""
    edition = await session.get(FridayEdition, friday)
    if edition is None:
        edition = FridayEdition(date=friday, category_id=category.id, headline=headline)
        session.add(edition)
    else:
        edition.category_id, edition.headline = category.id, headline
    await session.flush()
    await session.refresh(edition)
    return edition
