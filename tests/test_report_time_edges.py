"""Jakarta's midnights to the microsecond: an order placed at 00:00:00 on Friday counts for that
Friday, and one at 23:59:59.999999; one at 00:00:00 on Saturday, or 23:59:59.999999 on
Thursday, does not. Orders are stored in UTC (Jakarta is UTC+7, with no daylight saving), so
each midnight is 17:00 UTC the day before."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import App
from models.results import Dimension, Period, Scope, results, summary
from tests.conftest import Clock
from tests.db import orders
from tests.people import Chatter
from tests.test_cli_and_console import run_jbl
from tests.test_results import KLEPON, _order

FRIDAY = date(2026, 11, 27)
MICROSECOND = timedelta(microseconds=1)
# Jakarta's midnight that starts Friday, and the one that ends it, in UTC.
FRIDAY_STARTS = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
FRIDAY_ENDS = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
# When each order is placed, and how many klepon it holds: the number of units tells which
# orders a day counted.
PLACED = [
    (FRIDAY_STARTS - MICROSECOND, 1),  # Thursday 23:59:59.999999
    (FRIDAY_STARTS, 2),  # Friday 00:00:00
    (FRIDAY_ENDS - timedelta(seconds=1), 3),  # Friday 23:59:59
    (FRIDAY_ENDS - MICROSECOND, 4),  # Friday 23:59:59.999999
    (FRIDAY_ENDS, 5),  # Saturday 00:00:00
    (FRIDAY_ENDS + timedelta(minutes=1), 6),  # Saturday 00:01
]
# (orders, units) of each Jakarta day.
THURSDAY_COUNTS, FRIDAY_COUNTS, SATURDAY_COUNTS = (1, 1), (3, 2 + 3 + 4), (2, 5 + 6)


@pytest.fixture
async def midnights(app: App, clock: Clock) -> App:
    ani = Chatter(app, "console:ani")
    for at, units in PLACED:
        await _order(clock, ani, at, (KLEPON, units))
    clock.now = FRIDAY_ENDS + timedelta(days=1)
    return app


async def test_the_orders_are_stored_at_the_instants_they_were_placed(midnights: App) -> None:
    stored = [(order.created_at, order.total // 15_000) for order in await orders(midnights)]
    assert stored == PLACED


def _totals(app: App, tmp_path: Path, *period: str) -> tuple[int, int]:
    """(orders placed, units) of `jbl report` for the period, from its CSV's total row."""
    result = run_jbl(
        "report", *period, "--format", "csv", database_url=app.settings.database.url, cwd=tmp_path
    )
    assert (result.returncode, result.stderr) == (0, "")
    total = next(csv.DictReader(io.StringIO(result.stdout)))
    assert total["level"] == "total"
    return int(total["placed"]), int(total["units"])


async def test_jbl_report_counts_each_order_on_the_jakarta_day_it_was_placed(
    midnights: App, tmp_path: Path
) -> None:
    assert _totals(midnights, tmp_path, "--friday", "2026-11-27") == FRIDAY_COUNTS
    assert _totals(midnights, tmp_path, "--from", "2026-11-26", "--to", "2026-11-26") == (
        THURSDAY_COUNTS
    )
    assert _totals(midnights, tmp_path, "--from", "2026-11-28", "--to", "2026-11-28") == (
        SATURDAY_COUNTS
    )
    assert _totals(midnights, tmp_path, "--from", "2026-11-26", "--to", "2026-11-28") == (6, 21)


async def test_the_chat_and_the_breakdowns_draw_the_same_midnights(midnights: App) -> None:
    timezone = midnights.settings.timezone
    async with midnights.sessions() as session:
        read = await summary(session, Period.friday(FRIDAY), Scope(), timezone)
        by_channel = await results(
            session, Period.friday(FRIDAY), Scope(), Dimension.CHANNEL, timezone
        )
    assert (read.total.placed, read.total.units) == FRIDAY_COUNTS
    assert [(row.key, row.figures.placed, row.figures.units) for row in read.kota] == [
        ("Jakarta Pusat", *FRIDAY_COUNTS)
    ]
    assert [(row.key, row.figures.placed, row.figures.units) for row in by_channel.rows] == [
        ("console", *FRIDAY_COUNTS)
    ]
