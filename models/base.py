"""Declarative base, naming convention, the column types every table shares, and what an id
can be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, delete, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Ids are INTEGER columns (32-bit on PostgreSQL) counted from 1; money and counters that only
# grow are BIGINT. An id from outside beyond LARGEST_ID names no row and would overflow a query.
LARGEST_ID = 2**31 - 1
# What an id from outside that is out of range reads as: a number no row has, so whatever looks
# it up finds nothing and answers as for any id that does not exist.
NO_ID = -1


def id_from_text(text: str) -> int:
    """The id that `text` writes in ASCII digits (leading zeros allowed), or NO_ID when it
    writes none a row can have."""
    if not (text.isascii() and text.isdigit()):
        return NO_ID
    digits = text.lstrip("0") or "0"
    # Checked by length first: int() of thousands of digits is slow, and refused past 4300.
    if len(digits) > len(str(LARGEST_ID)) or int(digits) > LARGEST_ID:
        return NO_ID
    return int(digits)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants as UTC and always hands back aware datetimes.

    SQLite has no time zones; without this, aware values would come back naive and compare
    wrongly against `now()`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def delete_some(
    session: AsyncSession, key: Any, condition: Any, batch: int, order: Any = None
) -> int:
    """Deletes up to `batch` rows of `key`'s table that meet `condition` (the first in `order`
    where one is given), in one statement; returns how many. The nightly prunes go a batch
    per transaction, so chats and the sender are never held up for long."""
    chosen = select(key).where(condition).limit(batch)
    if order is not None:
        chosen = chosen.order_by(order)
    pruned = await session.execute(
        delete(key.class_).where(key.in_(chosen)).execution_options(synchronize_session=False)
    )
    return pruned.rowcount  # type: ignore[attr-defined]
