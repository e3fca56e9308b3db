"""Catalog at Jakarta scale: seed 280,000 merchants and 1,000,000 products, then browse.

    python -m benchmarks.catalog                                  # SQLite file in a temp dir
    python -m benchmarks.catalog --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    python -m benchmarks.catalog --quick                          # 2,800 / 10,000, smoke run
    python -m benchmarks.catalog --explain                        # + SQL per action, plans
    python -m benchmarks.catalog --local-first                    # [catalog] local_first on

Goals (the goals table at the end; PASS or FAIL):
- sequential run, p99 of each action: catalog root, category page, next page and product card
  at most 20 ms, search at most 50 ms (`P99_GOAL_MS`);
- sustained throughput on SQLite at least 300 messages/s in the sequential and the
  concurrent run (`SQLITE_THROUGHPUT_GOAL`; on PostgreSQL reported only), and in the paced run
  at least 95 % of the rate offered (`--rate`);
- no failed message (an exception, or a message left without an answer) in any run.
With `--local-first`, `[catalog] local_first` is on and every resident lives in a kecamatan
(persons.area_kecamatan, spread over models/data's list as the seeded merchants are), so
category pages and next pages put that kecamatan's products first within a rank. With
`--rank-pages`, residents also open a category just past its products not curated that sold
one (`rank_page`): the head of its largest rank, where a category nothing has sold in yet
starts, and where an order the catalog index does not give costs the most.
Also reported: the seeding's rows/s and size, the p99 by search query, the driver's peak RSS.

The seeding runs in a child process (`benchmarks.harness.seeding`, so the driver's peak RSS is
the app's own) and bulk loads the rows of `benchmarks.catalog_data`: raw
`sqlite3.executemany` in one transaction with the products indexes and search triggers dropped
(then recreated from their own `sqlite_master` SQL, the insert trigger replayed once as one
INSERT … SELECT over all products to fill the search index), or asyncpg
`copy_records_to_table` with the products indexes and foreign keys dropped and recreated from
their own definitions. Both end with ANALYZE.

The driver then calls `app.conversation.handle` directly, as every channel does, for residents
who open the catalog, page through a category, open product cards, search and add to the cart:
first one message at a time (one event loop, sequential awaits), then with several residents
at once (`asyncio.gather`, no pause: a saturation test), then with every resident at once,
each pausing like a person, together offering `--rate` messages/s. Each `handle` call is timed
with `time.perf_counter`.

With `--explain`, a further short run times every SQL statement per action and prints the plan
of the slowest execution of each action's slowest statement (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import re
import secrets
import sqlite3
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from benchmarks.catalog_data import (
    MERCHANT_COLUMNS,
    PRODUCT_COLUMNS,
    make_merchants,
    product_rows,
)
from benchmarks.harness.cli import BenchmarkParser
from benchmarks.harness.databases import (
    URL_FORMS,
    app_settings,
    database_url,
    is_sqlite,
    pg_connect_args,
    pg_database,
    prepare_postgres,
    sqlite_path,
)
from benchmarks.harness.memory import kib_to_mib, peak_rss_kib
from benchmarks.harness.report import (
    Goal,
    LatencyTable,
    finish,
    info_row,
    print_header,
    verdict_row,
)
from benchmarks.harness.seeding import (
    Steps,
    bulk_sqlite,
    drop_for_bulk_load,
    insert_rows,
    recreate_after_bulk_load,
    secondary_indexes,
    seed_in_child,
    sequence_past_ids,
    sqlite_size,
    write_seed_report,
)
from benchmarks.harness.sql import SqlProfile, print_plan, short_sql
from benchmarks.harness.stats import mean, percentile, steady_rate
from bot.bootstrap import App, build_app, init_database
from handlers.catalog import NEAR_MARK
from handlers.messages import Incoming, Reply
from models.areas import kecamatan_list
from models.catalog import Category
from models.people import Identity, Person
from models.uow import UnitOfWork

FULL_MERCHANTS = 280_000
FULL_PRODUCTS = 1_000_000
QUICK_MERCHANTS = 2_800
QUICK_PRODUCTS = 10_000

# --------------------------------------------------------------------------------------------
# Goals of the issue
# --------------------------------------------------------------------------------------------

ACTIONS = (
    "catalog_root",
    "category_page",
    "next_page",
    "rank_page",
    "product_card",
    "search",
    "add_to_cart",
)
P99_GOAL_MS = {
    "catalog_root": 20.0,
    "category_page": 20.0,
    "next_page": 20.0,
    "rank_page": 20.0,
    "product_card": 20.0,
    "search": 50.0,
}
SQLITE_THROUGHPUT_GOAL = 300.0

# --------------------------------------------------------------------------------------------
# What residents search for
# --------------------------------------------------------------------------------------------

# What residents type after /cari, with weights: common product words, combinations,
# prefixes, merchant and place words, category words, and a few that find nothing.
SEARCHES: tuple[tuple[str, int], ...] = (
    ("kopi", 10),
    ("keripik", 8),
    ("batik", 8),
    ("madu", 6),
    ("sambal", 6),
    ("jamu", 6),
    ("kue", 3),
    ("rendang", 3),
    ("nasi uduk", 3),
    ("kopi gayo", 3),
    ("keripik pedas", 3),
    ("batik tulis", 3),
    ("madu hutan", 3),
    ("gula aren", 2),
    ("sambal roa", 2),
    ("jamu kunyit asam", 2),
    ("tas rotan", 2),
    ("kerak telor", 2),
    ("dodol betawi", 2),
    ("bir pletok", 2),
    ("minyak telon", 2),
    ("sabun", 2),
    ("kain tenun", 2),
    ("kebaya", 2),
    ("ondel", 2),
    ("kop", 2),
    ("kerip", 1),
    ("bu siti", 1),
    ("tebet", 1),
    ("durian", 1),
    ("makanan", 1),
    ("kesehatan", 1),
    ("kopi luwak arabika", 1),
    ("sandal kulit", 1),
    ("es doger", 1),
    ("seblak", 1),
)


# --------------------------------------------------------------------------------------------
# Seeding (runs in a child process: `--seed-only`)
# --------------------------------------------------------------------------------------------


async def migrate(url: str) -> list[Category]:
    """Migrates with the app's own `init_database` and returns the categories it added."""
    app = build_app(app_settings(url))
    try:
        await init_database(app, demo=False)
        async with UnitOfWork(app.sessions) as uow:
            categories = list(await uow.session.scalars(select(Category).order_by(Category.id)))
            uow.session.expunge_all()
        return categories
    finally:
        await app.close()


