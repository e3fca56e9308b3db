"""Schema migrations with Alembic, run on the application's own async engine."""

from __future__ import annotations

import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL's advisory lock that migrations take (two keys: see models.turns).
_MIGRATING = text(f"SELECT pg_advisory_xact_lock({zlib.crc32(b'jbl migrations') - 2**31}, 0)")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the schema to `revision`; on an up-to-date database it does nothing."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several `jbl run` started at once each migrate: one at a time, and the others
            # then find the schema at head and do nothing (SQLite's file lock does this there).
            await connection.execute(_MIGRATING)
        await connection.run_sync(run)


def head_revision() -> str:
    """The revision this code's schema is at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database's schema is at; None if it was never migrated. Reads only."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
