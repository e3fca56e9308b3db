"""The unit of work: the only place that commits."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.db import IDLE_SESSIONS, WRITE_QUEUE, IdleSessions, WriteQueue
from models.durability import before_commit

log = logging.getLogger(__name__)

T = TypeVar("T")


class UnitOfWork:
    """`async with uow:` opens one transaction; it is rolled back unless `commit()` ran."""

    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> UnitOfWork:
        self._idle: IdleSessions | None = self._sessions.kw.get("info", {}).get(IDLE_SESSIONS)
        self.session = (self._idle and self._idle.take()) or self._sessions()
        self._queue: WriteQueue | None = self.session.info.get(WRITE_QUEUE)
        if self._queue is not None:
            try:
                await self._queue.enter()
            except BaseException:
                await self.session.close()
                raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # Closing rolls back whatever was not committed.
            await self.session.close()
            if self._idle is not None:
                self._idle.give_back(self.session)
        finally:
            if self._queue is not None:
                self._queue.leave()

    async def commit(self) -> None:
        await before_commit(self.session)
        await self.session.commit()


def lost_connection(error: BaseException) -> bool:
    """The database connection broke under the statement (the server restarted or failed
    over, a proxy closed it while idle). SQLAlchemy has then invalidated it and every
    connection the pool held before, so the next unit of work gets a fresh one; nothing of
    the broken one's transaction was committed, unless it broke during the commit."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def once_more_if_disconnected(work: Callable[[], Awaitable[T]], what: str) -> T:
    """Runs `work` (which opens its own unit of work), and runs it once more if it lost its
    connection (docs/decisions/0022): checking each connection before use would cost a round
    trip on every unit of work, to catch what happens once per restart of the server."""
    try:
        return await work()
    except DBAPIError as error:
        if not lost_connection(error):
            raise
        log.warning("%s: the database connection was lost; trying once more", what)
    return await work()