_SCHEMA_OBJECTS = (
    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('products', 'merchants')"
    " AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
)
_INSERT_TRIGGER = re.compile(
    r"CREATE TRIGGER \S+ AFTER INSERT ON products(?: WHEN (?P<when>.+?))? BEGIN (?P<body>.+);"
    r" END",
    re.IGNORECASE | re.DOTALL,
)
_VALUES_INSERT = re.compile(
    r"INSERT INTO (?P<target>.+?) VALUES \((?P<values>.+)\)", re.IGNORECASE | re.DOTALL
)


def bulk_form(trigger_sql: str) -> list[str] | None:
    """An AFTER INSERT trigger on products as INSERT … SELECT over all products, or None.

    `INSERT INTO t(rowid, c) VALUES (f(new.x), new.c)` [WHEN g(new.y)] becomes
    `INSERT INTO t(rowid, c) SELECT f(new.x), new.c FROM products AS new [WHERE g(new.y)]`,
    in rowid order: what the trigger would have done row by row, in one statement. This keeps
    the benchmark right whatever the migration's search index (FTS5 table, key) looks like.
    """
    trigger = _INSERT_TRIGGER.fullmatch(" ".join(trigger_sql.split()))
    if trigger is None:
        return None
    statements = []
    for statement in trigger["body"].split("; "):
        insert = _VALUES_INSERT.fullmatch(statement.strip())
        if insert is None:
            return None
        where = f" WHERE {trigger['when']}" if trigger["when"] else ""
        statements.append(
            f"INSERT INTO {insert['target']} SELECT {insert['values']}"
            f" FROM products AS new{where} ORDER BY 1"
        )
    return statements


def fts_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
    ).fetchall()
    return [name for (name,) in rows]


