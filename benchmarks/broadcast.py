"""The Friday broadcast at Jakarta scale: enqueue one delivery per subscriber of 1,000,000.

    python -m benchmarks.broadcast                                # SQLite file in a temp dir
    python -m benchmarks.broadcast --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_broadcast
    python -m benchmarks.broadcast --quick                        # 10,000 subscribers

Goals (the goals table at the end; the exit status is 1 if one fails):
- on PostgreSQL with 1,000,000 subscribers, the broadcast's enqueueing under 10 s
  (`ENQUEUE_GOAL_S`; with fewer subscribers or on SQLite it is reported only);
- the outbox rows are one per reachable subscriber who hears the featured category, the
  broadcast's `recipients` and `skipped` say so, and a second call adds no rows;
- reported: the seeding's time, outbox rows/s, a 280,000-subscriber broadcast's duration at
  Telegram's default limit (computed), the driver's peak RSS.

Seeding runs in a child process (so the driver's peak RSS is the app's own): the real
migrations and the demo catalog (`build_app` + `init_database(demo=True)`), then N persons, N
Telegram identities (about 1% marked unreachable, as after a 403) and N subscriptions (about
20% limited to one category through the `categories` bitmask, the rest every Friday), bulk
loaded as `benchmarks.catalog` does (`benchmarks.harness.seeding`): raw `sqlite3.executemany`
in one transaction, or asyncpg `copy_records_to_table` with the tables' secondary indexes and
foreign keys dropped and recreated from their own definitions; both end with ANALYZE. The
child also counts, from the rows it generated, who hears each category's Friday: the figures
the broadcast is checked against.

The driver then times what production does at the broadcast's moment: the scheduler's
`friday_broadcast(app.sessions, clock, send_time)` (plan and start in one unit of work, one
INSERT … SELECT into the outbox), with the clock at this week's Friday send time, on a warm
connection pool. Only that call is timed (`time.perf_counter`), and each SQL statement in it
at the driver. Afterwards the database is checked: the broadcast's outbox rows are one per
reachable subscriber who hears the featured category, `recipients` and `skipped` say so, and a
second call adds no rows. `--fridays K` does the same for K Fridays in turn; in between, the
week's rows are marked sent and the broadcast done, as the sender leaves them by the next
Friday (and on PostgreSQL the outbox is vacuumed, as autovacuum would have): the outbox keeps
them, as the nightly job prunes only rows that ended more than 35 days ago.

The duration of a broadcast to 280,000 subscribers at Telegram's default limit is computed
from the setting (not measured). With `--explain` the INSERT … SELECT runs once more under
EXPLAIN (ANALYZE, BUFFERS, WAL) on PostgreSQL (EXPLAIN QUERY PLAN on SQLite) in a transaction
that is rolled back.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

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
from benchmarks.harness.memory import kib_to_mib, peak_rss_kib
from benchmarks.harness.report import (
    Goal,
    finish,
    info_row,
    print_header,
    verdict_row,
)
from benchmarks.harness.seeding import (
    Steps,
    bulk_sqlite,
    copy_in_bulk,
    creation_stamps,
    insert_rows,
    seed_in_child,
    sqlite_size,
    write_seed_report,
)
from benchmarks.harness.sql import SqlProfile, explain, print_plan, short_sql
from bot.bootstrap import App, build_app, init_database
from models.broadcasts import SendTime
from models.friday import edition_date
from scheduler.jobs import friday_broadcast

FULL_SUBSCRIBERS = 1_000_000
QUICK_SUBSCRIBERS = 10_000
ENQUEUE_GOAL_S = 10.0  # issue #6: 1,000,000 subscribers on PostgreSQL
UNREACHABLE_SHARE = 0.01
ONE_CATEGORY_SHARE = 0.20
ESTIMATE_SUBSCRIBERS = 280_000
FIRST_TELEGRAM_ID = 1_000_000_000
SCATTER = 2_654_435_761  # odd, so a bijection modulo 2^33
JOB = "friday_broadcast"

PERSON_COLUMNS = ("id", "display_name", "language", "blocked", "created_at")
IDENTITY_COLUMNS = ("identity", "person_id", "last_seen_at", "unreachable_at")
SUBSCRIPTION_COLUMNS = ("person_id", "identity", "channel", "categories", "since")
SEEDED_TABLES = ("persons", "identities", "subscriptions")

STAMPS = 4096  # distinct creation instants over the last year

Rows = Iterator[tuple[Any, ...]]


# --------------------------------------------------------------------------------------------
# Seeding (runs in a child process: `--seed-only`)
# --------------------------------------------------------------------------------------------


@dataclass
class Population:
    """Who subscribed, decided up front so that three tables can be streamed from it."""

    first_id: int
    masks: bytearray  # the subscription's `categories`: 0 = every Friday, else one bit
    unreachable: bytearray  # 1: the identity has `unreachable_at` set
    languages: bytearray  # 1: English

    @classmethod
    def draw(
        cls, count: int, first_id: int, rotations: list[int], rng: random.Random
    ) -> Population:
        masks, unreachable, languages = bytearray(count), bytearray(count), bytearray(count)
        random_ = rng.random
        for n in range(count):
            if random_() < ONE_CATEGORY_SHARE:
                masks[n] = 1 << rotations[int(random_() * len(rotations))]
            unreachable[n] = random_() < UNREACHABLE_SHARE
            languages[n] = random_() < 0.1
        return cls(first_id, masks, unreachable, languages)

    def hearers(self, rotation: int) -> tuple[int, int]:
        """(reachable, unreachable) subscribers who get the broadcast of that category."""
        bit = 1 << rotation
        counts = Counter(zip(self.masks, self.unreachable, strict=True))
        hearing = [(u, c) for (mask, u), c in counts.items() if mask == 0 or mask & bit]
        return sum(c for u, c in hearing if not u), sum(c for u, c in hearing if u)

    def identity(self, n: int) -> str:
        # People subscribe in an order that has nothing to do with their Telegram account's
        # age: distinct user ids, scattered over the id space (n ↦ n·odd mod 2^33 is one to one).
        return f"telegram:{FIRST_TELEGRAM_ID + (n * SCATTER) % 2**33}"

    def rows(self, rng: random.Random, now: datetime, *, sqlite: bool) -> tuple[Rows, Rows, Rows]:
        """Persons, identities and subscriptions, streamed in person id order."""
        stamps = creation_stamps(rng, now, STAMPS, sqlite=sqlite)
        no = 0 if sqlite else False
        first = self.first_id

        def persons() -> Rows:
            for n, english in enumerate(self.languages):
                yield (first + n, f"Warga {n}", "en" if english else "id", no, stamps[n % STAMPS])

        def identities() -> Rows:
            for n, gone in enumerate(self.unreachable):
                seen = stamps[(n * 7) % STAMPS]
                yield (self.identity(n), first + n, seen, seen if gone else None)

        def subscriptions() -> Rows:
            for n, mask in enumerate(self.masks):
                yield (first + n, self.identity(n), "telegram", mask, stamps[(n * 13) % STAMPS])

        return persons(), identities(), subscriptions()


async def migrate_with_demo(url: str) -> tuple[list[int], int]:
    """The real migrations and the demo catalog; returns the categories' rotation places and
    the first free person id."""
    app = build_app(app_settings(url))
    try:
        await init_database(app, demo=True)
        async with app.engine.connect() as connection:
            rotations = list(
                (await connection.execute(text("SELECT rotation FROM categories"))).scalars()
            )
            top = (await connection.execute(text("SELECT max(id) FROM persons"))).scalar()
        return sorted(rotations), int(top or 0) + 1
    finally:
        await app.close()


def seed_sqlite(url: str, population: Population, rng: random.Random, steps: Steps) -> int:
    path = sqlite_path(url)
    persons, identities, subscriptions = population.rows(rng, datetime.now(UTC), sqlite=True)
    with bulk_sqlite(path) as connection:
        connection.execute("BEGIN")
        count = len(population.masks)
        for table, columns, rows in (
            ("persons", PERSON_COLUMNS, persons),
            ("identities", IDENTITY_COLUMNS, identities),
            ("subscriptions", SUBSCRIPTION_COLUMNS, subscriptions),
        ):
            with steps.run(f"generate + insert {table} (executemany)", count):
                insert_rows(connection, table, columns, rows)
        with steps.run("commit"):
            connection.execute("COMMIT")
        with steps.run("ANALYZE"):
            connection.execute("ANALYZE")
    return sqlite_size(path)


async def seed_postgres(url: str, population: Population, rng: random.Random, steps: Steps) -> int:
    import asyncpg

    persons, identities, subscriptions = population.rows(rng, datetime.now(UTC), sqlite=False)
    connection = await asyncpg.connect(**pg_connect_args(url))
    try:
        tables = (
            ("persons", PERSON_COLUMNS, persons),
            ("identities", IDENTITY_COLUMNS, identities),
            ("subscriptions", SUBSCRIPTION_COLUMNS, subscriptions),
        )
        await copy_in_bulk(
            connection,
            tables,
            steps,
            analysed=SEEDED_TABLES,
            sequences=("persons",),
            rows=len(population.masks),
        )
        return int(await connection.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await connection.close()


def seed_main(args: argparse.Namespace) -> None:
    steps = Steps()
    with steps.run("migrate + demo catalog (init_database)"):
        rotations, first_id = asyncio.run(migrate_with_demo(args.database_url))
    rng = random.Random(args.seed)
    with steps.run("draw subscribers", args.subscribers):
        population = Population.draw(args.subscribers, first_id, rotations, rng)
    if is_sqlite(args.database_url):
        size = seed_sqlite(args.database_url, population, rng, steps)
    else:
        size = asyncio.run(seed_postgres(args.database_url, population, rng, steps))
    report = {
        "steps": steps.rows,
        "subscribers": args.subscribers,
        "unreachable": sum(population.unreachable),
        "one_category": sum(1 for m in population.masks if m),
        "hearers": {str(r): population.hearers(r) for r in rotations},
        "size_bytes": size,
    }
    write_seed_report(args.seed_report, report)


def seeding_seconds(report: dict[str, Any]) -> float:
    """The bulk load: every step after the migration."""
    return sum(s for name, s, _ in report["steps"] if not name.startswith("migrate"))


def print_seeding(report: dict[str, Any]) -> None:
    n = report["subscribers"]
    load = seeding_seconds(report)
    print(
        f"\nseeded {n:,} persons + {n:,} identities + {n:,} subscriptions"
        f" ({report['unreachable']:,} identities unreachable,"
        f" {report['one_category']:,} subscriptions to one category only),"
        f" database {report['size_bytes'] / 2**20:,.0f} MiB"
    )
    print(
        f"bulk load incl. indexes/ANALYZE: {load:.1f} s = {3 * n / load:,.0f} rows/s;"
        f" whole seeding process (with migrations and demo catalog)"
        f" {report['wall_seconds']:.1f} s"
    )


# --------------------------------------------------------------------------------------------
# The broadcast
# --------------------------------------------------------------------------------------------


@dataclass
class Checked:
    broadcast_id: int
    friday: date
    category: str
    rotation: int
    status: str
    rows: int
    distinct_identities: int
    statuses: dict[str, int]
    recipients: int
    skipped: int
    expected: int
    expected_skipped: int
    by_sql: tuple[int, int]  # the same two counts, over the seeded tables in SQL
    again_started: list[int]
    rows_after_again: int
    outbox_before: int
    outbox_after_again: int


BROADCAST_ROWS = "SELECT count(*) FROM outbox WHERE broadcast_id = :id"


async def scalar(app: App, sql: str, **params: Any) -> Any:
    async with app.engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar()


async def check(
    app: App, started: list[int], seeded: dict[str, Any], outbox_before: int, again: Any
) -> Checked:
    [broadcast_id] = started
    async with app.engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT b.friday, c.slug, c.rotation, b.status, b.recipients, b.skipped"
                    " FROM broadcasts b JOIN categories c ON c.id = b.category_id"
                    " WHERE b.id = :id"
                ),
                {"id": broadcast_id},
            )
        ).one()
        statuses = dict(
            (
                await connection.execute(
                    text(
                        "SELECT status, count(*) FROM outbox WHERE broadcast_id = :id"
                        " GROUP BY status"
                    ),
                    {"id": broadcast_id},
                )
            ).all()
        )
        distinct = (
            await connection.execute(
                text("SELECT count(DISTINCT identity) FROM outbox WHERE broadcast_id = :id"),
                {"id": broadcast_id},
            )
        ).scalar()
        bit = 1 << row.rotation
        by_sql = (
            await connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE i.unreachable_at IS NULL),"
                    " count(*) FILTER (WHERE i.unreachable_at IS NOT NULL)"
                    " FROM subscriptions s JOIN identities i ON i.identity = s.identity"
                    " WHERE s.categories = 0 OR (s.categories & :bit) <> 0"
                ),
                {"bit": bit},
            )
        ).one()
    friday = row.friday if isinstance(row.friday, date) else date.fromisoformat(row.friday)
    again_started = await again()
    expected, expected_skipped = seeded["hearers"][str(row.rotation)]
    return Checked(
        broadcast_id=broadcast_id,
        friday=friday,
        category=row.slug,
        rotation=row.rotation,
        status=row.status,
        rows=sum(statuses.values()),
        distinct_identities=int(distinct),
        statuses=statuses,
        recipients=row.recipients,
        skipped=row.skipped,
        expected=expected,
        expected_skipped=expected_skipped,
        by_sql=(int(by_sql[0]), int(by_sql[1])),
        again_started=again_started,
        rows_after_again=int(await scalar(app, BROADCAST_ROWS, id=broadcast_id)),
        outbox_before=outbox_before,
        outbox_after_again=int(await scalar(app, "SELECT count(*) FROM outbox")),
    )


def print_statements(profile: SqlProfile, seconds: float) -> None:
    timings = [(stmt, t) for (_, stmt), t in profile.timings.items()]
    timings.sort(key=lambda r: -sum(d for d, _ in r[1]))
    in_sql = sum(d for _, t in timings for d, _ in t)
    print(f"\nSQL statements of the call, timed at the driver ({1000 * in_sql:,.0f} ms in all):")
    for stmt, durations in timings:
        total = sum(d for d, _ in durations)
        print(f"  {len(durations):3d}× {1000 * total:9.1f} ms  {short_sql(stmt, 96)}")
    rest = seconds - in_sql
    print(f"       {1000 * rest:9.1f} ms  the rest: COMMIT, the ORM and Python around them")


def deliveries_statement(profile: SqlProfile) -> tuple[str, Any]:
    for (_, stmt), timings in profile.timings.items():
        if " ".join(stmt.split()).upper().startswith("INSERT INTO OUTBOX"):
            return stmt, timings[0][1]
    raise LookupError("the call ran no INSERT INTO outbox")


async def explain_deliveries(app: App, statement: str, parameters: Any) -> None:
    analyze = "ANALYZE, BUFFERS, WAL"
    print(f"\n-- {explain(app, analyze)} of the INSERT … SELECT (run again, rolled back) --")
    print(f"    parameters {parameters}")
    await print_plan(app, statement, parameters, analyze=analyze)
    if app.engine.dialect.name == "postgresql":
        async with app.engine.connect() as connection:
            indexes = (
                await connection.execute(
                    text(
                        "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid))"
                        " FROM pg_stat_user_indexes WHERE relname = 'outbox' ORDER BY 1"
                    )
                )
            ).all()
        print("outbox indexes: " + ", ".join(f"{name} {size}" for name, size in indexes))


def duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min {whole % 60:02d} s"


@dataclass
class Run:
    seconds: float
    checked: Checked
    profile: SqlProfile

    @property
    def rate(self) -> float:
        return self.checked.rows / self.seconds

    @property
    def added_again(self) -> int:
        c = self.checked
        return c.outbox_after_again - c.outbox_before - c.rows

    @property
    def correct(self) -> dict[str, bool]:
        c = self.checked
        return {
            "rows": c.rows == c.distinct_identities == c.expected == c.by_sql[0]
            and c.statuses.keys() == {"pending"},
            "recipients": c.recipients == c.expected,
            "skipped": c.skipped == c.expected_skipped == c.by_sql[1],
            "again": not c.again_started
            and c.rows_after_again == c.rows
            and c.outbox_after_again == c.outbox_before + c.rows,
        }


async def one_friday(app: App, send_time: SendTime, friday: date, seeded: dict[str, Any]) -> Run:
    moment = send_time.of(friday).astimezone(UTC)

    def clock() -> datetime:
        return moment

    # Also opens the pool's connection: a running bot has it open already.
    outbox_before = int(await scalar(app, "SELECT count(*) FROM outbox"))
    profile = SqlProfile(app)
    profile.action = JOB
    started_at = time.perf_counter()
    started = await friday_broadcast(app.sessions, clock, send_time)
    seconds = time.perf_counter() - started_at
    profile.close()
    if len(started) != 1:
        raise SystemExit(f"{JOB} started {started}, not one broadcast")

    async def again() -> list[int]:
        return await friday_broadcast(app.sessions, clock, send_time)

    run = Run(seconds, await check(app, started, seeded, outbox_before, again), profile)
    checked = run.checked
    print(
        f"\n-- {JOB}: Friday {checked.friday}, at {moment.astimezone(send_time.timezone)}"
        f" (the clock), featured category {checked.category} (rotation place"
        f" {checked.rotation}), outbox holding {outbox_before:,} rows before --"
    )
    print(
        f"one call, plan + start in one unit of work: {seconds:.2f} s for"
        f" {checked.rows:,} outbox rows = {run.rate:,.0f} rows/s"
        f" ({seeded['subscribers']:,} subscribers, {checked.skipped:,} skipped as unreachable,"
        f" the rest subscribed to other categories only)"
    )
    print_statements(profile, seconds)
    print(
        f"\nchecked in the database: broadcast {checked.broadcast_id} is {checked.status!r},"
        f" recipients {checked.recipients:,}, skipped {checked.skipped:,};"
        f" its outbox rows {checked.rows:,} ({checked.distinct_identities:,} distinct"
        f" identities, by status {checked.statuses})"
    )
    print(
        f"expected from the generated subscribers: {checked.expected:,} reachable who hear"
        f" the category, {checked.expected_skipped:,} unreachable who would;"
        f" the same counted in SQL over the seeded tables: {checked.by_sql[0]:,},"
        f" {checked.by_sql[1]:,}"
    )
    print(
        f"second call: started {checked.again_started}, the broadcast's rows"
        f" {checked.rows_after_again:,}, outbox {checked.outbox_before:,} rows before →"
        f" {checked.outbox_after_again:,} after both calls"
    )
    failed = [name for name, ok in run.correct.items() if not ok]
    if failed:
        print(f"CHECK FAILED: {', '.join(failed)}")
    return run


async def week_sent(app: App, broadcast_id: int, postgres: bool) -> None:
    """What the sender leaves of a broadcast by the next Friday: its rows sent, it done."""
    started = time.perf_counter()
    async with app.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE outbox SET status = 'sent', sent_at = created_at, attempts = 1"
                " WHERE broadcast_id = :id"
            ),
            {"id": broadcast_id},
        )
        await connection.execute(
            text("UPDATE broadcasts SET status = 'done', finished_at = started_at WHERE id = :id"),
            {"id": broadcast_id},
        )
    if postgres:
        async with app.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM (ANALYZE) outbox"))
    print(
        f"\n(the week in between: broadcast {broadcast_id}'s rows marked sent"
        f"{', outbox vacuumed' if postgres else ''}, {time.perf_counter() - started:.1f} s)"
    )


async def drive(args: argparse.Namespace, seeded: dict[str, Any]) -> list[Goal]:
    app = build_app(app_settings(args.database_url))
    postgres = app.engine.dialect.name == "postgresql"
    try:
        send_time = app.conversation.config.send_time
        first = edition_date(datetime.now(send_time.timezone).date())
        runs = []
        for week in range(args.fridays):
            if runs:
                await week_sent(app, runs[-1].checked.broadcast_id, postgres)
            runs.append(await one_friday(app, send_time, first + timedelta(weeks=week), seeded))
        if args.explain:
            await explain_deliveries(app, *deliveries_statement(runs[-1].profile))
        rate_limit = app.settings.telegram.rate_per_s
    finally:
        await app.close()

    estimate = ESTIMATE_SUBSCRIBERS / rate_limit
    rows = runs[0].checked.rows
    print(
        f"\n-- computed, not measured: a Friday broadcast to {ESTIMATE_SUBSCRIBERS:,}"
        f" subscribers at Telegram's default limit --\n"
        f"{ESTIMATE_SUBSCRIBERS:,} messages ÷ {rate_limit:g} messages/s ([telegram] rate_per_s)"
        f" = {estimate:,.0f} s ≈ {duration(estimate)}. One message per chat, so the per-chat"
        f" limit does not bind; assumes the sender holds the overall limit throughout (no"
        f" 429 pauses, retries or competing notices). This run's (first) broadcast, {rows:,} rows,"
        f" would take {duration(rows / rate_limit)}."
    )

    label = "PostgreSQL" if postgres else "SQLite"
    n = seeded["subscribers"]
    goals: list[Goal] = []
    for number, run in enumerate(runs, start=1):
        week = f", Friday {number}" if len(runs) > 1 else ""
        figure = f"{label}: {JOB} for {n:,} subscribers{week}"
        measured = f"{run.seconds:.2f} s"
        if postgres and n >= FULL_SUBSCRIBERS:
            passed = run.seconds < ENQUEUE_GOAL_S
            goals.append(verdict_row(figure, f"< {ENQUEUE_GOAL_S:g} s", measured, passed))
        elif postgres:
            goals.append(info_row(figure, measured, "(goal for 1M)"))
        else:
            goals.append(info_row(figure, measured))
        goals.append(info_row(f"{label}: outbox rows/s{week}", f"{run.rate:,.0f}/s"))
    first_run = runs[0].checked
    goals += [
        verdict_row(
            "outbox rows = reachable who hear it",
            f"= {first_run.expected:,}",
            f"{first_run.rows:,}",
            all(run.correct["rows"] for run in runs),
        ),
        verdict_row(
            "broadcasts.recipients",
            f"= {first_run.expected:,}",
            f"{first_run.recipients:,}",
            all(run.correct["recipients"] for run in runs),
        ),
        verdict_row(
            "broadcasts.skipped",
            f"= {first_run.expected_skipped:,}",
            f"{first_run.skipped:,}",
            all(run.correct["skipped"] for run in runs),
        ),
        verdict_row(
            "rows added by a second call",
            "0",
            f"{sum(run.added_again for run in runs):,}",
            all(run.correct["again"] for run in runs),
        ),
        info_row(
            f"{ESTIMATE_SUBSCRIBERS:,} at {rate_limit:g}/s (computed)", f"{estimate / 3600:.2f} h"
        ),
    ]
    return goals


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = BenchmarkParser(
        "broadcast",
        __doc__,
        database=EMPTY_SCHEMA_HELP,
        quick=f"{QUICK_SUBSCRIBERS:,} subscribers",
    )
    parser.reset_database()
    parser.sized(
        "--subscribers", full=FULL_SUBSCRIBERS, quick=QUICK_SUBSCRIBERS, help="subscribers"
    )
    parser.add_argument(
        "--fridays",
        type=int,
        default=1,
        help="broadcasts of that many Fridays in turn, each timed; the earlier weeks' rows stay"
        " in the outbox, sent (default 1)",
    )
    parser.seeding()
    parser.keep()
    parser.add_argument(
        "--explain",
        action="store_true",
        help="run the INSERT … SELECT again under EXPLAIN ANALYZE (rolled back) and print it",
    )
    args = parser.parse_args(argv)
    if args.subscribers < 1 or args.fridays < 1:
        parser.error("--subscribers and --fridays must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed_only:
        seed_main(args)
        return 0
    with database_url(args.database_url, "broadcast.db", keep=args.keep) as args.database_url:
        if is_sqlite(args.database_url):
            path = sqlite_path(args.database_url)
            if path.exists() and path.stat().st_size:
                raise SystemExit(f"{path} exists: name a new file, the benchmark seeds it afresh")
        database = prepare_database(args.database_url, reset=args.reset_database)
        fingerprint = print_header("broadcast", args.database_url, [database])
        print(f"\n-- seeding {args.subscribers:,} subscribers (child process) --")
        options = ["--subscribers", str(args.subscribers)]
        seeded = seed_in_child("benchmarks.broadcast", args.database_url, args.seed, options)
        print_seeding(seeded)
        goals = [info_row("seeding (bulk load)", f"{seeding_seconds(seeded):.1f} s")]
        goals += asyncio.run(drive(args, seeded))
        driver_rss = peak_rss_kib()
        print("\n-- memory (peak RSS, ru_maxrss) --")
        print(f"driver process (the app and the job, one event loop): {kib_to_mib(driver_rss)}")
        print(f"seeding process: {kib_to_mib(seeded['peak_rss_kib'])}")
        goals.append(info_row("driver peak RSS", kib_to_mib(driver_rss)))
        return finish(goals, fingerprint)


if __name__ == "__main__":
    sys.exit(main())
