"""The unit of work: the only place that commits."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.db import WRITE_QUEUE, WriteQueue


class UnitOfWork:
    """`async with uow:` opens one transaction; it is rolled back unless `commit()` ran."""

    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
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
        finally:
            if self._queue is not None:
                self._queue.leave()

    async def commit(self) -> None:
        await self.session.commit()