def seed_sqlite(url: str, merchants: int, products: int, seed: int) -> dict[str, Any]:
    path = sqlite_path(url)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    steps = Steps()
    with steps.run("migrate (init_database)"):
        categories = asyncio.run(migrate(url))
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with bulk_sqlite(path) as connection:
        # The products/merchants indexes and search triggers, exactly as the migration made
        # them. Insert triggers are replayed in bulk after the load; one that cannot be
        # (not a plain INSERT … VALUES) stays in place and fires row by row.
        schema = connection.execute(_SCHEMA_OBJECTS).fetchall()
        replays: dict[str, list[str]] = {}
        dropped = []
        for kind, name, sql in schema:
            if kind == "trigger" and re.search(r"AFTER INSERT ON products", sql, re.IGNORECASE):
                bulk = bulk_form(sql)
                if bulk is None:
                    print(f"  keeping trigger {name} during the load (not replayable)")
                    continue
                replays[name] = bulk
            dropped.append((kind, name, sql))
        for kind, name, _sql in dropped:
            connection.execute(f'DROP {kind.upper()} "{name}"')
        with steps.run("generate merchants", merchants):
            pool, merchant_rows = make_merchants(merchants, categories, rng, now, sqlite=True)
        connection.execute("BEGIN")
        with steps.run("insert merchants (executemany)", merchants):
            insert_rows(connection, "merchants", MERCHANT_COLUMNS, merchant_rows)
        del merchant_rows
        with steps.run("generate + insert products (executemany)", products):
            rows = product_rows(products, pool, categories, rng, now, sqlite=True)
            insert_rows(connection, "products", PRODUCT_COLUMNS, rows)
        with steps.run("commit"):
            connection.execute("COMMIT")
        with steps.run("recreate indexes", products):
            for kind, _name, sql in dropped:
                if kind == "index":
                    connection.execute(sql)
        with steps.run(f"fill search index ({', '.join(fts_tables(connection))})", products):
            connection.execute("BEGIN")
            for statements in replays.values():
                for statement in statements:
                    connection.execute(statement)
            connection.execute("COMMIT")
        for kind, _name, sql in dropped:
            if kind == "trigger":
                connection.execute(sql)
        with steps.run("ANALYZE"):
            connection.execute("ANALYZE")
        assert connection.execute(_SCHEMA_OBJECTS).fetchall() == schema, "schema changed"
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM merchants), (SELECT count(*) FROM products)"
        ).fetchone()
        search = fts_tables(connection)[0]
        matches = connection.execute(
            f'SELECT count(*) FROM "{search}" WHERE "{search}" MATCH \'kopi\''
        ).fetchone()[0]
    return {
        "steps": steps.rows,
        "merchants": counts[0],
        "products": counts[1],
        "kopi_matches": matches,
        "size_bytes": sqlite_size(path),
        "schema_objects": [name for _kind, name, _sql in dropped],
        "replayed": {name: statements for name, statements in replays.items()},
    }


async def seed_postgres(url: str, merchants: int, products: int, seed: int) -> dict[str, Any]:
    import asyncpg

    steps = Steps()
    with steps.run("create database / reset public schema"):
        await prepare_postgres(url, reset=True)
    with steps.run("migrate (init_database)"):
        categories = await migrate(url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    connection = await asyncpg.connect(**pg_connect_args(url))
    try:
        # The products indexes (B-tree and GIN) and foreign keys.
        deferred = await drop_for_bulk_load(connection, ["products"])
        with steps.run("generate merchants", merchants):
            pool, merchant_rows = make_merchants(merchants, categories, rng, now, sqlite=False)
        with steps.run("copy merchants (copy_records_to_table)", merchants):
            await connection.copy_records_to_table(
                "merchants", records=merchant_rows, columns=MERCHANT_COLUMNS
            )
        del merchant_rows
        with steps.run("generate + copy products (copy_records_to_table)", products):
            await connection.copy_records_to_table(
                "products",
                records=product_rows(products, pool, categories, rng, now, sqlite=False),
                columns=PRODUCT_COLUMNS,
            )
        await connection.execute("SET maintenance_work_mem = '1GB'")
        with steps.run("recreate indexes (incl. GIN) + foreign keys", products):
            await recreate_after_bulk_load(connection, deferred)
        for table in ("merchants", "products"):
            await connection.execute(sequence_past_ids(table))
        with steps.run("VACUUM (ANALYZE)"):
            await connection.execute("VACUUM (ANALYZE) merchants, products")
        recreated = await secondary_indexes(connection, ["products"])
        assert [tuple(r) for r in recreated] == [tuple(r) for r in deferred.indexes], (
            "indexes differ"
        )
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM merchants) AS merchants,"
            " (SELECT count(*) FROM products) AS products,"
            " (SELECT count(*) FROM products"
            "  WHERE search_vector @@ to_tsquery('simple'::regconfig, 'kopi:*')) AS kopi,"
            " pg_database_size(current_database()) AS size"
        )
    finally:
        await connection.close()
    return {
        "steps": steps.rows,
        "merchants": counts["merchants"],
        "products": counts["products"],
        "kopi_matches": counts["kopi"],
        "size_bytes": counts["size"],
        "schema_objects": deferred.names,
    }


