"""Residents on Telegram: the real `jbl run` and python-telegram-bot against a fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.bootstrap import App
from bot.delivery import Limits, OutboxSender
from bot.telegram.channel import TelegramChannel
from models.outbox import PENDING, SENT, UNREACHABLE
from models.people import Identity
from tests import db
from tests.conftest import Clock
from tests.dialogs import order_for_pickup
from tests.fake_telegram import FakeMessage, FakeTelegram, TelegramUser
from tests.people import Chatter
from tests.telegram_bot import SECRET, Running, running_jbl

MERCHANT_CHAT = 5005


@pytest.fixture
async def jbl(database_url: str, clock: Clock, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running_jbl(database_url, clock, tg) as running:
        yield running


async def say(user: TelegramUser, text: str) -> FakeMessage:
    return await user.wait_for_reply(user.send(text))


async def press(user: TelegramUser, label: str) -> FakeMessage:
    return await user.wait_for_reply(user.press(label))


async def known(app: App, identity: str) -> bool:
    async with app.sessions() as session:
        return await session.get(Identity, identity) is not None


def shown(message: FakeMessage) -> str:
    return message.text or ""


async def check_out_for_pickup(budi: TelegramUser) -> FakeMessage:
    await say(budi, "/checkout")
    await say(budi, "Budi Santoso")
    await say(budi, "0812 3456 7890")
    await press(budi, "🏪 Ambil sendiri")
    await press(budi, "💵 Bayar tunai saat terima")
    return await press(budi, "✅ Pesan sekarang")


async def test_a_resident_browses_buys_and_checks_out_with_a_shared_contact(
    jbl: Running, tg: FakeTelegram
) -> None:
    budi = tg.user(1001, "Budi", language_code="id")
    welcome = await say(budi, "/start")
    assert "Selamat datang" in shown(welcome)
    assert welcome.buttons[:4] == ["🛍️ Katalog Jumat", "🔎 Cari", "📍 Dekat saya", "🛒 Keranjang"]

    catalog = await press(budi, "🛍️ Katalog Jumat")
    # Moving through menus edits the message in place instead of adding one.
    assert catalog.message_id == welcome.message_id and catalog.edited == 1
    assert catalog.buttons[0].startswith("⭐ ")
    featured = await press(budi, catalog.buttons[0])
    assert featured.message_id == welcome.message_id
    assert len(budi.bot_messages) == 1

    card = await press(budi, featured.buttons[0])
    assert card.photo is not None and card.photo.startswith("https://")
    assert "Rp" in shown(card) and card.buttons[0] == "➕ Tambah 1"
    added = await press(budi, "➕ Tambah 1")
    assert budi.callback_answers[-1].get("text") == "Ditambahkan ke keranjang"
    assert "masuk keranjang" in shown(added)

    cart = await press(budi, "🛒 Lihat keranjang")
    assert "Total" in shown(cart)
    await press(budi, "✅ Checkout")
    asked_phone = await say(budi, "Budi Santoso")
    assert "Nomor HP" in shown(asked_phone)
    share = (asked_phone.reply_markup or {})["keyboard"][0][0]
    assert share == {"text": "📱 Kirim nomor saya", "request_contact": True}

    budi.phone = "+62 812-3456-7890"
    delivery = await budi.wait_for_reply(budi.tap_keyboard("📱 Kirim nomor saya"))
    assert "🏪 Ambil sendiri" in delivery.buttons
    await press(budi, "🏪 Ambil sendiri")
    summary = await press(budi, "💵 Bayar tunai saat terima")
    assert "Ringkasan pesanan" in shown(summary)
    placed = await press(budi, "✅ Pesan sekarang")
    assert "Terima kasih" in shown(placed)

    [order] = await db.orders(jbl.app)
    assert (order.phone, order.contact_name) == ("+6281234567890", "Budi Santoso")


async def test_a_new_order_reaches_the_merchant_who_accepts_it_on_telegram(
    jbl: Running, tg: FakeTelegram
) -> None:
    product = (await db.products(jbl.app))[0]
    await db.add_operator(jbl.app, product.merchant_id, f"telegram:{MERCHANT_CHAT}")
    merchant = tg.user(MERCHANT_CHAT, "Ibu Sari")
    budi = tg.user(1001, "Budi")
    await say(budi, f"/start p_{product.id}")
    await press(budi, "➕ Tambah 1")
    placed = await check_out_for_pickup(budi)
    assert "Terima kasih" in shown(placed)

    await tg.wait_for(lambda: bool(merchant.bot_messages), what="the merchant's notice")
    assert "Pesanan baru #1 dari Budi Santoso" in shown(merchant.last)
    assert product.name in shown(merchant.last)
    assert merchant.last.buttons[:2] == ["✅ Terima", "❌ Tolak"]

    notice = merchant.last
    accepted = await press(merchant, "✅ Terima")
    assert "diterima. Pembeli sudah diberi tahu" in shown(accepted)
    # The notice keeps the order's details; the answer comes below it.
    assert accepted.message_id > notice.message_id and notice.edited == 0
    await tg.wait_for(
        lambda: "diterima oleh" in shown(budi.last), what="the buyer's notice of acceptance"
    )
    ready = await press(merchant, "📦 Siap diambil")
    assert "siap diambil" in shown(ready)


async def test_html_typed_by_a_merchant_is_shown_as_typed(jbl: Running, tg: FakeTelegram) -> None:
    product = (await db.products(jbl.app))[0]
    await db.set_product(jbl.app, product.name, name='<b>Kopi & "Teh"</b>')
    budi = tg.user(1001, "Budi")
    card = await say(budi, f"/start p_{product.id}")
    assert shown(card).startswith('<b>Kopi & "Teh"</b>')
    assert (card.html or "").startswith('&lt;b&gt;Kopi &amp; "Teh"&lt;/b&gt;')


async def test_a_long_description_is_cut_to_fit_a_photo_caption(
    jbl: Running, tg: FakeTelegram
) -> None:
    product = (await db.products(jbl.app))[0]
    await db.set_product(jbl.app, product.name, description="Enak & gurih. " * 200)
    budi = tg.user(1001, "Budi")
    card = await say(budi, f"/start p_{product.id}")
    assert card.photo is not None
    assert shown(card).endswith("…") and len(shown(card)) <= 1024
    assert card.buttons[0] == "➕ Tambah 1"


async def test_the_same_update_twice_is_answered_once(jbl: Running, tg: FakeTelegram) -> None:
    budi = tg.user(1001, "Budi")
    update = {
        "message": {
            "message_id": 900,
            "date": 1,
            "chat": {"id": budi.id, "type": "private", "first_name": "Budi"},
            "from": budi.json,
            "text": "/keranjang",
        }
    }
    first = tg.push_update(update)
    await budi.wait_for_reply(first)
    assert tg.push_update(update) == first
    after = await say(budi, "/bantuan")
    assert "Cara memakai" in shown(after)
    assert sum("keranjang" in shown(m).lower() for m in budi.bot_messages[:-1]) == 1


async def test_a_stale_or_forged_button_gets_a_fresh_menu(jbl: Running, tg: FakeTelegram) -> None:
    budi = tg.user(1001, "Budi")
    welcome = await say(budi, "/start")
    gone = await budi.wait_for_reply(budi.press_data("p:999999", welcome.message_id))
    assert "🛍️ Katalog Jumat" in gone.buttons
    forged = await budi.wait_for_reply(budi.press_data("o:1;DROP TABLE", welcome.message_id))
    assert "sudah tidak berlaku" in shown(forged)
    assert "🛍️ Katalog Jumat" in forged.buttons
    assert len(budi.callback_answers) == 2


async def test_an_old_menu_answers_with_a_new_message(jbl: Running, tg: FakeTelegram) -> None:
    budi = tg.user(1001, "Budi")
    old = await say(budi, "/start")
    newest = await say(budi, "/bantuan")
    catalog = await budi.wait_for_reply(budi.press("🛍️ Katalog Jumat", old.message_id))
    # The reply comes where the person is reading, not up in the history.
    assert catalog.message_id > newest.message_id and old.edited == 0


async def test_a_restart_mid_checkout_continues_where_the_person_was(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    budi = tg.user(1001, "Budi")
    async with running_jbl(database_url, clock, tg) as jbl:
        product = (await db.products(jbl.app))[0]
        await say(budi, f"/start p_{product.id}")
        await press(budi, "➕ Tambah 1")
        await say(budi, "/checkout")
        await say(budi, "Budi Santoso")
    async with running_jbl(database_url, clock, tg) as jbl:
        delivery = await say(budi, "0812 3456 7890")
        assert "🏪 Ambil sendiri" in delivery.buttons
        await press(budi, "🏪 Ambil sendiri")
        await press(budi, "💵 Bayar tunai saat terima")
        placed = await press(budi, "✅ Pesan sekarang")
        assert "Terima kasih" in shown(placed)
        [order] = await db.orders(jbl.app)
        assert order.contact_name == "Budi Santoso"


async def test_a_deep_link_opens_a_merchants_products(jbl: Running, tg: FakeTelegram) -> None:
    product = (await db.products(jbl.app))[0]
    budi = tg.user(1001, "Budi")
    shelf = await say(budi, f"/start m_{product.merchant_id}")
    assert "pilih produk" in shown(shelf)
    assert any(product.name in label for label in shelf.buttons)
    unknown = await say(budi, "/start m_987654")
    assert "tidak ditemukan" in shown(unknown)


async def test_groups_get_a_pointer_to_the_private_chat(jbl: Running, tg: FakeTelegram) -> None:
    group = tg.group(-100200, "Warga RT 05")
    budi = tg.user(1001, "Budi")
    group.send(budi, "/start")
    await tg.wait_for(lambda: any(m.from_bot for m in tg.chat(-100200)), what="the pointer")
    pointer = next(m for m in tg.chat(-100200) if m.from_bot)
    assert "https://t.me/jbl_test_bot" in shown(pointer)
    assert not budi.bot_messages
    assert not await known(jbl.app, "telegram:1001")


async def test_stickers_and_unknown_commands_get_a_polite_answer(
    jbl: Running, tg: FakeTelegram
) -> None:
    budi = tg.user(1001, "Budi", language_code="en")
    sticker = await budi.wait_for_reply(budi.send_sticker())
    assert "Sorry" in shown(sticker)
    unknown = await say(budi, "/bogus")
    assert "/bogus" in shown(unknown)


async def test_commands_are_offered_in_both_languages(jbl: Running, tg: FakeTelegram) -> None:
    assert [c["command"] for c in tg.commands["id"]][:3] == ["start", "katalog", "cari"]
    assert [c["command"] for c in tg.commands["en"]][:3] == ["start", "catalog", "search"]
    assert tg.commands[None] == tg.commands["id"]


async def test_health_says_database_and_telegram_are_up(jbl: Running) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{jbl.base}/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "database": "ok",
        "telegram": "up",
        "outbox": "ok",
    }


async def test_a_webhook_without_the_secret_is_refused_and_changes_nothing(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with running_jbl(database_url, clock, tg, webhook=True) as jbl:
        assert tg.webhook is not None and tg.webhook.secret_token == SECRET
        budi = tg.user(1001, "Budi")
        update = {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": budi.id, "type": "private", "first_name": "Budi"},
                "from": budi.json,
                "text": "/start",
            },
        }
        assert await tg.post_to_webhook(update, None) == 403
        assert await tg.post_to_webhook(update, "wrong-secret-0123456789") == 403
        assert not budi.bot_messages
        assert not await known(jbl.app, "telegram:1001")
        # Updates jbl did not ask for (channel posts, edits) are taken and ignored.
        channel = {"id": -1007, "type": "channel", "title": "Info"}
        post = {"update_id": 78, "channel_post": {**update["message"], "chat": channel}}
        edit = {"update_id": 79, "edited_message": update["message"]}
        assert await tg.post_to_webhook(post, SECRET) == 200
        assert await tg.post_to_webhook(edit, SECRET) == 200
        async with httpx.AsyncClient() as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            url = f"{jbl.base}/telegram/webhook"
            assert (await client.post(url, json=["no"], headers=headers)).status_code == 400
            assert (await client.post(url, content=b"{", headers=headers)).status_code == 400
        assert not budi.bot_messages

        welcome = await say(budi, "/start")
        assert "Selamat datang" in shown(welcome)
        # Handled before answering, so the reply is out before Telegram hears 200.
        await tg.wait_for(lambda: tg.webhook_responses == [200], what="the webhook's 200")


# ---- the outbox sender, round by round --------------------------------------------------


def sender_for(app: App, channel: TelegramChannel) -> OutboxSender:
    limits = Limits(rate_per_s=1000, per_chat_per_s=1000)
    return OutboxSender(app.sessions, channel, limits, app.clock)


async def order(budi: Chatter, *product_ids: int) -> None:
    for product_id in product_ids:
        await budi.send(f"/start p_{product_id}")
        await budi.choose("Tambah 1")
    await order_for_pickup(budi)


async def two_merchants_on_telegram(app: App) -> tuple[int, int]:
    """A product each of two merchants whose operators chat on Telegram."""
    products = await db.products(app)
    first = products[0]
    second = next(p for p in products if p.merchant_id != first.merchant_id)
    await db.add_operator(app, first.merchant_id, f"telegram:{MERCHANT_CHAT}")
    await db.add_operator(app, second.merchant_id, "telegram:6006")
    return first.id, second.id


async def statuses(app: App) -> list[tuple[str, str]]:
    """Telegram rows of the outbox (the demo merchant also has a console operator)."""
    rows = await db.outbox(app)
    return [(r.identity or "", r.status) for r in rows if r.channel == "telegram"]


def sends_to(tg: FakeTelegram, chat_id: int) -> int:
    return sum(str(c.params.get("chat_id")) == str(chat_id) for c in tg.calls)


async def test_429_waits_out_retry_after_and_403_marks_the_chat_unreachable(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    await order(budi, *await two_merchants_on_telegram(app))
    merchant = tg.user(MERCHANT_CHAT, "Ibu Sari")
    tg.user(6006, "Pak Joko")
    tg.block(6006)
    tg.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests",
        retry_after=1,
        chat_id=MERCHANT_CHAT,
    )
    sender = sender_for(app, channel)

    assert await sender.send_due()
    assert await statuses(app) == [
        (f"telegram:{MERCHANT_CHAT}", PENDING),
        ("telegram:6006", UNREACHABLE),
    ]
    assert not merchant.bot_messages
    # Not due again before retry_after has passed (on the app's clock).
    assert not await sender.send_due()
    clock.advance(timedelta(seconds=1))
    assert await sender.send_due()
    assert "Pesanan baru" in shown(merchant.last)
    assert (await statuses(app))[0] == (f"telegram:{MERCHANT_CHAT}", SENT)
    async with app.sessions() as session:
        blocked = await session.get(Identity, "telegram:6006")
        assert blocked is not None and blocked.unreachable_at is not None


async def test_an_unreachable_chat_gets_nothing_until_it_writes_again(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    _, second = await two_merchants_on_telegram(app)
    tg.user(MERCHANT_CHAT, "Ibu Sari")
    joko = tg.user(6006, "Pak Joko")
    tg.block(6006)
    sender = sender_for(app, channel)
    await order(budi, second)
    await sender.send_due()
    tried = sends_to(tg, 6006)
    assert tried == 1

    await order(budi, second)
    await sender.send_due()
    assert sends_to(tg, 6006) == tried
    assert [s for _, s in await statuses(app)] == [UNREACHABLE, UNREACHABLE]

    # Joko unblocks the bot and writes to it: he is reachable again.
    tg.unblock(6006)
    await Chatter(app, "telegram:6006").send("/start")
    await order(budi, second)
    await sender.send_due()
    assert "Pesanan baru #3" in shown(joko.last)
    assert [s for _, s in await statuses(app)] == [UNREACHABLE, UNREACHABLE, SENT]
