"""Seeding large tables fast, in a child process, timed step by step.

A benchmark that seeds runs itself again as `python -m benchmarks.NAME --seed-only` (see
`seed_in_child`), so that the seeding's memory is not the measured process's. The child bulk
loads: raw `sqlite3.executemany` in one transaction (`bulk_sqlite`), or asyncpg
`copy_records_to_table` with the tables' secondary indexes and foreign keys dropped and
recreated from their own definitions (`drop_for_bulk_load`). It writes a JSON report
(`write_seed_report`) that the benchmark prints.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness.memory import peak_rss_kib


class Steps:
    """Timed seeding steps for the report: `with steps.run("name", rows): …`."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, int]] = []

    def run(self, name: str, rows: int = 0) -> _Step:
        return _Step(self, name, rows)


@dataclass
class _Step:
    steps: Steps
    name: str
    rows: int
    started: float = 0.0

    def __enter__(self) -> _Step:
        self.started = time.perf_counter()
        print(f"  {self.name} …", flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.started
        self.steps.rows.append((self.name, seconds, self.rows))
        rate = f", {self.rows / seconds:,.0f} rows/s" if self.rows else ""
        print(f"  {self.name}: {seconds:.2f} s{rate}", flush=True)


def seed_in_child(module: str, database_url: str, seed: int, options: list[str]) -> dict[str, Any]:
    """Runs `python -m MODULE --seed-only` in a child process (so that the seeding's memory is
    not the measured process's) and returns the report it wrote, with its wall time."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report_path = handle.name
    try:
        command = [
            sys.executable, "-m", module, "--seed-only", "--seed-report", report_path,
            "--database-url", database_url, "--seed", str(seed), *options,
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True)
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
        report["wall_seconds"] = time.perf_counter() - started
        return report
    finally:
        Path(report_path).unlink(missing_ok=True)


def write_seed_report(path: str, report: dict[str, Any]) -> None:
    """The child's report for `seed_in_child`, with the child's peak RSS."""
    report["peak_rss_kib"] = peak_rss_kib()
    Path(path).write_text(json.dumps(report), encoding="utf-8")


def creation_stamps(
    rng: random.Random, now: datetime, count: int = 4096, *, sqlite: bool
) -> list[Any]:
    """A pool of creation instants over the last year, as the bulk load writes them."""
    stamps = [now - timedelta(seconds=rng.randrange(365 * 86_400)) for _ in range(count)]
    return [sqlite_instant(s) for s in stamps] if sqlite else stamps


def sqlite_instant(value: datetime) -> str:
    # What SQLAlchemy's SQLite DateTime stores (models/base.py makes it naive UTC).
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@contextmanager
def bulk_sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the SQLite file without a journal or syncs (a failed load is run
    again from scratch), left in WAL mode as the app uses it."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute("PRAGMA temp_store=MEMORY")
        yield connection
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def insert_rows(
    connection: sqlite3.Connection, table: str, columns: Sequence[str], rows: Iterable[Any]
) -> None:
    """`executemany` of an INSERT of the rows (tuples in the order of `columns`)."""
    marks = ", ".join("?" * len(columns))
    connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def sqlite_size(path: Path) -> int:
    """Bytes of the SQLite file and its write-ahead log."""
    files = (Path(f"{path}{suffix}") for suffix in ("", "-wal"))
    return sum(file.stat().st_size for file in files if file.exists())


@dataclass(frozen=True)
class Deferred:
    """Secondary indexes and foreign keys of tables, dropped for a bulk load (each one would
    be checked or updated per copied row) and recreated from their own definitions after."""

    indexes: list[Any]
    foreign_keys: list[Any]

    @property
    def names(self) -> list[str]:
        return [r["indexname"] for r in self.indexes] + [r["conname"] for r in self.foreign_keys]


async def secondary_indexes(connection: Any, tables: Sequence[str]) -> list[Any]:
    """The tables' indexes that back no primary key or unique constraint, as they are now."""
    return list(
        await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename = ANY($1::text[]) AND indexname NOT IN"
            " (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))"
            " ORDER BY indexname",
            list(tables),
        )
    )


async def drop_for_bulk_load(connection: Any, tables: Sequence[str]) -> Deferred:
    """Drops the tables' secondary indexes and foreign keys, as the migrations made them."""
    indexes = await secondary_indexes(connection, tables)
    foreign_keys = list(
        await connection.fetch(
            "SELECT conrelid::regclass::text AS tablename, conname,"
            " pg_get_constraintdef(oid) AS definition FROM pg_constraint"
            " WHERE conrelid = ANY($1::regclass[]) AND contype = 'f' ORDER BY conname",
            list(tables),
        )
    )
    for row in foreign_keys:
        await connection.execute(
            f'ALTER TABLE {row["tablename"]} DROP CONSTRAINT "{row["conname"]}"'
        )
    for row in indexes:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    return Deferred(indexes, foreign_keys)


async def recreate_after_bulk_load(connection: Any, deferred: Deferred) -> None:
    for row in deferred.indexes:
        await connection.execute(row["indexdef"])
    for row in deferred.foreign_keys:
        await connection.execute(
            f'ALTER TABLE {row["tablename"]} ADD CONSTRAINT "{row["conname"]}" {row["definition"]}'
        )


def sequence_past_ids(table: str) -> str:
    """PostgreSQL: the SQL that moves the table's id sequence past the ids loaded into it."""
    return f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"


async def copy_in_bulk(
    connection: Any,
    tables: Iterable[tuple[str, Sequence[str], Iterable[Any]]],
    steps: Steps,
    *,
    analysed: Sequence[str],
    sequences: Sequence[str],
    rows: int = 0,
) -> None:
    """PostgreSQL: copies each (table, columns, records) with the `analysed` tables' secondary
    indexes and foreign keys dropped, recreates them, moves the `sequences` tables' id
    sequences past the copied ids, and analyses the tables."""
    deferred = await drop_for_bulk_load(connection, analysed)
    for table, columns, records in tables:
        with steps.run(f"generate + copy {table} (copy_records_to_table)", rows):
            await connection.copy_records_to_table(table, records=records, columns=columns)
    await connection.execute("SET maintenance_work_mem = '512MB'")
    with steps.run("recreate indexes + foreign keys", rows):
        await recreate_after_bulk_load(connection, deferred)
    for table in sequences:
        await connection.execute(sequence_past_ids(table))
    with steps.run("VACUUM (ANALYZE)"):
        await connection.execute(f"VACUUM (ANALYZE) {', '.join(analysed)}")
