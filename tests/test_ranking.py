"""What sold in the last four weeks stays on top; older sales age out."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from models.chats import ProcessedMessage
from models.outbox import SENT
from scheduler.jobs import refresh_ranking
from scheduler.setup import RANKING_JOB, build_scheduler
from tests import db
from tests.conftest import job_context
from tests.dialogs import add_to_cart, order_for_pickup
from tests.people import Chatter


def first_page(chatter: Chatter) -> list[str]:
    return [label.split(" · ")[0] for label in chatter.labels if "· Rp" in label]


async def test_a_product_that_sells_rises_and_sinks_again_after_four_weeks(
    app, budi: Chatter, clock
) -> None:
    await db.set_product(app, "Jamu Sinom 500 ml", curated=False)
    await add_to_cart(budi, "jamu sinom", "Jamu Sinom", 5)
    await order_for_pickup(budi)
    await budi.send("/katalog")
    await budi.choose("Produk Kesehatan")
    before = first_page(budi)
    non_curated = [p.name for p in await db.products(app) if not p.curated]
    assert before[[n in non_curated for n in before].index(True)] == "Jamu Sinom 500 ml"

    clock.advance(timedelta(weeks=3))
    await refresh_ranking(app.sessions, clock)
    assert (await db.product(app, "Jamu Sinom 500 ml")).recent_sold == 5

    clock.advance(timedelta(weeks=2))
    await refresh_ranking(app.sessions, clock)
    assert (await db.product(app, "Jamu Sinom 500 ml")).recent_sold == 0
    await budi.send("/katalog")
    await budi.choose("Produk Kesehatan")
    assert "Jamu Sinom 500 ml" not in first_page(budi)[: before.index("Jamu Sinom 500 ml") + 1]


async def test_cancelled_orders_do_not_count_as_sales(app, budi: Chatter) -> None:
    await add_to_cart(budi, "jamu sinom", "Jamu Sinom", 4)
    await order_for_pickup(budi)
    await budi.send("/pesanan")
    await budi.choose("#1")
    await budi.choose("Batalkan pesanan")
    await budi.choose("Ya, batalkan")
    await refresh_ranking(app.sessions, budi.app.clock)
    assert (await db.product(app, "Jamu Sinom 500 ml")).recent_sold == 0


def test_jbl_run_refreshes_the_ranking_nightly_at_two_in_jakarta(app) -> None:
    jakarta = ZoneInfo("Asia/Jakarta")
    context = job_context(app)
    scheduler = build_scheduler(context, app.settings.database.url, jakarta)
    trigger = next(job for job in scheduler.get_jobs() if job.id == RANKING_JOB).trigger
    tuesday_noon = datetime(2026, 11, 24, 12, 0, tzinfo=jakarta)
    assert trigger.get_next_fire_time(None, tuesday_noon) == datetime(
        2026, 11, 25, 2, 0, tzinfo=jakarta
    )


async def test_the_nightly_job_forgets_message_ids_after_a_week_only(app, budi, clock) -> None:
    await budi.send("/start")
    clock.advance(timedelta(days=6))
    await budi.send("/bantuan")
    clock.advance(timedelta(days=2))
    await refresh_ranking(app.sessions, clock)
    assert await db.count(app, ProcessedMessage) == 1
    clock.advance(timedelta(days=6))
    await refresh_ranking(app.sessions, clock)
    assert await db.count(app, ProcessedMessage) == 0


async def test_the_nightly_job_forgets_outbox_rows_a_month_after_they_ended_only(
    app, budi, clock
) -> None:
    penjual = Chatter(app, "console:penjual")  # the demo's operator of merchant 1
    product = next(p for p in await db.products(app) if p.merchant_id == 1)
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)
    assert len(await penjual.read_notices()) == 1
    [sent] = [row for row in await db.outbox(app) if row.status == SENT]
    clock.advance(timedelta(days=30))
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)
    waiting = [row.id for row in await db.outbox(app) if row.status != SENT]
    assert waiting

    clock.advance(timedelta(days=4))
    await refresh_ranking(app.sessions, clock)
    assert sent.id in [row.id for row in await db.outbox(app)]
    clock.advance(timedelta(days=2))
    await refresh_ranking(app.sessions, clock)
    assert [row.id for row in await db.outbox(app)] == waiting
    # A row still to be sent is kept however old it gets.
    clock.advance(timedelta(days=60))
    await refresh_ranking(app.sessions, clock)
    assert [row.id for row in await db.outbox(app)] == waiting
