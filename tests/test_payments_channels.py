"""Paying by transfer with a proof on the real `jbl run`: a buyer on Telegram, their merchant
on Telegram or on WhatsApp (fake Bot API, fake Twilio)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from handlers.money import format_rupiah
from models.media import MEDIA_PREFIX, PDF
from models.ordering import AWAITING, PAID
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeMessage, FakeTelegram, TelegramUser
from tests.fake_twilio import FakeTwilio, Message, WhatsappUser
from tests.telegram_bot import Running, running_jbl
from tests.test_media import JPEG
from tests.whatsapp_bot import running_both

MERCHANT_CHAT = 5005
RECEIPT = b"%PDF-1.4\n% a bank's receipt\n" + bytes(2000) + b"\n%%EOF\n"
MERCHANT_NUMBER = "+6281311112222"


async def say(user: TelegramUser, text: str) -> FakeMessage:
    return await user.wait_for_reply(user.send(text))


async def press(user: TelegramUser, label: str) -> FakeMessage:
    return await user.wait_for_reply(user.press(label))


async def order_by_transfer(running: Running, budi: TelegramUser) -> int:
    product = next(p for p in await db.products(running.app) if p.merchant_id == 1)
    await say(budi, f"/start p_{product.id}")
    await press(budi, "➕ Tambah 1")
    await say(budi, "/checkout")
    await say(budi, "Budi Santoso")
    await say(budi, "0812 3456 7890")
    await press(budi, "🏪 Ambil sendiri")
    await press(budi, "🏦 Transfer/QRIS ke penjual")
    placed = await press(budi, "✅ Pesan sekarang")
    assert "Terima kasih" in (placed.text or "")
    return (await db.orders(running.app))[-1].id


async def pay_with_a_photo(tg: FakeTelegram, budi: TelegramUser, total: int) -> None:
    """Waits for the payment details, presses the proof button and sends a photo."""
    due = f"Silakan bayar tepat {format_rupiah(total)}"
    await tg.wait_for(lambda: due in (budi.last.text or ""), what="the payment details")
    assert "🏦 BCA 1234567890 a.n. Toko Contoh" in (budi.last.text or "")
    asked = await press(budi, "📎 Kirim bukti bayar")
    assert "Kirim foto bukti bayar" in (asked.text or "")
    sent = await budi.wait_for_reply(budi.send_photo(JPEG))
    assert "terkirim ke penjual" in (sent.text or "")


@pytest.fixture
async def jbl(database_url: str, clock: Clock, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running_jbl(database_url, clock, tg) as running:
        yield running


async def test_a_proof_photo_on_telegram_reaches_the_merchant_who_marks_it_paid(
    jbl: Running, tg: FakeTelegram
) -> None:
    await db.add_operator(jbl.app, 1, f"telegram:{MERCHANT_CHAT}")
    await db.give_payment_details(jbl.app, 1)
    merchant, budi = tg.user(MERCHANT_CHAT, "Ibu Sari"), tg.user(1001, "Budi")
    order_id = await order_by_transfer(jbl, budi)
    await tg.wait_for(lambda: bool(merchant.bot_messages), what="the merchant's notice")
    await press(merchant, "✅ Terima")
    [order] = await db.orders(jbl.app)
    await pay_with_a_photo(tg, budi, order.total)

    await tg.wait_for(
        lambda: "Bukti bayar" in (merchant.last.text or ""), what="the proof to the merchant"
    )
    # The merchant sees the buyer's own photo, kept by jbl, with the two answers under it.
    [order] = await db.orders(jbl.app)
    assert order.payment_proof is not None
    assert merchant.last.photo == f"upload:{order.payment_proof.removeprefix(MEDIA_PREFIX)}"
    assert merchant.last.upload is not None and merchant.last.upload.size == len(JPEG)
    assert merchant.last.buttons[:2] == ["✅ Lunas", "❌ Belum masuk"]
    paid = await press(merchant, "✅ Lunas")
    assert f"Pesanan #{order_id} dicatat lunas" in (paid.text or "")
    await tg.wait_for(lambda: "Lunas!" in (budi.last.text or ""), what="the buyer told")
    [order] = await db.orders(jbl.app)
    assert order.payment_state == PAID


async def test_a_proof_sent_on_telegram_is_answered_by_a_merchant_on_whatsapp(
    database_url: str, clock: Clock, tg: FakeTelegram, twilio: FakeTwilio
) -> None:
    async with running_both(database_url, clock, tg, twilio) as running:
        await db.add_operator(running.app, 1, f"whatsapp:{MERCHANT_NUMBER}")
        merchant = twilio.user(MERCHANT_NUMBER, "Ibu Sari")
        await set_details_on_whatsapp(twilio, merchant)

        budi = tg.user(1001, "Budi")
        order_id = await order_by_transfer(running, budi)
        await message_with(twilio, merchant, f"Pesanan baru #{order_id}")
        await merchant.choose("Terima")
        [order] = await db.orders(running.app)
        await pay_with_a_photo(tg, budi, order.total)

        proof = await message_with(twilio, merchant, f"Bukti bayar pesanan #{order_id}")
        assert "1. ✅ Lunas" in proof.text and "2. ❌ Belum masuk" in proof.text
        # The photo sent on Telegram, seen on WhatsApp: Twilio fetched its bytes from jbl.
        await twilio.wait_for(lambda: bool(proof.fetched), what="the proof's photo fetched")
        assert proof.fetched[0].content == JPEG
        asked = await merchant.choose("Belum masuk")
        assert "Ketik catatan untuk pembeli" in asked.text
        await merchant.say("Belum ada di mutasi BCA")
        await tg.wait_for(
            lambda: "Belum ada di mutasi BCA" in (budi.last.text or ""), what="the buyer told"
        )
        assert "📎 Kirim bukti bayar" in budi.last.buttons
        [order] = await db.orders(running.app)
        assert order.payment_state == AWAITING


async def message_with(twilio: FakeTwilio, user: WhatsappUser, text: str) -> Message:
    """Waits for the newest message to `user` that shows `text`."""

    def found() -> Message | None:
        return next((m for m in reversed(user.messages) if text in m.text), None)

    await twilio.wait_for(lambda: found() is not None, what=f"{text!r} to {user.number}")
    message = found()
    assert message is not None
    return message


async def set_details_on_whatsapp(twilio: FakeTwilio, merchant: WhatsappUser) -> None:
    """`/pembayaran` as numbered menus: a bank account, no e-wallet, no QRIS."""
    await merchant.send("/pembayaran")
    await message_with(twilio, merchant, "Pembayaran 1/4")
    await merchant.say("BCA")
    await merchant.say("1234567890")
    await merchant.say("Toko Contoh")
    await merchant.choose("Lewati")
    checked = await merchant.choose("Lewati")
    assert "🏦 BCA 1234567890 a.n. Toko Contoh" in checked.text
    saved = await merchant.choose("Simpan")
    assert "Data pembayaran tersimpan" in saved.text


async def test_a_bank_receipt_sent_as_a_pdf_on_telegram_reaches_the_merchant_as_a_document(
    jbl: Running, tg: FakeTelegram
) -> None:
    await db.add_operator(jbl.app, 1, f"telegram:{MERCHANT_CHAT}")
    await db.give_payment_details(jbl.app, 1)
    merchant, budi = tg.user(MERCHANT_CHAT, "Ibu Sari"), tg.user(1001, "Budi")
    order_id = await order_by_transfer(jbl, budi)
    await tg.wait_for(lambda: bool(merchant.bot_messages), what="the merchant's notice")
    await press(merchant, "✅ Terima")
    await tg.wait_for(lambda: "Silakan bayar" in (budi.last.text or ""), what="the details")
    await press(budi, "📎 Kirim bukti bayar")
    # A PDF named as a photo is still a PDF; a text named .pdf is refused.
    fake = await budi.wait_for_reply(budi.send_document(b"not a receipt", "bukti.pdf", PDF))
    assert "tidak bisa dibaca sebagai bukti bayar" in (fake.text or "")
    sent = await budi.wait_for_reply(budi.send_document(RECEIPT, "bukti.jpg", "image/jpeg"))
    assert "terkirim ke penjual" in (sent.text or "")

    await tg.wait_for(
        lambda: f"Bukti bayar pesanan #{order_id}" in (merchant.last.text or ""),
        what="the proof to the merchant",
    )
    # A document, not a photo Telegram would refuse to render.
    assert merchant.last.document is not None and merchant.last.upload is not None
    assert (merchant.last.upload.content_type, merchant.last.upload.size) == (PDF, len(RECEIPT))
    assert merchant.last.buttons[:2] == ["✅ Lunas", "❌ Belum masuk"]
