"""Why the database cannot be used, in one line for whoever runs jbl.

The drivers' errors name neither the database nor what to do about it; these lines say both: a
database never initialised, a file or directory missing or read-only, a server that cannot be
reached or refuses the role or the database.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from models.migrate import current_revision, head_revision

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

# SQLite's primary result codes (the low byte of an extended one).
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
INIT = "run `jbl db init`"


class DatabaseUnusable(Exception):
    """The database cannot be used as the command needs; the message is one line."""


@contextlib.contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turns the errors of a database that cannot be used into `DatabaseUnusable`; any other
    error, a bug's included, goes on as it is."""
    try:
        yield
    except (DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        line = explain(error, url)
        if line is None:
            raise
        raise DatabaseUnusable(line) from error


async def check_database(engine: AsyncEngine, url: str, *, schema: bool) -> None:
    """Connects once, reading only; with `schema`, also requires this code's schema.

    Raises `DatabaseUnusable`. Whatever fails while connecting is the database's problem, so
    every error here gets a line, a refused connection's too.
    """
    try:
        revision = await current_revision(engine)
    except Exception as error:
        raise DatabaseUnusable(explain(error, url) or _unreachable(error, url)) from error
    if not schema:
        return
    if revision is None:
        raise DatabaseUnusable(f"{_where(url)} has no tables yet: {INIT}")
    head = head_revision()
    if revision != head:
        raise DatabaseUnusable(
            f"{_where(url)} has schema {revision} and this jbl needs {head}: {INIT}"
            " (or run the newer jbl that upgraded it)"
        )


def explain(error: BaseException, url: str) -> str | None:
    """The line for an error of the database itself, or None when it is none of those."""
    for cause in _causes(error):
        if isinstance(cause, sqlite3.Error):
            return _sqlite(cause, make_url(url))
        if isinstance(cause, asyncpg.PostgresError | asyncpg.InterfaceError):
            return _postgresql(cause, make_url(url))
    return None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: SQLAlchemy's `orig`, the adapters' `__cause__`."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return
        yield seen
        seen = getattr(seen, "orig", None) or seen.__cause__


def _sqlite(error: sqlite3.Error, url: URL) -> str | None:
    where = _where(url.render_as_string())
    path = Path(url.database or "").absolute()
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if str(error).startswith("no such table"):
        return f"{where} has no tables yet: {INIT}"
    if code == SQLITE_CANTOPEN:
        if not path.parent.is_dir():
            return f"{where}: the directory {path.parent} does not exist"
        if not path.exists():
            return f"{where} does not exist: {INIT}, or set JBL_DATABASE__URL"
        return f"{where} cannot be opened: check the permissions of the file and its directory"
    if code == SQLITE_READONLY:
        return (
            f"{where} is read-only for this user (the file or its directory), and this command"
            " writes: run it as the user that runs jbl"
        )
    if code == SQLITE_NOTADB:
        return f"{where} is not a SQLite database"
    if code in (SQLITE_CORRUPT, SQLITE_FULL, SQLITE_IOERR):
        return f"{where}: {error}"
    return None


def _postgresql(error: asyncpg.PostgresError | asyncpg.InterfaceError, url: URL) -> str | None:
    server = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return (
            f"{server} has no database {url.database}: create it"
            f" (createdb {url.database}), then {INIT}"
        )
    if isinstance(
        error, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
    ):
        return f"{server} refused the connection: {error}"
    if isinstance(error, asyncpg.UndefinedTableError):
        return f"{_where(url.render_as_string())} has no tables yet: {INIT}"
    if isinstance(error, asyncpg.ReadOnlySQLTransactionError):
        return f"{server} takes no writes (a standby?), and this command writes"
    if isinstance(
        error,
        asyncpg.TooManyConnectionsError
        | asyncpg.CannotConnectNowError
        | asyncpg.ConnectionDoesNotExistError,
    ):
        return f"{server}: {error}"
    return None


def _unreachable(error: Exception, url: str) -> str:
    """A connection that failed below the database: refused, no such host, no answer."""
    reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
    first = reason.splitlines()[0] if reason else type(error).__name__
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"{_where(url)}: {first}"
    return f"cannot reach PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}: {first}"


def _where(url: str) -> str:
    """The database as the operator named it, password hidden."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite database {Path(parsed.database or '').absolute()}"
    return f"the database {parsed.render_as_string(hide_password=True)}"
