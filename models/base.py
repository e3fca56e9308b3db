"""Declarative base, naming convention, the column types every table shares, and writes that
wait for the transaction's next statement."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Insert, MetaData, Update
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


@dataclass(frozen=True)
class Write:
    """A statement and its parameters, run on its own or, on PostgreSQL, inside the WITH of
    the transaction's next statement (`with_write`): a round trip less."""

    statement: Insert | Update
    params: dict[str, Any]

    async def run(self, session: AsyncSession) -> None:
        connection = await session.connection()
        await connection.execute(self.statement, self.params)


@functools.cache
def with_write(statement: Insert, write: Insert | Update) -> Insert:
    """`statement` run after `write` in one statement (PostgreSQL: a data-modifying WITH is
    run once, in full, whether or not the statement reads it). Both are cached statements, so
    this is built once per pair."""
    return statement.add_cte(write.cte("earlier"))
