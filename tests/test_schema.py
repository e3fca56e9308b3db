"""The schema the migrations build is the one the models declare: a column or an index declared
and not migrated, or migrated and not declared, fails here rather than on a running database."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import BigInteger, Integer

from models.db import create_engine
from models.schema import declared
from scheduler.setup import JOBS_TABLE

# Built by the migrations alone, by design: full-text search (SQLite's FTS5 table and its
# shadow tables, PostgreSQL's generated tsvector and its index) and an index on an expression.
# No model names them; the search and catalog statements do.
MIGRATED_ONLY = {"search_vector", "ix_products_search", "ix_products_popular"}
# Made by others in the same database: APScheduler's job store makes its own table.
NOT_OURS = {JOBS_TABLE}


def _declared_or_needed(
    item: Any, name: str | None, kind: str, reflected: bool, declared_as: Any
) -> bool:
    if not reflected or declared_as is not None or name is None:
        return True
    mine = name not in NOT_OURS and not name.startswith("product_search")
    return mine and name not in MIGRATED_ONLY


def _same_type(
    context: Any, column: Any, declared_column: Any, found: Any, declared_type: Any
) -> bool | None:
    # SQLite's INTEGER is 64 bits: a BIGINT declared reads back as INTEGER there.
    sqlite = context.dialect.name == "sqlite"
    if sqlite and isinstance(found, Integer) and isinstance(declared_type, BigInteger):
        return False
    return None


async def test_the_migrations_build_the_schema_the_models_declare(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:

            def differences(sync: Any) -> list[Any]:
                options = {"compare_type": _same_type, "include_object": _declared_or_needed}
                context = MigrationContext.configure(sync, opts=options)
                return compare_metadata(context, declared())

            found = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert found == []
