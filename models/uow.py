"""The unit of work: the only place that commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.db import IDLE_SESSIONS, WRITE_QUEUE, IdleSessions, WriteQueue


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
        await self.session.commit()
