"""Residents and merchants on WhatsApp: the real `jbl run` and twilio client against a fake
Twilio, with signed webhooks and status callbacks posted to jbl's ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.bootstrap import App
from bot.cli.curate import curate
from bot.failures import ChannelFailed
from bot.settings import (
    SettingsError,
    load_settings,
)
from models.carts import CartItem
from models.curation import Decision
from models.ordering import Order
from models.outbox import OutboxMessage
from models.people import Identity
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio, Message, WhatsappUser
from tests.telegram_bot import Running
from tests.test_cli_and_console import run_jbl
from tests.test_merchant import invite_code
from tests.whatsapp_bot import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    SENDER,
    running_both,
    running_whatsapp,
)

BUDI = "+6281234567890"
MERCHANT = "+6285712345678"


@pytest.fixture
async def jbl(database_url: str, clock: Clock, twilio: FakeTwilio) -> AsyncIterator[Running]:
    async with running_whatsapp(database_url, clock, twilio) as running:
        yield running


async def check_out_for_pickup(budi: WhatsappUser) -> None:
    await budi.say("/checkout")
    await budi.say("Budi Santoso")
    await budi.choose("Pakai nomor saya")
    await budi.choose("Ambil sendiri")
    await budi.choose("Bayar tunai")
    placed = await budi.choose("Pesan sekarang")
    assert "Terima kasih" in placed.text, placed.text


async def test_a_resident_browses_by_number_and_checks_out_with_their_whatsapp_number(
    jbl: Running, twilio: FakeTwilio
) -> None:
    budi = twilio.user(BUDI, "Budi")
    welcome = await budi.say("halo")
    assert "Selamat datang" in welcome.text
    assert welcome.bold == ["Selamat datang di Jumat Beli Lokal! 🛍️"]
    assert welcome.menu[:4] == ["🛍️ Katalog Jumat", "🔎 Cari", "📍 Dekat saya", "🛒 Keranjang"]
    assert welcome.italic == ["Balas dengan nomor atau nama pilihan Anda."]

    catalog = await budi.say("1")
    assert catalog.menu[0].startswith("⭐ ")
    featured = await budi.say("1")
    card = await budi.say("1")
    assert card.media_urls and card.media_urls[0].startswith("https://")
    assert "Rp" in card.text and card.menu[0] == "➕ Tambah 1"
    added = await budi.say("Tambah 1")  # the label chooses too
    assert "masuk keranjang" in added.text
    cart = await budi.choose("Lihat keranjang")
    assert "Total" in cart.text and featured.sid != cart.sid

    await budi.choose("Checkout")
    asked = await budi.say("Budi Santoso")
    assert "Nomor HP" in asked.text
    assert asked.menu[0] == "📱 Pakai nomor saya: 0812-3456-7890"
    delivery = await budi.say("1")
    assert "🏪 Ambil sendiri" in delivery.menu
    await budi.choose("Ambil sendiri")
    summary = await budi.choose("Bayar tunai")
    assert "Ringkasan pesanan" in summary.text and "0812-3456-7890" in summary.text
    placed = await budi.choose("Pesan sekarang")
    assert "Terima kasih" in placed.text

    [order] = await db.orders(jbl.app)
    assert (order.phone, order.contact_name) == ("+6281234567890", "Budi Santoso")
    # Every message went with a status callback naming its outbox row, and was delivered.
    assert all(
        m.status_callback and "/whatsapp/status?row=" in m.status_callback for m in budi.messages
    )
    await twilio.wait_for(lambda: all(m.status == "delivered" for m in budi.messages))


async def test_removing_the_last_item_says_so_then_shows_the_empty_cart_whose_menu_works(
    jbl: Running, twilio: FakeTwilio
) -> None:
    budi = twilio.user(BUDI, "Budi")
    product = (await db.products(jbl.app))[0]
    await budi.say(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await budi.choose("Lihat keranjang")
    await budi.choose(product.name[:20])
    # Two replies to one message, sent in the order they were written.
    removed = await budi.choose("Hapus")
    assert removed.text == "Produk dihapus dari keranjang."
    cart = await budi.wait_for_reply(removed.stamp)
    assert "Keranjang Anda masih kosong" in cart.text
    assert await db.count(jbl.app, CartItem) == 0
    # The chat kept the empty cart's menu: its first line is the catalog.
    catalog = await budi.say("1")
    assert catalog.menu[0].startswith("⭐ ")


async def message_with(twilio: FakeTwilio, user: WhatsappUser, text: str) -> Message:
    """Waits for the newest message to `user` that shows `text`."""

    def found() -> Message | None:
        return next((m for m in reversed(user.messages) if text in m.text), None)

    await twilio.wait_for(lambda: found() is not None, what=f"{text!r} to {user.number}")
    message = found()
    assert message is not None
    return message


async def order_as(budi: WhatsappUser, app: App, merchant_id: int) -> None:
    product = next(p for p in await db.products(app) if p.merchant_id == merchant_id)
    await budi.say(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await check_out_for_pickup(budi)


async def test_a_merchant_on_whatsapp_accepts_from_the_notice_and_the_buyer_is_told(
    jbl: Running, twilio: FakeTwilio
) -> None:
    await db.add_operator(jbl.app, 1, f"whatsapp:{MERCHANT}")
    merchant = twilio.user(MERCHANT, "Ibu Sari")
    await merchant.say("halo")
    budi = twilio.user(BUDI, "Budi")
    await order_as(budi, jbl.app, 1)

    notice = await message_with(twilio, merchant, "Pesanan baru #1 dari Budi Santoso")
    assert notice.content_sid is None  # inside the 24-hour window: a free-form message
    assert notice.menu == ["✅ Terima", "❌ Tolak", "📋 Pesanan toko"]
    accepted = await merchant.say("1")
    assert "Pesanan #1 diterima. Pembeli sudah diberi tahu" in accepted.text
    told = await message_with(twilio, budi, "diterima oleh")
    assert told.menu == ["#1"]
    ready = await merchant.choose("Siap diambil")
    assert "siap diambil" in ready.text
    await message_with(twilio, budi, "siap diambil di")


async def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(
    jbl: Running, twilio: FakeTwilio
) -> None:
    budi = twilio.user(BUDI, "Budi")
    form = budi.form("/start")
    assert await twilio.post_webhook(form, None) == 403
    assert await twilio.post_webhook(form, "bm90IGEgc2lnbmF0dXJl") == 403
    # Signed for the address jbl listens on, not the public one Twilio calls: refused.
    local = twilio.signature(f"{twilio.app_url}/whatsapp/webhook", form)
    assert await twilio.post_webhook(form, local) == 403
    # Signed, then changed on the way.
    signature = twilio.sign("/whatsapp/webhook", form)
    assert await twilio.post_webhook(form | {"Body": "/keranjang"}, signature) == 403
    # A status callback that Twilio did not sign changes no row either.
    callback = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "63024"}
    assert await twilio._post("/whatsapp/status?row=1", callback, {}) == 403
    assert not budi.messages
    assert not await known(jbl.app, f"whatsapp:{BUDI}")
    assert await db.count(jbl.app, OutboxMessage) == 0

    # A header that is no signature at all.
    assert await twilio.post_webhook(form, "tanda-tangan-palsu-é") == 403
    assert not budi.messages

    assert await twilio.post_webhook(form, signature) == 200
    welcome = await budi.wait_for_reply(0)
    assert "Selamat datang" in welcome.text
    # Twilio signs some requests over the URL with its port written out: taken as well.
    help_form = budi.form("/bantuan")
    with_port = twilio.signature(f"{PUBLIC_URL}:443/whatsapp/webhook", help_form)
    assert await twilio.post_webhook(help_form, with_port) == 200
    await message_with(twilio, budi, "Cara memakai Jumat Beli Lokal")


async def test_an_oversized_form_or_another_method_is_refused(
    jbl: Running, twilio: FakeTwilio
) -> None:
    budi = twilio.user(BUDI, "Budi")
    # Signed as Twilio would, but far longer than any message Twilio posts.
    huge = budi.form("x" * 70_000)
    assert await twilio.post_webhook(huge, twilio.sign("/whatsapp/webhook", huge)) == 413
    assert twilio._http is not None
    async with twilio._http.get(f"{twilio.app_url}/whatsapp/webhook") as answer:
        assert answer.status == 405
    assert not budi.messages
    assert not await known(jbl.app, f"whatsapp:{BUDI}")
    # The other routes are still there behind Twilio's.
    async with twilio._http.get(f"{twilio.app_url}/healthz") as health:
        assert health.status == 200


async def test_the_same_message_sid_twice_is_handled_once(jbl: Running, twilio: FakeTwilio) -> None:
    budi = twilio.user(BUDI, "Budi")
    form = budi.form("/keranjang")
    first = await budi.send_form(form)
    await budi.wait_for_reply(first)
    assert await budi.send_form(form) > first
    after = await budi.say("/bantuan")
    assert "Cara memakai" in after.text
    assert sum("Keranjang Anda" in m.text for m in budi.messages) == 1
    assert twilio.webhook_responses == [200, 200, 200]


async def test_stop_and_start_are_the_broadcast_commands(jbl: Running, twilio: FakeTwilio) -> None:
    """STOP, BERHENTI and UNSUBSCRIBE are `/berhenti`; START and LANGGANAN `/langganan`."""
    budi, sari = twilio.user(BUDI, "Budi"), twilio.user(MERCHANT, "Sari")
    for keyword, command in (
        ("STOP", "/berhenti"),
        ("berhenti", "/berhenti"),
        (" Unsubscribe ", "/berhenti"),
        ("START", "/langganan"),
        ("langganan", "/langganan"),
    ):
        by_keyword, by_command = await budi.say(keyword), await sari.say(command)
        assert by_keyword.text == by_command.text, keyword


async def test_a_template_quick_reply_payload_is_pressed_and_an_unknown_one_is_typed(
    jbl: Running, twilio: FakeTwilio
) -> None:
    budi = twilio.user(BUDI, "Budi")
    await budi.say("halo")
    catalog = await budi.say("Lihat katalog", ButtonText="Lihat katalog", ButtonPayload="cat")
    assert "Katalog Jumat Beli Lokal" in catalog.text
    # The catalog's last line is "🏠 Menu": a button of that text with a payload jbl does
    # not know is taken as typed.
    typed = await budi.say("Menu", ButtonText="Menu", ButtonPayload="no-such-route")
    assert "Menu utama" in typed.text


async def test_telegram_and_whatsapp_run_in_one_process_and_report_their_health(
    database_url: str, clock: Clock, twilio: FakeTwilio, tg: FakeTelegram
) -> None:
    async with running_both(database_url, clock, tg, twilio) as jbl, httpx.AsyncClient() as client:
        on_whatsapp = await twilio.user(BUDI, "Budi").say("/bantuan")
        telegram_user = tg.user(1001, "Budi")
        on_telegram = await telegram_user.wait_for_reply(telegram_user.send("/bantuan"))
        health = await client.get(f"{jbl.base}/healthz")
    assert "Cara memakai" in on_whatsapp.text and "Cara memakai" in (on_telegram.text or "")
    assert (health.status_code, health.json()) == (
        200,
        {"status": "ok", "database": "ok", "telegram": "up", "whatsapp": "up", "outbox": "ok"},
    )


async def test_refused_credentials_stop_start_up_with_one_line(
    database_url: str, clock: Clock, twilio: FakeTwilio
) -> None:
    with pytest.raises(ChannelFailed, match=r"^whatsapp: the account or auth token was refused"):
        async with running_whatsapp(database_url, clock, twilio, auth_token="wrong" * 6):
            pass


async def known(app: App, identity: str) -> bool:
    async with app.sessions() as session:
        return await session.get(Identity, identity) is not None


async def test_a_merchant_registered_as_a_spaced_number_is_the_same_whatsapp_chat(
    jbl: Running, twilio: FakeTwilio, database_url: str, tmp_path: Path, clock: Clock
) -> None:
    code = await invite_code(jbl.app, 4, clock)
    merchant = twilio.user(MERCHANT, "Ibu Sari")
    joined = await merchant.say(f"/gabung {code}")
    assert "Anda sekarang pengelola" in joined.text
    listed = run_jbl("merchant", "list", "4", database_url=database_url, cwd=tmp_path)
    assert listed.stdout.rstrip().endswith(f"whatsapp:{MERCHANT}")
    removed = run_jbl(
        "merchant",
        "remove-operator",
        "4",
        "whatsapp:+62 857-1234-5678",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert removed.returncode == 0, removed.stderr
    # Spelled as Indonesians write it, it is the same chat, which is no operator now.
    removed = run_jbl(
        "merchant",
        "remove-operator",
        "4",
        "0857 1234 5678",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert "is not an operator" in removed.stderr
    refused = await merchant.say("/pesanan_toko")
    assert "untuk penjual" in refused.text


def test_whatsapp_settings_name_what_is_missing(
    env_without_jbl: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[whatsapp]\naccount_sid = "{ACCOUNT_SID}"\nfrom_number = "+62 21 5000 1000"\n'
    )
    with pytest.raises(SettingsError, match=r"^setting whatsapp\.auth_token \(JBL_WHATSAPP__AUTH"):
        load_settings(config)
    monkeypatch.setenv("JBL_WHATSAPP__AUTH_TOKEN", AUTH_TOKEN)
    with pytest.raises(SettingsError, match=r"^setting whatsapp\.public_url .*required"):
        load_settings(config)
    monkeypatch.setenv("JBL_WHATSAPP__PUBLIC_URL", "https://jbl.example.go.id/")
    settings = load_settings(config).whatsapp
    assert settings.enabled and settings.from_number == SENDER
    assert settings.public_url == PUBLIC_URL and AUTH_TOKEN not in repr(settings)


async def test_a_photo_sent_on_whatsapp_becomes_the_products_picture(
    jbl: Running, twilio: FakeTwilio
) -> None:
    await db.add_operator(jbl.app, 1, f"whatsapp:{MERCHANT}")
    merchant = twilio.user(MERCHANT, "Ibu Sari")
    await merchant.say("/produk")
    await merchant.say("Keripik Tempe Pedas")
    await merchant.say("1")
    await merchant.say("15rb")
    await merchant.say("20")
    asked = await merchant.choose("Lewati")
    assert "Kirim foto produk" in asked.text
    # jbl fetches it from Twilio with the account's credentials and keeps it.
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"
    created = await merchant.wait_for_reply(await merchant.send_media(jpeg, "image/jpeg"))
    assert "Produk baru tersimpan" in created.text
    product = await db.product(jbl.app, "Keripik Tempe Pedas")
    assert product.photo_url is not None and product.photo_url.startswith("media:")
    await curate(jbl.app, Decision.APPROVE, product.id, None)
    budi = twilio.user(BUDI, "Budi")
    card = await budi.say(f"/start p_{product.id}")
    [url] = card.media_urls
    assert url.startswith(f"{PUBLIC_URL}/media/") and "Rp15.000" in card.text
    await twilio.wait_for(lambda: card.settled, 10, "the card sent")
    assert card.fetched[0].content == jpeg


async def test_what_cannot_be_used_gets_a_polite_answer_and_changes_nothing(
    jbl: Running, twilio: FakeTwilio
) -> None:
    budi = twilio.user(BUDI, "Budi")
    await budi.say("halo")
    too_long = await budi.say("kopi " * 300)
    assert "Pesan terlalu panjang (maksimal 1000 karakter)" in too_long.text
    location = await budi.say("", MessageType="location", Latitude="-6.2", Longitude="106.8")
    assert "belum mengerti" in location.text
    # Signed by Twilio but from no phone number: taken (so Twilio does not retry), ignored.
    nobody = budi.form("halo") | {"From": "whatsapp:bukan-nomor", "WaId": ""}
    assert await twilio.post_webhook(nobody, twilio.sign("/whatsapp/webhook", nobody)) == 200
    assert await db.count(jbl.app, Identity) == 2  # Budi and the demo merchant's operator
    assert await db.count(jbl.app, Order) == 0
