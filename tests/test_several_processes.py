"""Several `jbl run` processes on one PostgreSQL database are one bot: a person's messages,
whichever process gets them, are handled one at a time on the state the one before left, and
the scheduled jobs, which every process fires, act once."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from bot.bootstrap import App
from bot.cli.staff import add_staff
from bot.settings import BroadcastSettings, DatabaseSettings, ReportSettings, Settings
from models.broadcasts import Broadcast
from models.carts import CartItem
from models.db import create_engine
from models.ordering import EXPIRED
from models.outbox import OutboxMessage
from models.staff import ReportDelivery
from scheduler.setup import FRIDAY_JOB, REPORT_JOB
from tests import db
from tests.conftest import PG_URL
from tests.dialogs import order_for_pickup
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.processes import jbl_env
from tests.several_processes import WEBHOOK_PATH, jbl_runs, proxy, stored_job_due, until
from tests.telegram_bot import SECRET, TOKEN, free_port
from tests.whatsapp_bot import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SENDER

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="several jbl run processes share a PostgreSQL database; SQLite is one's"
)

IN_CART = re.compile(r"total di keranjang: (\d+)")


def telegram_env(database_url: str, tg: FakeTelegram, webhook_url: str, **more: str) -> dict:
    return jbl_env(
        database_url,
        JBL_TELEGRAM__TOKEN=TOKEN,
        JBL_TELEGRAM__API_BASE_URL=tg.base_url,
        JBL_TELEGRAM__WEBHOOK_URL=webhook_url,
        JBL_TELEGRAM__SECRET_TOKEN=SECRET,
        **more,
    )


async def cart_of(app: App, identity: str) -> dict[int, int]:
    person = await Chatter(app, identity).person()
    async with app.sessions() as session:
        rows = await session.execute(
            select(CartItem.product_id, CartItem.quantity).where(CartItem.person_id == person.id)
        )
        return {product_id: quantity for product_id, quantity in rows}


# ---- starting ------------------------------------------------------------------------------


async def test_two_processes_started_at_once_on_an_empty_database_both_come_up(
    database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    ports = [free_port(), free_port()]
    # Each migrates the schema and makes the job store's table; neither trips on the other.
    async with (
        proxy(ports) as proxy_url,
        jbl_runs(telegram_env(database_url, tg, proxy_url + WEBHOOK_PATH), ports, tmp_path),
    ):
        budi = tg.user(1001, "Budi")
        for _ in ports:
            welcome = await budi.wait_for_reply(budi.send("/bantuan"), timeout=60)
            assert "Cara memakai" in (welcome.text or "")


# ---- a person's messages --------------------------------------------------------------------


async def test_messages_handed_to_two_processes_in_turn_are_answered_on_the_state_each_left(
    app: App, database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    product = (await db.products(app))[0]
    ports = [free_port(), free_port()]
    async with (
        proxy(ports) as proxy_url,
        jbl_runs(telegram_env(database_url, tg, proxy_url + WEBHOOK_PATH), ports, tmp_path),
    ):
        budi = tg.user(1001, "Budi")

        async def say(update_id: int) -> str:
            return (await budi.wait_for_reply(update_id, timeout=60)).text or ""

        # Every update goes to the other process than the one before.
        assert product.name in await say(budi.send(f"/start p_{product.id}"))
        assert "total di keranjang: 1" in await say(budi.press("➕ Tambah 1"))
        assert product.name in await say(budi.send(f"/start p_{product.id}"))
        # A number typed picks from the menu the other process stored.
        assert "total di keranjang: 2" in await say(budi.send("1"))
        assert product.name in await say(budi.send(f"/start p_{product.id}"))
        assert "Berapa" in await say(budi.send("2"))  # 🔢 Pilih jumlah: a step begins
        # The step the other process began takes the typed quantity.
        assert "total di keranjang: 5" in await say(budi.send("3"))
        cart = await say(budi.send("/keranjang"))
        assert f"• {product.name} — 5 ×" in cart
    assert await cart_of(app, "telegram:1001") == {product.id: 5}
    # Both processes answered: the proxy handed them the updates in turn.
    assert len(tg.webhook_responses) == 8 and set(tg.webhook_responses) == {200}


async def test_presses_at_once_on_two_processes_are_handled_one_at_a_time(
    app: App, database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    product = (await db.products(app))[0]
    presses = 10  # within the product's stock
    ports = [free_port(), free_port()]
    async with (
        proxy(ports) as proxy_url,
        jbl_runs(telegram_env(database_url, tg, proxy_url + WEBHOOK_PATH), ports, tmp_path),
    ):
        budi = tg.user(1001, "Budi")
        card = await budi.wait_for_reply(budi.send(f"/start p_{product.id}"), timeout=60)
        update = {
            "callback_query": {
                "from": budi.json,
                "message": tg.message_json(card),
                "chat_instance": "1001",
                "data": f"a:{product.id}:1",
            }
        }
        # As Telegram does with several connections to the webhook: all at once, the proxy
        # handing them to the two processes in turn.
        answers = await asyncio.gather(
            *(
                tg.post_to_webhook(
                    {**update, "callback_query": {**update["callback_query"], "id": str(5000 + n)}},
                    SECRET,
                )
                for n in range(presses)
            )
        )
        assert answers == [200] * presses
    assert await cart_of(app, "telegram:1001") == {product.id: presses}
    # Each press saw the cart the one before it left: every total from 1 to 10, once.
    totals = [
        int(found[1])
        for call in tg.calls
        if call.method in ("sendMessage", "editMessageText")
        and (found := IN_CART.search(str(call.params.get("text", ""))))
    ]
    assert sorted(totals) == list(range(1, presses + 1))


async def test_whatsapp_messages_handed_to_two_processes_in_turn_keep_the_cart_right(
    app: App, database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    product = (await db.products(app))[0]
    ports = [free_port(), free_port()]
    env = jbl_env(
        database_url,
        JBL_WHATSAPP__ACCOUNT_SID=ACCOUNT_SID,
        JBL_WHATSAPP__AUTH_TOKEN=AUTH_TOKEN,
        JBL_WHATSAPP__FROM_NUMBER=SENDER,
        JBL_WHATSAPP__PUBLIC_URL=PUBLIC_URL,
        JBL_WHATSAPP__API_BASE_URL=twilio.base_url,
    )
    async with proxy(ports) as proxy_url, jbl_runs(env, ports, tmp_path):
        twilio.connect(proxy_url, PUBLIC_URL)
        siti = twilio.user("+6281200001111", "Siti")
        # Each message goes to the other process than the one before; each process's sender
        # sends the replies it wrote.
        assert product.name in (await siti.say(f"/start p_{product.id}")).text
        assert "total di keranjang: 1" in (await siti.choose("Tambah 1")).text
        assert product.name in (await siti.say(f"/start p_{product.id}")).text
        assert "Berapa" in (await siti.choose("Pilih jumlah")).text
        assert "total di keranjang: 4" in (await siti.say("3")).text
        cart = (await siti.say("/keranjang")).text
        assert f"{product.name} — 4 ×" in cart
    assert await cart_of(app, "whatsapp:+6281200001111") == {product.id: 4}
    assert twilio.webhook_responses == [200] * 6


# ---- scheduled jobs -------------------------------------------------------------------------


def jakarta_today() -> tuple[int, str]:
    """Today's weekday in Jakarta, and midnight: a broadcast of that time is due now."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).weekday(), "00:00"


