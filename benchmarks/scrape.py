"""What a Prometheus scrape of `GET /metrics` and a `/healthz` cost while a broadcast is out.

    python -m benchmarks.scrape                                   # SQLite file in a temp dir
    python -m benchmarks.scrape --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_scrape
    python -m benchmarks.scrape --quick                           # 20,000 deliveries

Goals (the goals table at the end; the exit status is 1 if one fails):
- a scrape that counts the waiting rows and the broadcast's progress: p95 under 500 ms
  (`COUNTING_GOAL_S`; a process runs it at most every `bot.metrics.COUNTS_EVERY_S`);
- a scrape between those (the oldest due rows read, the counts kept): p95 under 50 ms;
- the outbox's lag that `/healthz` reads: p95 under 50 ms.

The outbox is seeded as on a Friday morning: a month of ended rows (three past broadcasts and
replies, `--history`), and the running broadcast's deliveries (`--deliveries`, over Telegram
and WhatsApp), a third of them sent, a few hundred being sent, the rest pending, with a few
hundred replies due and a few held notices. Loaded in bulk (asyncpg `copy_records_to_table`,
or `sqlite3.executemany`), then ANALYZEd but not vacuumed: during a broadcast the sender
updates rows faster than autovacuum marks pages all-visible, so the index-only counts visit the
heap (`--vacuum`: as autovacuum leaves the table between bursts). Then the app built by the
composition root (`build_app`) times its `Metrics.exposition` (the body `/metrics` answers,
without HTTP) and `Metrics.lagging` (the health's read), `--scrapes` times each after one
untimed round (connections opened, statements compiled).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.harness.cli import BenchmarkParser
from benchmarks.harness.databases import (
    EMPTY_SCHEMA_HELP,
    app_settings,
    database_url,
    is_sqlite,
    pg_connect_args,
    prepare_database,
    sqlite_path,
)
from benchmarks.harness.report import (
    Goal,
    LatencyTable,
    finish,
    info_row,
    print_header,
    verdict_row,
)
from benchmarks.harness.seeding import bulk_sqlite, insert_rows, sqlite_instant
from benchmarks.harness.stats import percentile
from bot import loop
from bot.bootstrap import build_app, init_database
from bot.delivery import Limits, OutboxSender
from models.broadcasts import Broadcast

COUNTING_GOAL_S = 0.5
KEPT_GOAL_S = 0.05
HEALTH_GOAL_S = 0.05
NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
COLUMNS = (
    "kind",
    "payload",
    "person_id",
    "merchant_id",
    "channel",
    "identity",
    "status",
    "attempts",
    "created_at",
    "due_at",
    "broadcast_id",
    "priority",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = BenchmarkParser("scrape", __doc__, database=EMPTY_SCHEMA_HELP)
    parser.sized(
        "--deliveries", full=280_000, quick=20_000, help="the running broadcast's deliveries"
    )
    parser.sized("--history", full=1_000_000, quick=50_000, help="ended rows of the last month")
    parser.sized("--scrapes", full=20, quick=5, help="timed scrapes of each kind")
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="VACUUM (ANALYZE) the outbox after seeding, as autovacuum leaves it between bursts",
    )
    parser.keep()
    parser.reset_database()
    return parser.parse_args(argv)


def outbox_rows(deliveries: int, history: int) -> Iterator[tuple[Any, ...]]:
    """The outbox of a Friday morning, as tuples of `COLUMNS`."""
    month_ago = NOW - timedelta(days=20)
    for n in range(history):
        reply = n % 4 == 0
        status = "failed" if n % 97 == 0 else "unreachable" if n % 89 == 0 else "sent"
        yield (
            "reply" if reply else "broadcast",
            "{}",
            n,
            None,
            "telegram" if n % 5 < 2 else "whatsapp",
            f"telegram:{n}" if n % 5 < 2 else f"whatsapp:+62{n:010d}",
            status,
            1,
            month_ago,
            month_ago,
            None if reply else 1 + n % 3,
            0 if reply else 1,
        )
    started = NOW - timedelta(hours=1)
    for n in range(deliveries):
        if n < deliveries // 3:
            status, due = "sent", started
        elif n < deliveries // 3 + 250:
            status, due = "sending", NOW + timedelta(seconds=60)
        else:
            status, due = "pending", started
        yield (
            "broadcast",
            json.dumps({"broadcast_id": 4}),
            n,
            None,
            "telegram" if n % 5 < 2 else "whatsapp",
            f"telegram:{n}" if n % 5 < 2 else f"whatsapp:+62{n:010d}",
            status,
            0,
            started,
            due,
            4,
            1,
        )
    for n in range(300):
        due = NOW - timedelta(seconds=5)
        channel = "telegram" if n % 2 else "whatsapp"
        yield ("reply", "{}", n, None, channel, f"{channel}:{n}", "pending", 0, due, due, None, 0)
    for n in range(20):
        yield ("order_new", "{}", None, n, None, None, "held", 0, NOW, NOW, None, 0)


async def seed(url: str, deliveries: int, history: int, vacuum: bool) -> float:
    """Loads the outbox and the running broadcast; returns the seconds it took."""
    started = time.perf_counter()
    app = build_app(app_settings(url), lambda: NOW)
    try:
        await init_database(app, demo=False)
    finally:
        await app.close()
    rows = outbox_rows(deliveries, history)
    if is_sqlite(url):
        with bulk_sqlite(sqlite_path(url)) as connection:
            connection.execute("BEGIN")
            insert_rows(
                connection,
                "outbox",
                COLUMNS,
                (
                    tuple(sqlite_instant(v) if isinstance(v, datetime) else v for v in row)
                    for row in rows
                ),
            )
            connection.execute(
                "INSERT INTO broadcasts (id, friday, category_id, status, send_at, products,"
                " recipients, skipped, created_at, started_at) SELECT 4, '2026-11-27',"
                " min(id), 'sending', :now, '[]', :deliveries, 0, :now, :now FROM categories",
                {"now": sqlite_instant(NOW), "deliveries": deliveries},
            )
            connection.execute("COMMIT")
            connection.execute("VACUUM" if vacuum else "ANALYZE")
            if vacuum:
                connection.execute("ANALYZE")
    else:
        import asyncpg

        connection = await asyncpg.connect(**pg_connect_args(url))
        try:
            await connection.copy_records_to_table("outbox", records=rows, columns=COLUMNS)
            await connection.execute(
                "INSERT INTO broadcasts (id, friday, category_id, status, send_at, products,"
                " recipients, skipped, created_at, started_at) SELECT 4, '2026-11-27',"
                " min(id), 'sending', $1, '[]', $2, 0, $1, $1 FROM categories",
                NOW,
                deliveries,
            )
            await connection.execute("VACUUM (ANALYZE) outbox" if vacuum else "ANALYZE outbox")
        finally:
            await connection.close()
    return time.perf_counter() - started


class _Channel:
    def __init__(self, channel: str) -> None:
        self.channel = channel


async def measure(url: str, scrapes: int) -> tuple[dict[str, list[float]], str]:
    """Times each kind of read `scrapes` times; returns the times and the last scrape."""
    app = build_app(app_settings(url), lambda: NOW)
    metrics = app.metrics
    # Senders of both channels, as `jbl run` has them (never started: only watched).
    metrics.watch(
        [
            OutboxSender(app.sessions, _Channel(name), Limits(30, 1), app.clock)  # type: ignore[arg-type]
            for name in ("telegram", "whatsapp")
        ]
    )
    times: dict[str, list[float]] = {"counting": [], "counts kept": [], "health's lag": []}
    body = b""
    try:
        async with app.sessions() as session:
            assert await session.get(Broadcast, 4) is not None
        # Once untimed: the pool's connections opened, the statements compiled.
        await metrics.exposition()
        await metrics.lagging()
        for _ in range(scrapes):
            metrics.counts_every_s = 0
            started = time.perf_counter()
            body = await metrics.exposition()
            times["counting"].append(time.perf_counter() - started)
            metrics.counts_every_s = 3600
            started = time.perf_counter()
            await metrics.exposition()
            times["counts kept"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await metrics.lagging()
            times["health's lag"].append(time.perf_counter() - started)
    finally:
        await app.close()
    return times, body.decode()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with database_url(args.database_url, "scrape.db", keep=args.keep) as args.database_url:
        database = prepare_database(args.database_url, reset=args.reset_database)
        fingerprint = print_header("scrape", args.database_url, [database])
        total = args.deliveries + args.history
        print(f"\n-- seeding {total:,} outbox rows ({args.deliveries:,} of the broadcast) --")
        seconds = loop.run(seed(args.database_url, args.deliveries, args.history, args.vacuum))
        print(f"seeded in {seconds:.1f} s")
        times, body = loop.run(measure(args.database_url, args.scrapes))
        print("\n-- the last scrape's outbox and broadcast --")
        for line in body.splitlines():
            if line.startswith(("jbl_outbox_rows", "jbl_outbox_oldest", "jbl_broadcast")):
                print(line)
        table = LatencyTable("read", 16)
        print(f"\n-- reads --\n{table.header()}")
        for label, taken in times.items():
            print(table.row(label, taken))
        goals: list[Goal] = [info_row("outbox rows", f"{total + 320:,}")]
        for label, goal in (
            ("counting", COUNTING_GOAL_S),
            ("counts kept", KEPT_GOAL_S),
            ("health's lag", HEALTH_GOAL_S),
        ):
            p95 = percentile(times[label], 95)
            goals.append(
                verdict_row(
                    f"{label} p95", f"< {goal * 1000:.0f} ms", f"{p95 * 1000:.1f} ms", p95 < goal
                )
            )
        return finish(goals, fingerprint)


if __name__ == "__main__":
    sys.exit(main())
