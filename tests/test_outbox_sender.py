"""What the outbox sender costs the database: the claim reads the index of claimable rows,
a round's notices load their orders at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, text

from bot.bootstrap import App
from bot.delivery import Limits, OutboxSender
from bot.telegram.channel import TelegramChannel
from models.outbox import claim_due
from models.uow import UnitOfWork
from tests import db
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


async def test_the_claim_reads_the_index_of_claimable_rows(app: App) -> None:
    statements: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM outbox JOIN identities" in statement:
            statements.append((statement, parameters))

    postgres = app.engine.dialect.name == "postgresql"
    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with UnitOfWork(app.sessions) as uow:
            lease = timedelta(seconds=60)
            await claim_due(uow.session, "telegram", "sender", app.clock(), lease, 100)
            [(statement, parameters)] = statements
            if postgres:
                # A near-empty table is cheapest to scan; the question is whether the
                # planner *can* use the partial index, i.e. sees the claim imply its condition.
                await uow.session.execute(text("SET LOCAL enable_seqscan = off"))
            connection = await uow.session.connection()
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = (await connection.exec_driver_sql(explain + statement, parameters)).all()
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)
    assert "ix_outbox_due" in str(plan), plan


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
