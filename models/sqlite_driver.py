"""SQLAlchemy's aiosqlite adapter, running statements on the event loop unless SQLite must wait.

The stock adapter awaits aiosqlite four times per statement (open a cursor, execute, fetch,
close), and each await is a hand-off to aiosqlite's thread and back. A chat message runs about
six statements, so on SQLite those hand-offs, not the queries, were most of a message's time.

A statement only ever waits on another process (for the write lock, which every transaction
of jbl takes with `BEGIN IMMEDIATE`); otherwise it is local work of microseconds to
milliseconds. So each statement first runs right on the event loop with SQLite's busy timeout
at zero, and only when SQLite answers "busy" does it go to aiosqlite's thread, which waits up
to `WAIT_SECONDS` for the lock while the loop goes on. This leans on aiosqlite's private queue
(`_execute`, `_conn`) exactly as SQLAlchemy's own adapter already does for `isolation_level`,
which is why aiosqlite is pinned.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_only

_Outcome = tuple[Any, int | None, int, list[Any]]
SQLITE_BUSY = 5
WAIT_SECONDS = 30
# The thread of a connection that failed to open has only its stop left to do.
STOP_SECONDS = 1


def _execute(
    connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome:
    """Runs on aiosqlite's thread: the whole statement, rows included."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        if cursor.description:
            return cursor.description, -1, -1, cursor.fetchall()
        return None, cursor.lastrowid, cursor.rowcount, []
    finally:
        cursor.close()


class _LoopFirstCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        try:
            try:
                outcome = self.await_(_right_here(connection, operation, parameters, many))
            except sqlite3.OperationalError as busy:
                if not _is_busy(busy):
                    raise
                outcome = self.await_(
                    connection._execute(_waiting, connection, operation, parameters, many)
                )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description, self.lastrowid, self.rowcount, rows = outcome
        self._rows = deque(rows)


async def _right_here(
    connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome:
    """The statement, run by the awaiting task itself without yielding to the loop; still a
    coroutine because SQLAlchemy's async layer insists that every statement be awaited."""
    return _execute(connection, operation, parameters, many)


def _waiting(
    connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome:
    """Runs on aiosqlite's thread: the statement, waiting for another process's lock."""
    raw = connection._conn
    raw.execute(f"PRAGMA busy_timeout={WAIT_SECONDS * 1000}")
    try:
        return _execute(connection, operation, parameters, many)
    finally:
        raw.execute("PRAGMA busy_timeout=0")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == SQLITE_BUSY


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def commit(self) -> None:
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self._connection._conn.rollback()
        except Exception as error:
            self._handle_exception(error)

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side=True)
        return _LoopFirstCursor(self)


class LoopFirstDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Passed as `module=` to `create_async_engine` for `sqlite+aiosqlite` URLs."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = aiosqlite.connect(*arg, **kw)
        # As in SQLAlchemy's adapter: a forgotten connection must not keep the process alive.
        connection._thread.daemon = True
        try:
            return _Connection(self, await_only(connection))
        except BaseException:
            # A failed connect leaves aiosqlite's thread stopping on its own, and it then posts
            # to this loop, which may be closed by that time (a traceback on stderr): let it.
            connection._thread.join(STOP_SECONDS)
            raise
