"""Who, of several processes on one database, does what only one may do (poll Telegram).

On PostgreSQL, the one holding a session-level advisory lock on a connection of its own: the
server frees the lock when that connection ends, a killed process's too. On SQLite there is
one process (`models.single_run`), and it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# How often a leader checks that its lock's connection still lives, and how long that check
# may take before the lock counts as lost.
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_TIMEOUT = 3.0


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for `name`: PostgreSQL's keys are bigints, and names
    keep jbl's keys apart from each other's and, most likely, from anyone else's."""
    digest = hashlib.sha256(f"jbl:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership(Protocol):
    """One process's candidacy for one role."""

    async def take(self) -> bool:
        """Whether this process leads now; tries once and does not wait."""
        ...

    async def lost(self) -> None:
        """Returns once the lead taken is lost (the lock's connection broke)."""
        ...

    async def give_up(self) -> None:
        """Lets another process lead; this one may `take` again later."""
        ...

    async def close(self) -> None:
        """Gives up for good, at the process's end."""
        ...


class Sole:
    """The only process there is: it always leads and never loses the lead."""

    async def take(self) -> bool:
        return True

    async def lost(self) -> None:
        await asyncio.Future()

    async def give_up(self) -> None:
        return None

    async def close(self) -> None:
        return None


class AdvisoryLock:
    """Leads while it holds `pg_try_advisory_lock(key)` on its own connection, outside the
    pool: held for hours, a pooled connection would be one fewer for units of work."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.key = lock_key(name)
        self._engine = create_async_engine(engine.url, poolclass=NullPool)
        self._connection: AsyncConnection | None = None
        self._held = False

    async def take(self) -> bool:
        if self._held:
            return True
        try:
            if self._connection is None:
                connection = await self._engine.connect()
                # No transaction left open for hours: the lock belongs to the session.
                self._connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await self._connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            )
        except Exception as error:  # a database away is only "not now"
            log.warning("leader: cannot reach the database to take the lead: %s", error)
            await self._drop()
            return False
        self._held = bool(taken)
        return self._held

    async def lost(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            connection = self._connection
            if connection is None or not self._held:
                return
            try:
                async with asyncio.timeout(HEARTBEAT_TIMEOUT):
                    await connection.scalar(text("SELECT 1"))
            except Exception as error:  # whatever broke it, the lock may be gone
                log.warning("leader: the lock's connection is lost: %s", error)
                await self._drop()
                return

    async def give_up(self) -> None:
        # Closing the connection ends the session, which frees its advisory locks.
        await self._drop()

    async def close(self) -> None:
        await self._drop()
        await self._engine.dispose()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        self._held = False
        if connection is not None:
            # A connection that hangs (the network gone) is left behind, not waited for.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(HEARTBEAT_TIMEOUT):
                    await connection.close()


def leadership(engine: AsyncEngine, name: str) -> Leadership:
    """The candidacy for the role `name` on this engine's database."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, name)
    return Sole()
