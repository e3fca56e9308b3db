"""The staff web console at Jakarta scale: its pages as a signed-in staff member opens them.

    python -m benchmarks.web --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_web
    python -m benchmarks.web --quick                  # SQLite file, 20,000 orders

The database is seeded as `benchmarks.reports` seeds it (280,000 merchants, 1,000,000 products,
1,000,000 orders over 52 Fridays, in a child process); one product in a hundred then waits for
review. The console is served as `jbl run` serves it (`bot.web.build_web` with
`bot.admin.console`), by uvicorn on 127.0.0.1 in this process, and an HTTP client signs in with
a link and opens each page `RUNS` times:

- the merchants search (a name, then a kecamatan): p95 at most 200 ms;
- a merchant's page (operators, products, last four Fridays): p95 at most 200 ms;
- the results page of one Friday, all Jakarta by kota: p95 at most 500 ms;
- the curation grid of 48 cards: p95 at most 200 ms.

The goals apply on PostgreSQL at full size; otherwise the figures are reported only. The exit
status is 1 if a goal fails.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text

from benchmarks.harness.databases import (
    app_settings,
    is_sqlite,
)
from benchmarks.harness.report import (
    Goal,
    LatencyTable,
    finish,
    info_row,
    verdict_row,
)
from benchmarks.harness.stats import percentile
from benchmarks.reports import FULL, LAST_FRIDAY, scale_database, scale_parser
from bot.admin.console import PREFIX, build_console
from bot.bootstrap import build_app
from bot.web import build_web
from models.staff import grant_staff
from models.uow import UnitOfWork
from models.web_sessions import create_link, staff_person
from tests.fake_telegram import LocalServer

RUNS = 40
STAFF = "console:bench-staff"
GOALS_MS = {
    "merchants search": 200,
    "merchant's page": 200,
    "results of one Friday": 500,
    "curation grid (48 cards)": 200,
}
WAITING_EVERY = 100  # one product in this many waits for review


async def drive(url: str, full_size: bool) -> list[Goal]:
    app = build_app(app_settings(url))
    try:
        merchants, sample = await _prepare(app)
        async with (
            LocalServer(build_web(app.engine, [], None, None, None, build_console(app))) as server,
            httpx.AsyncClient(base_url=server.url, timeout=60) as client,
        ):
            await _sign_in(app, client, server.url)
            rng = random.Random(2026)
            friday = LAST_FRIDAY.isoformat()
            pages: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
                "merchants search": lambda: client.get(
                    f"{PREFIX}/toko",
                    params={"cari": f"UMKM {rng.randrange(merchants)}"}
                    if rng.random() < 0.5
                    else {"kecamatan": "Tebet"},
                ),
                "merchant's page": lambda: client.get(f"{PREFIX}/toko/{rng.choice(sample)}"),
                "results of one Friday": lambda: client.get(
                    f"{PREFIX}/hasil", params={"jumat": friday, "per": "kota"}
                ),
                "curation grid (48 cards)": lambda: client.get(f"{PREFIX}/kurasi"),
            }
            table = LatencyTable("page", 28, mean=True)
            print(f"\n-- {RUNS} requests of each page, one after another --")
            print(table.header())
            goals: list[Goal] = []
            for name, request in pages.items():
                answer = await request()  # warm: the first reads the catalog of tables
                assert answer.status_code == 200, (name, answer.status_code, answer.text[:300])
                seconds = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    answer = await request()
                    seconds.append(time.perf_counter() - started)
                    assert answer.status_code == 200, (name, answer.status_code)
                print(table.row(name, seconds))
                p95 = percentile(seconds, 95)
                goal = GOALS_MS[name]
                measured = f"{1000 * p95:.0f} ms"
                if full_size and not is_sqlite(url):
                    passed = p95 * 1000 <= goal
                    goals.append(verdict_row(f"{name} p95", f"<= {goal} ms", measured, passed))
                else:
                    goals.append(info_row(f"{name} p95", measured, f"({goal} ms at full PG)"))
            cards = len(re.findall(r'<article class="card product"', answer.text))
            print(f"curation grid: {cards} cards")
        return goals
    finally:
        await app.close()


async def _prepare(app: Any) -> tuple[int, list[int]]:
    """One product in a hundred waits for review; the staff member. How many merchants there
    are, and a thousand of their ids spread over them."""
    async with UnitOfWork(app.sessions) as uow:
        session = uow.session
        now = app.clock()
        await session.execute(
            text(
                "UPDATE products SET review_state = 'waiting', review_requested_at = :at"
                f" WHERE id % {WAITING_EVERY} = 0"
            ),
            {"at": now - timedelta(days=1)},
        )
        await grant_staff(session, STAFF, now)
        await uow.commit()
    async with app.sessions() as session:
        ids = list((await session.execute(text("SELECT id FROM merchants ORDER BY id"))).scalars())
        if not is_sqlite(str(app.engine.url)):
            await session.execute(text("ANALYZE products"))
    return len(ids), ids[:: max(1, len(ids) // 1000)]


async def _sign_in(app: Any, client: httpx.AsyncClient, base: str) -> None:
    async with UnitOfWork(app.sessions) as uow:
        person_id = await staff_person(uow.session, STAFF)
        assert person_id is not None
        token, _ = await create_link(uow.session, person_id, STAFF, app.clock())
        await uow.commit()
    signed = await client.post(
        f"{PREFIX}/masuk", data={"token": token}, headers={"Origin": base}, follow_redirects=True
    )
    assert signed.status_code == 200 and "jbl_staff" in client.cookies, signed.text[:300]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return scale_parser("web", __doc__).parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with scale_database(args, "web") as (fingerprint, goals):
        goals += asyncio.run(drive(args.database_url, args.orders >= FULL["orders"]))
        return finish(goals, fingerprint)


if __name__ == "__main__":
    sys.exit(main())