async def due_in_a_moment(
    database_url: str,
    tg: FakeTelegram,
    job: str,
    section: str,
    schedule: type[BroadcastSettings] | type[ReportSettings],
) -> dict:
    """Stores the weekly `job` as due a few seconds from now, so that both processes wake for
    it at the same moment once both are up; returns their environment, with the job's
    `[section]` set for today."""
    weekday, at = jakarta_today()
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        **{section: schedule(weekday=weekday, time=at)},
    )
    await stored_job_due(settings, job, datetime.now(UTC) + timedelta(seconds=8))
    return telegram_env(
        database_url,
        tg,
        "http://127.0.0.1:9/telegram/webhook",
        **{f"JBL_{section.upper()}__WEEKDAY": str(weekday), f"JBL_{section.upper()}__TIME": at},
    )


async def test_the_friday_job_firing_in_two_processes_sends_one_broadcast_once_to_each(
    app: App, database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    people = [tg.user(9000 + n, f"Warga {n}") for n in range(6)]
    for person in people:
        await Chatter(app, f"telegram:{person.id}").send("/langganan")
    env = await due_in_a_moment(database_url, tg, FRIDAY_JOB, "broadcast", BroadcastSettings)
    ports = [free_port(), free_port()]
    async with jbl_runs(env, ports, tmp_path):
        await tg.wait_for(
            lambda: all(person.bot_messages for person in people),
            90,
            what="the broadcast to every subscriber",
        )
    assert await db.count(app, Broadcast) == 1
    for person in people:
        [message] = person.bot_messages
        assert "📣 Jumat Beli Lokal" in (message.text or "")
    async with app.sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "broadcast")
        )
    assert rows == len(people)


async def test_the_order_sweep_in_two_processes_reminds_and_expires_once(
    app: App, database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    # Two orders placed on the test's clock, days before the machine's: long overdue.
    product = (await db.products(app))[5]
    operator = tg.user(7000, "Operator")
    await db.add_operator(app, product.merchant_id, f"telegram:{operator.id}")
    buyers = [Chatter(app, f"console:buyer{n}") for n in range(2)]
    for buyer in buyers:
        await buyer.send(f"/start p_{product.id}")
        await buyer.choose("Tambah 1")
        await order_for_pickup(buyer)
    ports = [free_port(), free_port()]
    env = telegram_env(database_url, tg, "http://127.0.0.1:9/telegram/webhook")
    async with jbl_runs(env, ports, tmp_path):
        # The sweep runs a minute after start, in each process, at about the same moment.
        await tg.wait_for(
            lambda: len(operator.bot_messages) >= 6, 150, what="the reminders and expiries"
        )

        async def expired() -> bool:
            return {order.status for order in await db.orders(app)} == {EXPIRED}

        await until(expired, 30, "the orders expired")
    kinds = Counter(
        row.kind for row in await db.outbox(app) if row.identity == f"telegram:{operator.id}"
    )
    assert kinds == {"order_new": 2, "order_reminder": 2, "order_expired_shop": 2}
    assert len(operator.bot_messages) == 6
    for buyer in buyers:
        notices = [notice.text for notice in await buyer.read_notices()]
        assert sum("kedaluwarsa" in text for text in notices) == 1


async def test_the_weekly_report_firing_in_two_processes_goes_to_each_staff_member_once(
    app: App, database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    staff = [f"console:{name}" for name in ("ana", "eko", "sari")]
    for identity in staff:
        await add_staff(app, identity)
    env = await due_in_a_moment(database_url, tg, REPORT_JOB, "reports", ReportSettings)
    ports = [free_port(), free_port()]
    async with jbl_runs(env, ports, tmp_path):

        async def claimed() -> bool:
            return await db.count(app, ReportDelivery) == len(staff)

        await until(claimed, 90, "every staff member's report")
    replies = Counter(row.identity for row in await db.outbox(app) if row.kind == "reply")
    assert replies == {identity: 3 for identity in staff}
