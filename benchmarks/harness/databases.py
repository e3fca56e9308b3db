"""The database a run uses: a new SQLite file in a temporary directory, or a PostgreSQL
database prepared for the run, and the app's settings for it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.settings import DatabaseSettings, Settings

URL_FORMS = "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST:PORT/DB"
# --database-url's help where the database is made ready by `prepare_database`, and where by
# `fresh_database`.
EMPTY_SCHEMA_HELP = (
    f"{URL_FORMS} (default: a new SQLite file in a temp dir; a PostgreSQL database is created"
    " if missing and must have an empty public schema, see --reset-database)"
)
FRESH_DATABASE_HELP = (
    "postgresql+asyncpg://USER@HOST:PORT/DB (created afresh and dropped after;"
    " default: a SQLite file in a temp dir)"
)
# Databases a run never prepares: the tests' and the server's own.
PROTECTED_DATABASES = frozenset({"test", "postgres", "template0", "template1"})


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise SystemExit("a SQLite benchmark needs a file database")
    return Path(database)


@contextmanager
def scratch_dir(keep: bool, name: str = "") -> Iterator[Path]:
    """A new temporary directory for the run's files, removed after the run unless `keep`:
    then the run ends saying where (`name` in it) it was kept."""
    directory = Path(tempfile.mkdtemp(prefix="jbl-bench-"))
    try:
        yield directory
    finally:
        if keep:
            print(f"\nkept {directory / name}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def database_url(given: str | None, filename: str, *, keep: bool) -> Iterator[str]:
    """The URL given, or that of a new SQLite file `filename` in a `scratch_dir`."""
    if given:
        yield given
        return
    with scratch_dir(keep, filename) as directory:
        yield sqlite_url(directory / filename)


def app_settings(url: str) -> Settings:
    """The app's settings for the run's database (the environment must not name another)."""
    settings = Settings(database=DatabaseSettings(url=url))
    if settings.database.url != url:
        raise SystemExit(f"JBL_DATABASE__URL overrides --database-url ({settings.database.url})")
    return settings


def pg_connect_args(url: str, database: str | None = None) -> dict[str, Any]:
    """asyncpg's `connect` arguments for the URL's server, and its database or `database`."""
    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "database": database or parsed.database,
    }


def pg_database(url: str) -> str:
    """The URL's database name, unless it is one a run must not touch."""
    name = make_url(url).database
    if not name or name in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to benchmark on database {name!r}: use e.g. /bench")
    return name


async def prepare_postgres(url: str, reset: bool) -> str:
    """The named database (created if missing) with an empty `public` schema: jbl loads its
    demo catalog into an empty catalog only, and the figures are for that catalog. A schema
    that already has tables (another benchmark's seeded catalog, say) is only dropped when
    asked to. Returns the server's version."""
    import asyncpg

    name = pg_database(url)
    admin = await asyncpg.connect(**pg_connect_args(url, "postgres"))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
        version = await admin.fetchval("SHOW server_version")
    finally:
        await admin.close()
    connection = await asyncpg.connect(**pg_connect_args(url))
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        if tables and not reset:
            raise SystemExit(
                f"database {name!r} already has {tables} tables in its public schema: pass"
                " --reset-database to drop them, or name an empty or new database"
            )
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    return str(version)


def prepare_database(url: str, *, reset: bool) -> str:
    """Prepares a PostgreSQL database as `prepare_postgres` does (a SQLite file needs
    nothing); returns which database and version the run uses, for the report's header."""
    if is_sqlite(url):
        return f"SQLite {sqlite3.sqlite_version}"
    return f"PostgreSQL server {asyncio.run(prepare_postgres(url, reset))}"


async def _recreate_postgres(url: str, *, create: bool) -> None:
    import asyncpg

    name = pg_database(url)
    admin = await asyncpg.connect(**pg_connect_args(url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


@contextmanager
def fresh_database(url: str) -> Iterator[None]:
    """A PostgreSQL database created afresh for the block and dropped after it (a SQLite
    file is new already)."""
    if is_sqlite(url):
        yield
        return
    asyncio.run(_recreate_postgres(url, create=True))
    try:
        yield
    finally:
        asyncio.run(_recreate_postgres(url, create=False))
