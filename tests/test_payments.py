"""Paying by transfer or QRIS with a proof: the merchant's `/pembayaran`, the buyer's proof,
the merchant's ✅ Lunas or ❌ Belum masuk, and an unpaid order's reminder and expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from handlers.money import format_rupiah
from models.ordering import AWAITING, CONFIRMED, EXPIRED, PAID, PROOF_SENT, OrderEvent
from models.payments import PaymentDetails
from models.uow import UnitOfWork
from scheduler.jobs import sweep_payments
from tests import db
from tests.conftest import Clock
from tests.people import Chatter

# The demo's operator of merchant 1.
OPERATOR = "console:penjual"
PROOF = "telegram:AgACproof"


async def set_details_in_chat(penjual: Chatter) -> None:
    """The whole `/pembayaran`: bank account, GoPay, QRIS photo, then saved."""
    await penjual.send("/pembayaran")
    assert "belum diisi" in penjual.text
    await penjual.send("BCA")
    await penjual.send("123-456-7890")
    await penjual.send("Siti Aminah")
    await penjual.send("gopay 0812-3456-7890")
    await penjual.send_photo("telegram:AgACqris")
    assert "Periksa lagi" in penjual.text
    await penjual.choose("Simpan")
    assert "Data pembayaran tersimpan" in penjual.text


async def order_by_transfer(app: App, budi: Chatter, merchant_id: int = 1) -> int:
    product = next(p for p in await db.products(app) if p.merchant_id == merchant_id)
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await budi.send("/checkout")
    await budi.send("Budi Santoso")
    await budi.send("0812 3456 7890")
    await budi.choose("Ambil sendiri")
    await budi.choose("Transfer/QRIS")
    await budi.choose("Pesan sekarang")
    assert "Terima kasih" in budi.text, budi.text
    return (await db.orders(app))[-1].id


async def accepted_by_transfer(app: App, budi: Chatter, penjual: Chatter) -> int:
    await db.give_payment_details(app, 1)
    order_id = await order_by_transfer(app, budi)
    await penjual.send_payload(f"mv:{order_id}:confirm")
    return order_id


async def events(app: App, order_id: int) -> list[OrderEvent]:
    async with UnitOfWork(app.sessions) as uow:
        rows = await uow.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        found = list(rows)
        uow.session.expunge_all()
        return found


async def test_a_merchant_sets_payment_details_checked_and_shown_back_before_saving(
    app: App,
) -> None:
    penjual = Chatter(app, OPERATOR)
    await penjual.send("/pembayaran")
    await penjual.send("B")
    assert "Nama bank harus 2 sampai 40" in penjual.text
    await penjual.send("Mandiri")
    for wrong in ("12ab34567", "1234", "1" * 17, "١٢٣٤٥٦٧٨٩"):
        await penjual.send(wrong)
        assert "8 sampai 16 angka" in penjual.text
    await penjual.send("1234 5678 9012 3")
    await penjual.send("Siti Aminah")
    for wrong in ("PayPal 0812-3456-7890", "GoPay 021-555-1234", "OVO", "OVO 12345"):
        await penjual.send(wrong)
        assert "nomor HP Indonesia" in penjual.text
    await penjual.send("ovo +62 812 3456 7890")
    await penjual.send("bukan foto")
    assert "sebagai foto" in penjual.text
    await penjual.send_photo("telegram:AgACqris")
    assert "🏦 Mandiri 1234567890123 a.n. Siti Aminah" in penjual.text
    assert "📱 OVO 0812-3456-7890" in penjual.text
    assert "QRIS" in penjual.text
    assert penjual.replies[-1].photo_url == "telegram:AgACqris"
    # Nothing is saved before the merchant says so.
    assert await db.count(app, PaymentDetails) == 0
    await penjual.choose("Simpan")
    async with UnitOfWork(app.sessions) as uow:
        saved = await uow.session.get(PaymentDetails, 1)
        assert saved is not None
        assert (saved.bank, saved.account_number, saved.account_holder) == (
            "Mandiri",
            "1234567890123",
            "Siti Aminah",
        )
        assert (saved.ewallet, saved.ewallet_phone) == ("OVO", "+6281234567890")
        assert saved.qris_photo == "telegram:AgACqris"
    # Shown back the next time, and a press of the old Save button saves nothing again.
    await penjual.send("/pembayaran")
    assert "sekarang:" in penjual.text and "Mandiri 1234567890123" in penjual.text
    await penjual.send_payload("pm:ok")
    assert "sudah tidak berlaku" in penjual.text


async def test_skipping_every_way_to_pay_saves_nothing_and_asks_again(app: App) -> None:
    penjual = Chatter(app, OPERATOR)
    await penjual.send("/pembayaran")
    for _ in range(3):
        await penjual.choose("Lewati")
    assert "minimal satu cara pembayaran" in penjual.text
    assert "Pembayaran 1/4" in penjual.text
    assert await db.count(app, PaymentDetails) == 0


async def test_only_operators_set_payment_details(app: App, budi: Chatter) -> None:
    await budi.send("/pembayaran")
    assert "untuk penjual" in budi.text
    await budi.send_payload("pm:ok")
    assert "sudah tidak berlaku" in budi.text
    assert await db.count(app, PaymentDetails) == 0


async def test_a_merchant_without_details_offers_cash_only_and_says_why(
    app: App, budi: Chatter
) -> None:
    product = next(p for p in await db.products(app) if p.merchant_id == 1)
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await budi.send("/checkout")
    await budi.send("Budi Santoso")
    await budi.send("0812 3456 7890")
    await budi.choose("Ambil sendiri")
    merchant = product.merchant_id
    assert "Transfer/QRIS belum bisa" in budi.text
    assert "belum mengisi data pembayaran" in budi.text
    assert not any("Transfer" in label for label in budi.labels)
    # A forged press of the transfer button is asked again, cash only.
    await budi.send_payload("co:pay:transfer")
    assert "Transfer/QRIS belum bisa" in budi.text
    await budi.choose("Bayar tunai")
    await budi.choose("Pesan sekarang")
    [order] = await db.orders(app)
    assert order.payment == "cash" and order.merchant_id == merchant


async def test_transfer_paid_with_a_proof_photo_and_marked_lunas(app: App, budi: Chatter) -> None:
    penjual = Chatter(app, OPERATOR)
    await set_details_in_chat(penjual)
    order_id = await order_by_transfer(app, budi)
    [order] = await db.orders(app)
    await penjual.read_notices()
    await penjual.choose("Terima")
    # Not to be handed over before it is paid.
    assert "Siap diambil" not in " ".join(penjual.labels)

    confirmed, due = await budi.read_notices()
    assert f"Pesanan #{order_id} diterima" in confirmed.text
    assert f"Silakan bayar tepat {format_rupiah(order.total)} ke:" in due.text
    assert "🏦 BCA 1234567890 a.n. Siti Aminah" in due.text
    assert "📱 GoPay 0812-3456-7890" in due.text
    assert due.photo_url == "telegram:AgACqris"
    await budi.send("/pesanan")
    assert "menunggu pembayaran" in budi.text

    await budi.read_notices()  # nothing new; the due notice's menu is gone with /pesanan
    await budi.send_payload(f"bp:{order_id}")
    assert f"Kirim foto bukti bayar pesanan #{order_id}" in budi.text
    await budi.send("sudah saya transfer")
    assert "sebagai foto" in budi.text
    await budi.send_photo(PROOF)
    assert "terkirim ke penjual" in budi.text

    [proof] = await penjual.read_notices()
    assert f"Bukti bayar pesanan #{order_id} dari Budi Santoso" in proof.text
    assert proof.photo_url == PROOF
    assert [b.label for b in proof.buttons][:2] == ["✅ Lunas", "❌ Belum masuk"]
    await penjual.choose("Lunas")
    assert f"Pesanan #{order_id} dicatat lunas" in penjual.text
    assert "📦 Siap diambil" in penjual.labels

    [paid] = await budi.read_notices()
    assert "Lunas!" in paid.text
    await budi.send("/pesanan")
    assert "Dikonfirmasi penjual · lunas" in budi.text
    [stored] = await db.orders(app)
    assert (stored.status, stored.payment_state, stored.payment_proof) == (CONFIRMED, PAID, PROOF)
    states = [(e.payment_state, e.proof) for e in await events(app, order_id) if e.payment_state]
    assert states == [(AWAITING, None), (PROOF_SENT, PROOF), (PAID, None)]
    await penjual.choose("Siap diambil")
    assert (await db.orders(app))[0].status == "ready"


async def test_belum_masuk_with_a_note_asks_the_buyer_again(app: App, budi: Chatter) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await accepted_by_transfer(app, budi, penjual)
    await penjual.send_payload(f"pd:{order_id}:unpaid")
    assert "belum punya bukti bayar" in penjual.text
    await penjual.send_payload(f"mv:{order_id}:ready")
    assert "belum lunas" in penjual.text
    await budi.send_payload(f"bp:{order_id}")
    await budi.send_photo(PROOF)
    await budi.send_payload(f"bp:{order_id}")
    assert "tidak sedang menunggu pembayaran" in budi.text

    await penjual.read_notices()
    await penjual.choose("Belum masuk")
    assert "Ketik catatan untuk pembeli" in penjual.text
    await penjual.send("ok")
    assert "3 sampai 200" in penjual.text
    await penjual.send("Belum ada di mutasi BCA")
    assert "pembayarannya belum masuk" in penjual.text
    *_, told = await budi.read_notices()
    assert told.text.endswith("belum masuk: Belum ada di mutasi BCA")
    assert "📎 Kirim bukti bayar" in budi.labels
    [order] = await db.orders(app)
    assert (order.status, order.payment_state) == (CONFIRMED, AWAITING)
    notes = [e.note for e in await events(app, order_id) if e.payment_state == AWAITING]
    assert notes == [None, "Belum ada di mutasi BCA"]
    await budi.send("/pesanan")
    assert "menunggu pembayaran" in budi.text
    # The buyer can send a proof again.
    await budi.send_payload(f"bp:{order_id}")
    await budi.send_photo("telegram:AgACproof2")
    assert (await db.orders(app))[0].payment_proof == "telegram:AgACproof2"


async def test_forged_payment_presses_are_refused_and_change_nothing(
    app: App, budi: Chatter, sari: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await accepted_by_transfer(app, budi, penjual)
    await db.add_operator(app, 2, sari.identity)
    for forged in (f"pd:{order_id}:paid", f"pd:{order_id}:unpaid"):
        await sari.send_payload(forged)
        assert "tidak ditemukan di toko Anda" in sari.text
        await budi.send_payload(forged)
        assert "tidak ditemukan di toko Anda" in budi.text
    await sari.send_payload(f"bp:{order_id}")
    assert "tidak ditemukan di akun Anda" in sari.text
    await budi.send_payload("pd:999999999999:paid")
    assert "tidak ditemukan" in budi.text
    [order] = await db.orders(app)
    assert order.payment_state == AWAITING


async def test_two_operators_pressing_lunas_at_once_one_wins(app: App, budi: Chatter) -> None:
    first, second = Chatter(app, OPERATOR), Chatter(app, "console:ibu")
    await db.add_operator(app, 1, second.identity)
    order_id = await accepted_by_transfer(app, budi, first)
    await budi.send_payload(f"bp:{order_id}")
    await budi.send_photo(PROOF)
    await budi.read_notices()
    await asyncio.gather(
        first.send_payload(f"pd:{order_id}:paid"), second.send_payload(f"pd:{order_id}:paid")
    )
    refused = [c for c in (first, second) if "sudah dicatat" in c.text]
    assert len(refused) == 1
    assert (await db.orders(app))[0].payment_state == PAID
    assert len(await budi.read_notices()) == 1
    assert len([e for e in await events(app, order_id) if e.payment_state == PAID]) == 1


async def sweep(app: App, clock: Clock) -> tuple[list[int], list[int]]:
    return await sweep_payments(app.sessions, clock, timedelta(hours=24))


async def test_an_unpaid_order_reminds_once_then_expires_with_its_stock_back(
    app: App, budi: Chatter, clock: Clock
) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await accepted_by_transfer(app, budi, penjual)
    product = (await db.orders(app))[0].items[0].product_id
    before = next(p.stock for p in await db.products(app) if p.id == product)
    await budi.read_notices()
    await penjual.read_notices()

    clock.advance(timedelta(hours=11, minutes=59))
    assert await sweep(app, clock) == ([], [])
    clock.advance(timedelta(minutes=1))
    assert await sweep(app, clock) == ([order_id], [])
    [reminder] = await budi.read_notices()
    assert f"Pesanan #{order_id}" in reminder.text and "masih menunggu pembayaran" in reminder.text
    assert "📎 Kirim bukti bayar" in budi.labels
    clock.advance(timedelta(hours=1))
    assert await sweep(app, clock) == ([], [])  # never twice

    clock.advance(timedelta(hours=11))
    assert await sweep(app, clock) == ([], [order_id])
    assert await sweep(app, clock) == ([], [])
    assert (await db.orders(app))[0].status == EXPIRED
    after = next(p.stock for p in await db.products(app) if p.id == product)
    assert after == before + 1
    [told] = await budi.read_notices()
    assert "kedaluwarsa karena belum dibayar" in told.text
    [shop_told] = await penjual.read_notices()
    assert "kedaluwarsa" in shop_told.text
    # Too late to pay or to mark it paid.
    await budi.send_payload(f"bp:{order_id}")
    assert "tidak sedang menunggu pembayaran" in budi.text
    await penjual.send_payload(f"pd:{order_id}:paid")
    assert "sudah dicatat" in penjual.text


async def test_an_order_with_a_proof_to_check_does_not_expire(
    app: App, budi: Chatter, clock: Clock
) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await accepted_by_transfer(app, budi, penjual)
    await budi.send_payload(f"bp:{order_id}")
    await budi.send_photo(PROOF)
    clock.advance(timedelta(days=3))
    assert await sweep(app, clock) == ([], [])
    assert (await db.orders(app))[0].payment_state == PROOF_SENT


async def test_in_english_the_payment_reads_awaiting_payment_then_paid(app: App) -> None:
    john = Chatter(app, "console:john", language_hint="en")
    penjual = Chatter(app, OPERATOR)
    await db.add_operator(app, 1, "console:ops", language="en")
    ops = Chatter(app, "console:ops")
    await ops.send("/payment")
    assert "Payment 1/4" in ops.text
    order_id = await accepted_by_transfer_in_english(app, john, penjual)
    *_, due = await john.read_notices()
    assert "Please pay exactly" in due.text and "account holder Toko Contoh" in due.text
    await john.send("/orders")
    assert "Confirmed by the seller · awaiting payment" in john.text
    await ops.send_payload(f"pd:{order_id}:paid")
    assert f"Order #{order_id} is recorded as paid" in ops.text
    await john.send("/orders")
    assert "Confirmed by the seller · paid" in john.text


async def accepted_by_transfer_in_english(app: App, john: Chatter, penjual: Chatter) -> int:
    await db.give_payment_details(app, 1)
    product = next(p for p in await db.products(app) if p.merchant_id == 1)
    await john.send(f"/start p_{product.id}")
    await john.choose("Add 1")
    await john.send("/checkout")
    await john.send("John Smith")
    await john.send("0812 3456 7890")
    await john.choose("Pick up")
    await john.choose("Transfer/QRIS")
    await john.choose("Place order")
    order_id = (await db.orders(app))[-1].id
    await penjual.send_payload(f"mv:{order_id}:confirm")
    return order_id
