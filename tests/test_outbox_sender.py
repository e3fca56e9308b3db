"""The outbox sender as a steady pipeline, against the fake Telegram: every row sent once and
recorded, a stop gives the unsent rows back, a 429 holds back the rows already given slots, a
claim older than half its lease is given back rather than sent; and what it costs the database:
the claim reads the index of claimable rows, a batch's notices load their orders at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import event, text

from bot.bootstrap import App
from bot.delivery import Limits, OutboxSender
from bot.telegram.channel import TelegramChannel
from models.outbox import PENDING, SENT, OutboxMessage, claim_due
from models.uow import UnitOfWork
from tests import db
from tests.conftest import Clock
from tests.dialogs import order_for_pickup
from tests.fake_telegram import Call, FakeTelegram
from tests.people import Chatter

FIRST_CHAT = 7000


async def operators_on_telegram(app: App, tg: FakeTelegram, count: int) -> list[int]:
    """`count` operators of one merchant, each in a Telegram chat; returns that merchant's
    products (every order of them is a notice for each operator)."""
    products = [p for p in await db.products(app) if p.merchant_id == 2]
    for number in range(count):
        await db.add_operator(app, 2, f"telegram:{FIRST_CHAT + number}")
        tg.user(FIRST_CHAT + number, f"Operator {number}")
    return [p.id for p in products]


async def place_order(budi: Chatter, product_id: int) -> None:
    await budi.send(f"/start p_{product_id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)


def sends(tg: FakeTelegram) -> list[Call]:
    return [c for c in tg.calls if c.method == "sendMessage" and c.status == 200]


def sends_per_chat(tg: FakeTelegram) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in sends(tg))


async def telegram_rows(app: App) -> list[OutboxMessage]:
    return [r for r in await db.outbox(app) if r.channel == "telegram"]


async def test_a_running_sender_sends_every_row_once_and_records_it(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    [product, *_] = await operators_on_telegram(app, tg, 20)
    await place_order(budi, product)
    # Claims of 5 rows: the next ones are claimed while the first are still going out.
    limits = Limits(rate_per_s=1000, per_chat_per_s=1000, claim_seconds=0.005)
    sender = OutboxSender(app.sessions, channel, limits, app.clock)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await tg.wait_for(lambda: len(sends(tg)) >= 20, what="a notice in each of the 20 chats")
    stop.set()
    await running
    assert sends_per_chat(tg) == {FIRST_CHAT + n: 1 for n in range(20)}
    assert {r.status for r in await telegram_rows(app)} == {SENT}
    assert sender.stats.claims >= 4 and sender.stats.claimed == 20


async def test_a_stop_gives_the_claimed_unsent_rows_back_at_once(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    [product, *_] = await operators_on_telegram(app, tg, 6)
    await place_order(budi, product)
    # At 2/s the first send goes at once and the next half a second later; 4 are claimed.
    sender = OutboxSender(app.sessions, channel, Limits(2, 1), app.clock)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await tg.wait_for(lambda: len(sends(tg)) >= 1, what="the first notice")
    stop.set()
    await running
    sent = {f"telegram:{chat}" for chat in sends_per_chat(tg)}
    rows = await telegram_rows(app)
    assert {r.identity for r in rows if r.status == SENT} == sent
    unsent = [r for r in rows if r.status != SENT]
    assert len(unsent) >= 4
    # Given back, due now: the next start sends them without waiting for a lease to lapse.
    assert all(r.status == PENDING and r.claimed_by is None for r in unsent)
    assert all(r.due_at <= clock() for r in unsent)


async def test_after_a_429_no_send_goes_out_before_retry_after(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    [product, *_] = await operators_on_telegram(app, tg, 3)
    await place_order(budi, product)
    tg.fail_next("sendMessage", error_code=429, description="Too Many Requests", retry_after=2)
    # The second row has its slot half a second after the first: before the 429's pause ends.
    sender = OutboxSender(app.sessions, channel, Limits(2, 1), app.clock)
    assert await sender.send_due()
    refused, *later = [c for c in tg.calls if c.method == "sendMessage"]
    assert refused.status == 429
    assert len(later) == 2 and all(c.status == 200 for c in later)
    assert all(c.at >= refused.at + 2 for c in later)
    statuses = Counter(r.status for r in await telegram_rows(app))
    assert statuses == {SENT: 2, PENDING: 1}
    [waiting] = [r for r in await telegram_rows(app) if r.status == PENDING]
    assert waiting.attempts == 0 and waiting.due_at == clock() + timedelta(seconds=2)


async def test_a_row_claimed_half_a_lease_ago_is_given_back_unsent(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    [product, *_] = await operators_on_telegram(app, tg, 2)
    await place_order(budi, product)
    # A slow sender claims both rows and sends the first; the second's slot is a second later.
    slow = OutboxSender(app.sessions, channel, Limits(1, 1), app.clock)
    sending = asyncio.create_task(slow.send_due())
    await tg.wait_for(lambda: len(sends(tg)) >= 1, what="the first notice")
    # Meanwhile half its lease passes: a claim that old could lapse before the send ends
    # (and another sender send the row too), so the row goes back instead.
    clock.advance(timedelta(seconds=31))
    await sending
    assert sends_per_chat(tg) == {FIRST_CHAT: 1}
    [first, second] = await telegram_rows(app)
    assert first.status == SENT
    assert (second.status, second.claimed_by, second.due_at) == (PENDING, None, clock())
    other = OutboxSender(app.sessions, channel, Limits(1000, 1000), app.clock)
    assert await other.send_due()
    assert sends_per_chat(tg) == {FIRST_CHAT: 1, FIRST_CHAT + 1: 1}


async def test_the_claim_reads_the_index_of_claimable_rows_up_to_now(app: App) -> None:
    statements: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM outbox JOIN identities" in statement:
            statements.append((statement, parameters))

    postgres = app.engine.dialect.name == "postgresql"
    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    plans: list[list[str]] = []
    try:
        async with UnitOfWork(app.sessions) as uow:
            lease = timedelta(seconds=60)
            await claim_due(uow.session, "telegram", "sender", app.clock(), lease, 100)
            if postgres:
                # A near-empty table is cheapest to scan; the question is whether the
                # planner *can* use the partial index, i.e. sees the claim imply its condition.
                await uow.session.execute(text("SET LOCAL enable_seqscan = off"))
            connection = await uow.session.connection()
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            for statement, parameters in list(statements):
                rows = await connection.exec_driver_sql(explain + statement, parameters)
                plans.append([str(row) for row in rows.all()])
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)
    # Notices, then broadcasts: each a range of the index that ends at rows not yet due (those
    # being sent, until their leases end), not a walk through all of them.
    assert len(plans) == 2, plans
    for plan in plans:
        assert any("ix_outbox_due" in line for line in plan), plan
        bound = ("Index Cond:", "due_at <=") if postgres else ("ix_outbox_due", "due_at<")
        assert any(all(part in line for part in bound) for line in plan), plan


async def test_notices_claimed_together_load_their_orders_with_one_query(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    products = await operators_on_telegram(app, tg, 3)
    for product in products[:3]:
        await place_order(budi, product)
    selects: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM orders" in statement:
            selects.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        sender = OutboxSender(app.sessions, channel, Limits(1000, 1000), app.clock)
        assert await sender.send_due()
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)
    assert len(sends(tg)) == 9  # 3 orders, 3 operators each
    assert len(selects) == 1, selects