def seed_main(args: argparse.Namespace) -> None:
    if is_sqlite(args.database_url):
        report = seed_sqlite(args.database_url, args.merchants, args.products, args.seed)
    else:
        report = asyncio.run(
            seed_postgres(args.database_url, args.merchants, args.products, args.seed)
        )
    write_seed_report(args.seed_report, report)


# --------------------------------------------------------------------------------------------
# Driving the conversation
# --------------------------------------------------------------------------------------------

CATEGORY = re.compile(r"c:\d+")
NEXT = re.compile(r"c:\d+:n:[01]:\d+:\d+(?::d)?(?::l)?")
PAGE = re.compile(r"c:\d+(?::[np]:[01]:\d+:\d+(?::d)?(?::l)?)?")
PRODUCT = re.compile(r"p:\d+")
ADD_ONE = re.compile(r"a:\d+:1")


class Exhausted(Exception):
    """The run's message budget is spent."""


@dataclass
class Stats:
    """The timings of one run, by action."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_query: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    finished_at: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0

    @property
    def messages(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def _steady(self) -> tuple[float, float]:
        """From the 10th to the 90th percentile of completions: without ramp-up and -down."""
        return percentile(self.finished_at, 10), percentile(self.finished_at, 90)

    @property
    def sustained_rate(self) -> float:
        """Messages per second in the steady middle 80 % of the run (`steady_rate`)."""
        if self.messages < 50:
            return self.rate
        return steady_rate(self.finished_at) or self.rate

    def min_window_rate(self, window: float = 5.0) -> float | None:
        """The slowest full `window`-second stretch of the steady part, in messages/s."""
        if self.messages < 50:
            return None
        low, high = self._steady()
        full = int((high - low) // window)
        if full < 2:
            return None
        counts = [0] * full
        for at in self.finished_at:
            index = int((at - low) // window)
            if 0 <= index < full:
                counts[index] += 1
        return min(counts) / window


class Resident:
    def __init__(self, index: int) -> None:
        self.identity = f"console:warga{index:03d}"
        self.name = f"Warga {index}"
        self.replies: list[Reply] = []

    def payloads(self, pattern: re.Pattern[str]) -> list[str]:
        menu = next((r for r in reversed(self.replies) if r.buttons), None)
        return [b.payload for b in menu.buttons if pattern.fullmatch(b.payload)] if menu else []


class Driver:
    def __init__(self, app: App, stats: Stats, budget: int, tag: str) -> None:
        self.app = app
        self.stats = stats
        self.budget = budget
        self.tag = tag
        self.ids = itertools.count(1)
        # Unique across runs too: a message id the database has seen gets no answer.
        self.run = secrets.token_hex(4)
        self.profile: SqlProfile | None = None
        # Mean pause of a resident before each message (reading, thumbing), or none at all.
        self.think: float | None = None
        self.think_rng = random.Random(tag)
        # Also open categories at the head of their largest rank (`--rank-pages`).
        self.rank_pages = False

    async def send(
        self,
        resident: Resident,
        action: str,
        *,
        text: str | None = None,
        payload: str | None = None,
    ) -> list[Reply]:
        if self.budget <= 0:
            raise Exhausted
        self.budget -= 1
        if self.think:
            await asyncio.sleep(self.think_rng.expovariate(1 / self.think))
        incoming = Incoming(
            identity=resident.identity,
            message_id=f"bench-{self.run}-{self.tag}-{next(self.ids)}",
            text=text,
            payload=payload,
            display_name=resident.name,
        )
        if self.profile is not None:
            self.profile.action = action
        started = time.perf_counter()
        try:
            replies = await self.app.conversation.handle(incoming)
        except Exception:
            if not any(not key.endswith("(no reply)") for key in self.stats.errors):
                traceback.print_exc()  # the first exception only
            self.stats.errors[action] += 1
            replies = []
        if not replies:
            # Every message the benchmark sends deserves an answer.
            self.stats.errors[f"{action} (no reply)"] += 1
        finished = time.perf_counter()
        self.stats.latencies[action].append(finished - started)
        self.stats.finished_at.append(finished)
        if action == "search" and text:
            self.stats.by_query[text.split(" ", 1)[1]].append(finished - started)
        resident.replies = replies
        if action in ("category_page", "next_page", "rank_page") and any(
            b.label.startswith(NEAR_MARK) for r in replies for b in r.buttons
        ):
            self.stats.notes["pages_with_local_products"] += 1
        return replies


async def browse(driver: Driver, resident: Resident, rng: random.Random) -> None:
    """Catalog → a category → a few pages → a few product cards, some added to the cart."""
    await driver.send(resident, "catalog_root", payload="cat")
    categories = resident.payloads(CATEGORY)
    if not categories:
        driver.stats.notes["catalog_without_categories"] += 1
        return
    featured = rng.random() < 0.4
    category = categories[0] if featured else rng.choice(categories)
    await driver.send(resident, "category_page", payload=category)
    if driver.rank_pages and rng.random() < 0.3:
        # Just past the products not curated that sold one: the head of the largest rank, where
        # a category nothing has sold in yet starts.
        await driver.send(resident, "rank_page", payload=f"{category}:n:0:1:1")
    while rng.random() < 0.55:
        following = resident.payloads(NEXT)
        if not following:
            driver.stats.notes["last_page_reached"] += 1
            break
        await driver.send(resident, "next_page", payload=following[0])
    cards = 1 + (rng.random() < 0.5) + (rng.random() < 0.25)
    for card in range(cards):
        products = resident.payloads(PRODUCT)
        if not products:
            driver.stats.notes["page_without_products"] += 1
            return
        await open_card(driver, resident, rng, rng.choice(products))
        if card < cards - 1:
            # Back to the page the card came from, by the card's (or the cart's) back button.
            pages = resident.payloads(PAGE)
            if not pages:
                return
            await driver.send(
                resident, "next_page" if ":n:" in pages[-1] else "category_page", payload=pages[-1]
            )


async def open_card(driver: Driver, resident: Resident, rng: random.Random, product: str) -> None:
    await driver.send(resident, "product_card", payload=product)
    add = resident.payloads(ADD_ONE)
    if not add:
        driver.stats.notes["card_without_add_button"] += 1
    elif rng.random() < 0.35:
        replies = await driver.send(resident, "add_to_cart", payload=add[0])
        if replies and "keranjang" not in replies[0].text.lower():
            driver.stats.notes["add_refused"] += 1


async def find(driver: Driver, resident: Resident, rng: random.Random) -> None:
    """/cari <words> → maybe a product card from the results, maybe added to the cart."""
    query = rng.choices([q for q, _ in SEARCHES], [w for _, w in SEARCHES])[0]
    await driver.send(resident, "search", text=f"/cari {query}")
    products = resident.payloads(PRODUCT)
    if not products:
        driver.stats.notes["search_without_results"] += 1
        return
    if rng.random() < 0.7:
        await open_card(driver, resident, rng, rng.choice(products))


async def session(driver: Driver, resident: Resident, rng: random.Random) -> None:
    searches = rng.random() < 0.6
    if searches and rng.random() < 0.5:
        await find(driver, resident, rng)
        searches = False
    await browse(driver, resident, rng)
    if searches:
        await find(driver, resident, rng)


async def worker(driver: Driver, residents: list[Resident], rng: random.Random) -> None:
    try:
        while True:
            await session(driver, rng.choice(residents), rng)
    except Exhausted:
        pass


async def run_phase(
    app: App,
    residents: list[Resident],
    messages: int,
    concurrency: int,
    seed: int,
    tag: str,
    profile: SqlProfile | None = None,
    think: float | None = None,
    rank_pages: bool = False,
) -> Stats:
    stats = Stats()
    driver = Driver(app, stats, messages, tag)
    driver.rank_pages = rank_pages
    driver.profile = profile
    driver.think = think
    stats.started = time.perf_counter()
    if concurrency <= 1:
        await worker(driver, residents, random.Random(seed))
    else:
        # Each worker has its own residents, so no chat is used by two workers at once.
        await asyncio.gather(
            *(
                worker(driver, residents[w::concurrency], random.Random(seed + w))
                for w in range(concurrency)
            )
        )
    stats.finished = time.perf_counter()
    return stats


async def warm_up(app: App, residents: list[Resident]) -> Stats:
    """Every resident says /start once: their person, identity and chat state are created."""
    stats = Stats()
    driver = Driver(app, stats, len(residents), "warmup")
    stats.started = time.perf_counter()
    for resident in residents:
        await driver.send(resident, "start", text="/start")
    stats.finished = time.perf_counter()
    return stats


async def give_areas(app: App, residents: list[Resident]) -> None:
    """Each resident lives in a kecamatan, in turn over the list the merchants were seeded in."""
    areas = kecamatan_list()
    async with UnitOfWork(app.sessions) as uow:
        for index, resident in enumerate(residents):
            person = select(Identity.person_id).where(Identity.identity == resident.identity)
            await uow.session.execute(
                update(Person)
                .where(Person.id.in_(person.scalar_subquery()))
                .values(area_kecamatan=areas[index % len(areas)])
            )
        await uow.commit()


# --------------------------------------------------------------------------------------------
# SQL profile and plans (--explain)
# --------------------------------------------------------------------------------------------


async def explain_actions(
    app: App, residents: list[Resident], messages: int, seed: int, rank_pages: bool
) -> None:
    profile = SqlProfile(app)
    try:
        stats = await run_phase(
            app, residents, messages, 1, seed, "explain", profile, rank_pages=rank_pages
        )
    finally:
        profile.close()
    print(f"\n-- SQL per action ({stats.messages} messages, statements timed at the driver) --")
    for action in ACTIONS:
        handled = stats.latencies.get(action)
        if not handled:
            continue
        rows = [(stmt, t) for (a, stmt), t in profile.timings.items() if a == action]
        sql_total = sum(sum(d for d, _ in t) for _, t in rows)
        print(
            f"\n{action}: {len(handled)} messages, handle mean {1000 * mean(handled):.2f} ms,"
            f" of which SQL {1000 * sql_total / len(handled):.2f} ms"
            f" in {sum(len(t) for _, t in rows) / len(handled):.1f} statements"
        )
        rows.sort(key=lambda r: -sum(d for d, _ in r[1]))
        for stmt, timings in rows[:6]:
            durations = [d for d, _ in timings]
            print(
                f"  {len(timings):5d}× mean {1000 * mean(durations):7.2f} ms"
                f"  max {1000 * max(durations):7.2f} ms  {short_sql(stmt)}"
            )
        selects = [r for r in rows if r[0].lstrip().upper().startswith("SELECT")]
        if not selects:
            continue
        # The systematically slowest one (highest mean), with its slowest parameters.
        stmt, timings = max(selects, key=lambda r: sum(d for d, _ in r[1]) / len(r[1]))
        slowest, parameters = max(timings, key=lambda t: t[0])
        print(f"  plan of its slowest SELECT ({1000 * slowest:.2f} ms), parameters {parameters}:")
        await print_plan(app, stmt, parameters)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_latencies(title: str, stats: Stats) -> None:
    print(f"\n-- {title} --")
    table = LatencyTable("action", 15)
    print(table.header())
    names = [a for a in (*ACTIONS, "start") if a in stats.latencies]
    for action in names:
        print(table.row(action, stats.latencies[action]))
    print(table.row("all", [v for vs in stats.latencies.values() for v in vs]))
    window = stats.min_window_rate()
    slowest = f", slowest 5 s window {window:,.0f} msg/s" if window is not None else ""
    print(
        f"throughput: {stats.messages} messages in {stats.seconds:.2f} s"
        f" = {stats.rate:,.0f} msg/s overall, {stats.sustained_rate:,.0f} msg/s sustained"
        f" (10th–90th percentile of completions){slowest}"
    )
    if stats.errors:
        print(f"ERRORS: {dict(stats.errors)}")
    if stats.notes:
        print(f"notes: {dict(sorted(stats.notes.items()))}")


def print_queries(stats: Stats) -> None:
    print("\nsearch by query (sequential run), slowest p99 first:")
    table = LatencyTable("query", 22, percentiles=(50, 99), indent="  ")
    print(table.header())
    rows = sorted(stats.by_query.items(), key=lambda kv: -percentile(kv[1], 99))
    for query, values in rows:
        print(table.row(query, values))


def goal_rows(
    label: str,
    stats: Stats,
    sqlite: bool,
    *,
    latency_goals: bool = True,
    offered: float | None = None,
) -> list[Goal]:
    """`offered`: the phase was paced at that rate, so it can only show that it kept up."""
    rows = []
    for action, goal in P99_GOAL_MS.items():
        values = stats.latencies.get(action)
        if not values:
            continue
        p99 = 1000 * percentile(values, 99)
        figure, limit, measured = f"{label}: {action} p99", f"≤ {goal:.0f} ms", f"{p99:.2f} ms"
        if latency_goals:
            rows.append(verdict_row(figure, limit, measured, p99 <= goal))
        else:
            rows.append(info_row(figure, measured, limit))
    figure, rate = f"{label}: sustained throughput", f"{stats.sustained_rate:,.0f} msg/s"
    if offered is not None:
        passed = stats.sustained_rate >= 0.95 * offered
        rows.append(verdict_row(figure, f"≥ 95% of {offered:,.0f}", rate, passed))
    elif sqlite:
        passed = stats.sustained_rate >= SQLITE_THROUGHPUT_GOAL
        rows.append(verdict_row(figure, f"≥ {SQLITE_THROUGHPUT_GOAL:.0f} msg/s", rate, passed))
    else:
        rows.append(info_row(figure, rate, "(SQLite goal)"))
    errors = sum(stats.errors.values())
    rows.append(verdict_row(f"{label}: failed messages", "0", str(errors), not errors))
    return rows


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


async def drive_main(args: argparse.Namespace, sqlite: bool) -> list[Goal]:
    settings = app_settings(args.database_url)
    if args.local_first:
        catalog = settings.catalog.model_copy(update={"local_first": True})
        settings = settings.model_copy(update={"catalog": catalog})
    app = build_app(settings)
    try:
        # A kept database (--no-seed) may predate the newest migration.
        await init_database(app, demo=False)
        if not sqlite:
            async with app.engine.connect() as connection:
                version = await connection.exec_driver_sql("SHOW server_version")
                print(f"PostgreSQL server {version.scalar()}")
        residents = [Resident(i) for i in range(args.residents)]
        stats = await warm_up(app, residents)
        print_latencies(f"warm-up: {len(residents)} residents send /start", stats)
        if args.local_first:
            await give_areas(app, residents)
            print("[catalog] local_first on: residents live in every kecamatan in turn")
        ranks = args.rank_pages
        sequential = await run_phase(
            app, residents, args.messages, 1, args.seed, "seq", rank_pages=ranks
        )
        print_latencies(
            f"sequential run: {args.messages} messages, one event loop, sequential awaits",
            sequential,
        )
        print_queries(sequential)
        concurrent = await run_phase(
            app,
            residents,
            args.messages,
            args.concurrency,
            args.seed + 1000,
            "conc",
            rank_pages=ranks,
        )
        print_latencies(
            f"concurrent run: {args.messages} messages, {args.concurrency} residents at once"
            " (asyncio.gather), no pause between messages: a saturation test, latencies include"
            " queueing behind the others",
            concurrent,
        )
        # Every resident chats at once with human pauses, together offering `--rate` msg/s.
        think = len(residents) / args.rate
        paced = await run_phase(
            app,
            residents,
            args.messages,
            len(residents),
            args.seed + 3000,
            "paced",
            think=think,
            rank_pages=ranks,
        )
        print_latencies(
            f"paced run: {len(residents)} residents at once, each pausing {think:.2f} s on"
            f" average (exponential) before each message: {args.rate:,.0f} msg/s offered",
            paced,
        )
        if args.explain:
            await explain_actions(app, residents, args.explain_messages, args.seed + 2000, ranks)
    finally:
        await app.close()
    return (
        goal_rows("sequential", sequential, sqlite)
        + goal_rows(f"concurrent×{args.concurrency}", concurrent, sqlite, latency_goals=False)
        + goal_rows(
            f"paced {args.rate:,.0f}/s", paced, sqlite, latency_goals=False, offered=args.rate
        )
    )


def print_seeding(report: dict[str, Any]) -> None:
    rows = report["merchants"] + report["products"]
    load = sum(s for name, s, _ in report["steps"] if not name.startswith(("migrate", "create")))
    print(
        f"\nseeded {report['merchants']:,} merchants + {report['products']:,} products"
        f" ({report['kopi_matches']:,} match 'kopi'),"
        f" database {report['size_bytes'] / 2**20:,.0f} MiB"
    )
    print(
        f"bulk load incl. indexes/search index/ANALYZE: {load:.1f} s = {rows / load:,.0f} rows/s;"
        f" whole seeding process {report['wall_seconds']:.1f} s"
        f" = {rows / report['wall_seconds']:,.0f} rows/s"
    )
    print(f"dropped and recreated around the load: {', '.join(report['schema_objects'])}")
    for name, statements in report.get("replayed", {}).items():
        for statement in statements:
            print(f"trigger {name} replayed in bulk as: {statement}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = BenchmarkParser(
        "catalog",
        __doc__,
        database=f"{URL_FORMS} (default: a SQLite file in a temp dir; the database is re-seeded)",
        quick=f"{QUICK_MERCHANTS:,} merchants, {QUICK_PRODUCTS:,} products",
    )
    parser.sized("--merchants", full=FULL_MERCHANTS, quick=QUICK_MERCHANTS, help="merchants")
    parser.sized("--products", full=FULL_PRODUCTS, quick=QUICK_PRODUCTS, help="products")
    parser.sized("--messages", full=20_000, quick=600, help="per run")
    parser.add_argument("--residents", type=int, default=200, help="distinct chat identities")
    parser.add_argument("--concurrency", type=int, default=8, help="residents at once")
    parser.add_argument(
        "--rate", type=float, default=300.0, help="msg/s offered by all residents in the paced run"
    )
    parser.seeding()
    parser.add_argument("--no-seed", action="store_true", help="use the database as it is")
    parser.keep()
    parser.add_argument("--explain", action="store_true", help="profile SQL and print plans")
    parser.add_argument("--explain-messages", type=int, default=600)
    parser.add_argument(
        "--local-first",
        action="store_true",
        help="[catalog] local_first on, and every resident living in a kecamatan",
    )
    parser.add_argument(
        "--rank-pages",
        action="store_true",
        help="also open categories at the head of their largest rank (rank_page)",
    )
    args = parser.parse_args(argv)
    if args.products < args.merchants:
        parser.error("every merchant gets a product: --products must be ≥ --merchants")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with database_url(args.database_url, "catalog.db", keep=args.keep) as args.database_url:
        sqlite = is_sqlite(args.database_url)
        if not sqlite:
            pg_database(args.database_url)
        if args.seed_only:
            seed_main(args)
            return
        fingerprint = print_header(
            "catalog", args.database_url, [f"SQLite {sqlite3.sqlite_version}"]
        )
        seed_rss = None
        if not args.no_seed:
            print(f"\n-- seeding {args.merchants:,} merchants, {args.products:,} products --")
            options = ["--merchants", str(args.merchants), "--products", str(args.products)]
            report = seed_in_child("benchmarks.catalog", args.database_url, args.seed, options)
            print_seeding(report)
            seed_rss = report["peak_rss_kib"]
        goals = asyncio.run(drive_main(args, sqlite))
        print("\n-- memory (peak RSS, ru_maxrss) --")
        driver_rss = peak_rss_kib()
        print(f"driver process (app + benchmark, one event loop): {kib_to_mib(driver_rss)}")
        if seed_rss is not None:
            print(f"seeding process: {kib_to_mib(seed_rss)}")
        goals.append(info_row("driver peak RSS", kib_to_mib(driver_rss)))
        # The goals decide no exit status here: the catalog's runs report them.
        finish(goals, fingerprint)


if __name__ == "__main__":
    main()
