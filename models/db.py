"""The engine and session factory, tuned per database."""

from __future__ import annotations

import asyncio
import enum
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models.durability import watch_writes
from models.sqlite_driver import LoopFirstDBAPI

WRITE_QUEUE = "jbl_write_queue"
IDLE_SESSIONS = "jbl_idle_sessions"
# PostgreSQL connections per process, all kept open and none beyond: a pool's overflow
# connections are closed as soon as they are given back while the pool is full, and under a
# steady load above the pool's size that was many times a second (docs/decisions/0018), each
# a new server process with every statement prepared again, which made a loaded process
# slower still. Beyond these, a unit of work waits for a connection: more transactions at
# once would not go faster on the server's cores, only wait there instead of here.
DEFAULT_POOL_SIZE = 20
# Sessions kept for reuse: about as many as there are units of work at once, including those
# waiting for a connection (or, on SQLite, for their turn to write).
KEEP_IDLE = 40


class Access(enum.Enum):
    """What a process may do to its database, as SQLite opens the file (its `mode`)."""

    # Reads only: a read-only file or directory will do, and PostgreSQL refuses any write.
    READ = "ro"
    # Reads and writes a database that must exist already.
    WRITE = "rw"
    # May create the file: `jbl db init`, `jbl run`.
    CREATE = "rwc"


class WriteQueue:
    """Lets one unit of work of this process at a time use a SQLite database, in arrival order.

    A second unit of work opened inside the first by the same task would wait for itself
    forever; it is refused instead.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[object] | None = None
        # Units of work waiting for their turn (the operator's metrics show it).
        self.waiting = 0

    async def enter(self) -> None:
        task = asyncio.current_task()
        if task is not None and self._holder is task:
            raise RuntimeError("a unit of work is already open in this task")
        self.waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self.waiting -= 1
        self._holder = task

    def leave(self) -> None:
        self._holder = None
        self._lock.release()


class IdleSessions:
    """Closed sessions kept for the next units of work.

    Building a Session was a sixth of what a simple chat message cost; a closed one holds
    nothing of its last unit of work and is as good as new.
    """

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[AsyncSession] = []

    def take(self) -> AsyncSession | None:
        return self._idle.pop() if self._idle else None

    def give_back(self, session: AsyncSession) -> None:
        if len(self._idle) < self._keep:
            self._idle.append(session)


# Statements' parameters hold phone numbers, names and addresses: `hide_parameters` keeps them
# out of every database error's text, and so out of the logs.
def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    access: Access = Access.CREATE,
) -> AsyncEngine:
    if make_url(url).get_backend_name() != "sqlite":
        read_only = {"default_transaction_read_only": "on"} if access is Access.READ else {}
        postgres = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=0,
            connect_args={"server_settings": read_only},
        )
        watch_writes(postgres)
        return postgres
    # One connection: SQLite has one writer at a time anyway; writers of this process take
    # turns in the `WriteQueue`, and a statement that finds another process holding the lock
    # waits for it on aiosqlite's thread (models.sqlite_driver).
    engine = create_async_engine(
        _opened_for(make_url(url), access),
        echo=echo,
        hide_parameters=True,
        module=LoopFirstDBAPI(),
        # Never wait on the event loop: a busy statement is retried where it may wait.
        connect_args={"timeout": 0},
        pool_size=1,
        max_overflow=0,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that `begin` below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if access is not Access.READ:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Every message writes; taking the write lock up front makes concurrent transactions
        # wait for it here instead of failing when a reader upgrades to a writer. Straight on
        # the driver's cursor (which still waits out another process's lock): as a SQLAlchemy
        # statement it cost as much as any query of the message.
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN" if access is Access.READ else "BEGIN IMMEDIATE")
        finally:
            cursor.close()

    return engine


def _opened_for(url: URL, access: Access) -> URL:
    """The SQLite URL that opens the file as `access` allows, as a SQLite URI filename."""
    if access is Access.CREATE or url.query.get("uri") or url.database in (None, "", ":memory:"):
        return url
    path = Path(url.database).absolute()
    query = {**url.query, "uri": "true", "mode": access.value}
    # WAL needs its -wal and -shm files beside the database. In a directory this process may
    # not write, their absence means no process is writing, so the file is read as it is.
    wal = path.with_name(path.name + "-wal")
    if access is Access.READ and not wal.exists() and not os.access(path.parent, os.W_OK):
        query["immutable"] = "1"
    return url.set(database=f"file:{quote(str(path))}", query=query)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    info: dict[str, WriteQueue | IdleSessions] = {IDLE_SESSIONS: IdleSessions(KEEP_IDLE)}
    if engine.dialect.name == "sqlite":
        # The unit of work enters this queue before taking the connection: the pool alone lets
        # a task that has just finished take it again ahead of the waiting ones, starving
        # them for seconds, and the file lock polls with growing sleeps.
        info[WRITE_QUEUE] = WriteQueue()
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers a trivial query (the health check's)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
