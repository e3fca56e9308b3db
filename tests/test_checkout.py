"""A resident checks out: details, summary, orders per merchant, reserved stock, cancelling."""

from __future__ import annotations

import asyncio

import pytest

from bot.bootstrap import build_app
from models.chats import ChatState
from models.ordering import Order
from models.outbox import OutboxMessage
from models.people import Person
from models.uow import UnitOfWork
from tests import db
from tests.dialogs import add_to_cart, to_delivery_address
from tests.people import Chatter

ADDRESS = "Jl. Tebet Raya No. 10, RT 01/RW 02, Tebet Barat"


async def fill_cart(chatter: Chatter) -> None:
    """Two products from two merchants: 2 × Kopi Susu Pandan and 1 × Jamu Pegal Linu."""
    await add_to_cart(chatter, "kopi susu pandan", "Kopi Susu Pandan", 2)
    await add_to_cart(chatter, "jamu pegal", "Jamu Pegal Linu")


async def check_out(chatter: Chatter, *, phone: str = "0812 3456 7890") -> None:
    """Goes from the cart to the summary, typing everything as on the console."""
    await chatter.send("/keranjang")
    await chatter.choose("Checkout")
    assert "Checkout 1/4" in chatter.text
    await chatter.send("Budi Santoso")
    assert "Checkout 2/4" in chatter.text
    await chatter.send(phone)
    assert "Checkout 3/4" in chatter.text
    await chatter.choose("Diantar")
    assert "alamat" in chatter.text
    await chatter.send(ADDRESS)
    assert "Checkout 4/4" in chatter.text
    await chatter.choose("Bayar tunai")
    assert "Ringkasan pesanan" in chatter.text


async def test_checkout_creates_one_order_per_merchant_and_reserves_stock(
    app, budi: Chatter
) -> None:
    await fill_cart(budi)
    await check_out(budi)
    summary = budi.text
    assert "👤 Budi Santoso, 0812-3456-7890" in summary
    assert f"🚚 Diantar ke: {ADDRESS}" in summary
    assert "💵 Bayar tunai saat terima/ambil" in summary
    assert "Total: Rp160.000 (2 pesanan, satu per toko)" in summary
    await budi.choose("Pesan sekarang")
    assert "Terima kasih! Pesanan Anda sudah dibuat" in budi.text
    orders = await db.orders(app)
    assert len(orders) == 2
    assert {o.total for o in orders} == {140_000, 20_000}
    assert all(o.phone == "+6281234567890" and o.status == "pending" for o in orders)
    assert all(o.address == ADDRESS and o.payment == "cash" for o in orders)
    assert f"#{orders[0].id}" in budi.text and f"#{orders[1].id}" in budi.text
    assert (await db.product(app, "Kopi Susu Pandan 1 L")).stock == 13
    assert (await db.product(app, "Jamu Pegal Linu Serbuk isi 10")).stock == 39
    notices = await db.outbox(app)
    assert sorted(n.payload["order_id"] for n in notices) == [o.id for o in orders]
    assert {n.kind for n in notices} == {"order_new"}
    await budi.send("/keranjang")
    assert "masih kosong" in budi.text


async def test_order_items_keep_the_price_paid(app, budi: Chatter) -> None:
    await fill_cart(budi)
    await check_out(budi)
    await budi.choose("Pesan sekarang")
    await db.set_product(app, "Kopi Susu Pandan 1 L", price=99_000, name="Kopi Susu Pandan Baru")
    kopi = next(o for o in await db.orders(app) if o.total == 140_000)
    await budi.send("/pesanan")
    await budi.choose(f"#{kopi.id}")
    assert "• Kopi Susu Pandan 1 L — 2 × Rp70.000 = Rp140.000" in budi.text


async def cart_merchants(app) -> set[int]:
    names = ("Kopi Susu Pandan 1 L", "Jamu Pegal Linu Serbuk isi 10")
    return {p.merchant_id for p in await db.products(app) if p.name in names}


async def test_pickup_and_transfer_skip_the_address(app, budi: Chatter) -> None:
    for merchant_id in await cart_merchants(app):
        await db.give_payment_details(app, merchant_id)
    await fill_cart(budi)
    await budi.send("/checkout")
    await budi.send("Budi")
    await budi.send("+62 812-3456-7890")
    await budi.choose("Ambil sendiri")
    await budi.choose("Transfer/QRIS")
    assert "🏪 Diambil sendiri di toko" in budi.text
    assert "🏦 Transfer/QRIS ke penjual" in budi.text
    await budi.choose("Pesan sekarang")
    assert all(o.delivery == "pickup" and o.address is None for o in await db.orders(app))


async def test_details_are_remembered_for_the_next_order(app, budi: Chatter) -> None:
    for merchant_id in await cart_merchants(app):
        await db.give_payment_details(app, merchant_id)
    await fill_cart(budi)
    await check_out(budi)
    await budi.choose("Pesan sekarang")
    await fill_cart(budi)
    await budi.send("/keranjang")
    await budi.choose("Checkout")
    assert "Ringkasan pesanan" in budi.text
    assert "👤 Budi Santoso, 0812-3456-7890" in budi.text
    await budi.choose("Ubah data")
    assert budi.labels[0] == "Pakai: Budi Santoso"
    await budi.choose("Pakai: Budi Santoso")
    await budi.choose("Pakai: 0812-3456-7890")
    await budi.choose("Diantar")
    await budi.choose("Pakai: Jl. Tebet Raya")
    await budi.choose("Transfer")
    await budi.choose("Pesan sekarang")
    assert len(await db.orders(app)) == 4


async def test_shared_phone_number_is_taken_like_a_typed_one(app, budi: Chatter) -> None:
    await fill_cart(budi)
    await budi.send("/checkout")
    await budi.send("Budi")
    assert budi.replies[-1].ask_phone == "📱 Kirim nomor saya"
    await budi.share_phone("+6281298765432")
    assert "Checkout 3/4" in budi.text


async def test_invalid_details_are_asked_again(budi: Chatter) -> None:
    await fill_cart(budi)
    await budi.send("/checkout")
    await budi.send("B")
    assert "Nama harus 2 sampai 80 karakter" in budi.text
    await budi.send("x" * 81)
    assert "Nama harus 2 sampai 80 karakter" in budi.text
    await budi.send("Budi")
    for phone in ["12345", "+44 20 7946 0958", "0812", "nomor saya", "0812345678901234567"]:
        await budi.send(phone)
        assert "Nomor HP tidak valid" in budi.text, phone
    await budi.send("081234567890")
    await budi.choose("Diantar")
    await budi.send("Tebet")
    assert "Alamat harus 10 sampai 300 karakter" in budi.text
    await budi.send("x" * 301)
    assert "Alamat harus 10 sampai 300 karakter" in budi.text


async def test_confirming_twice_places_the_orders_once(app, budi: Chatter) -> None:
    await fill_cart(budi)
    await check_out(budi)
    confirm = budi.button("Pesan sekarang")
    await budi.send_payload(confirm)
    await budi.send_payload(confirm)
    assert "Pesanan ini sudah dibuat sebelumnya" in budi.text
    assert len(await db.orders(app)) == 2
    assert (await db.product(app, "Kopi Susu Pandan 1 L")).stock == 13


async def test_confirming_twice_at_once_places_the_orders_once(app, budi: Chatter) -> None:
    await fill_cart(budi)
    await check_out(budi)
    confirm = budi.button("Pesan sekarang")
    presses = [Chatter(app, "console:budi") for _ in range(3)]
    await asyncio.gather(*(press.send_payload(confirm) for press in presses))
    texts = sorted(press.text.split("\n")[0] for press in presses)
    assert texts == [
        "Pesanan ini sudah dibuat sebelumnya:",
        "Pesanan ini sudah dibuat sebelumnya:",
        "✅ Terima kasih! Pesanan Anda sudah dibuat:",
    ]
    assert len(await db.orders(app)) == 2
    assert (await db.product(app, "Kopi Susu Pandan 1 L")).stock == 13


async def test_an_old_summary_cannot_order_a_changed_cart(app, budi: Chatter) -> None:
    await fill_cart(budi)
    await check_out(budi)
    old_confirm = budi.button("Pesan sekarang")
    await budi.send("/cari madu hitam")
    await budi.choose("Madu Hitam")
    await budi.choose("Tambah 1")
    await budi.send_payload(old_confirm)
    assert "Ringkasan itu sudah berubah" in budi.text
    assert "Madu Hitam Pahit 350 g" in budi.text
    assert await db.orders(app) == []


async def test_too_little_stock_names_the_product_and_reserves_nothing(app, budi: Chatter) -> None:
    await fill_cart(budi)
    await check_out(budi)
    await db.set_product(app, "Jamu Pegal Linu Serbuk isi 10", stock=0)
    await budi.choose("Pesan sekarang")
    assert "Stok Jamu Pegal Linu Serbuk isi 10 tidak cukup: tinggal 0." in budi.text
    assert await db.orders(app) == []
    assert await db.count(app, OutboxMessage) == 0
    assert (await db.product(app, "Kopi Susu Pandan 1 L")).stock == 15


async def test_a_restart_mid_checkout_continues_where_the_person_was(app, settings, clock) -> None:
    budi = Chatter(app, "console:budi")
    await fill_cart(budi)
    await budi.send("/checkout")
    await budi.send("Budi Santoso")
    await app.close()
    restarted = build_app(settings, clock)
    try:
        again = Chatter(restarted, "console:budi")
        await again.send("0812 3456 7890")
        assert "Checkout 3/4" in again.text
        await again.send("2")  # Ambil sendiri, typed by number as the menu showed it
        await again.send("1")
        await again.send("1")
        assert "Terima kasih" in again.text
        assert len(await db.orders(restarted)) == 2
    finally:
        await restarted.close()


async def test_cancelling_a_pending_order_returns_its_stock(app, budi: Chatter) -> None:
    await fill_cart(budi)
    await check_out(budi)
    await budi.choose("Pesan sekarang")
    kopi = next(o for o in await db.orders(app) if o.total == 140_000)
    await budi.send("/pesanan")
    assert "Menunggu konfirmasi penjual" in budi.text
    await budi.choose(f"#{kopi.id}")
    await budi.choose("Batalkan pesanan")
    assert f"Batalkan pesanan #{kopi.id}?" in budi.text
    await budi.choose("Ya, batalkan")
    assert f"Pesanan #{kopi.id} dibatalkan." in budi.text
    statuses = {o.id: o.status for o in await db.orders(app)}
    assert statuses[kopi.id] == "cancelled"
    assert list(statuses.values()).count("pending") == 1
    restored = await db.product(app, "Kopi Susu Pandan 1 L")
    assert restored.stock == 15 and restored.recent_sold == 0
    assert [n.kind for n in await db.outbox(app)][-1] == "order_cancelled"
    await budi.send_payload(f"ox:{kopi.id}:y")
    assert "tidak bisa diubah lagi: statusnya sekarang Dibatalkan" in budi.text
    assert (await db.product(app, "Kopi Susu Pandan 1 L")).stock == 15


async def test_someone_elses_order_is_not_found(app, budi: Chatter, sari: Chatter) -> None:
    await fill_cart(budi)
    await check_out(budi)
    await budi.choose("Pesan sekarang")
    for payload in ["o:1", "ox:1", "ox:1:y", "o:999999"]:
        await sari.send_payload(payload)
        assert "Pesanan itu tidak ditemukan di akun Anda." in sari.text
    assert {o.status for o in await db.orders(app)} == {"pending"}
    assert Order  # the model the statuses above were read from


async def kept_checkout(chatter: Chatter) -> dict[str, object]:
    """The checkout details the chat keeps so far."""
    async with UnitOfWork(chatter.app.sessions) as uow:
        state = await uow.session.get(ChatState, chatter.identity)
        assert state is not None
        return dict(state.data)


PHONE = "Itu sepertinya nomor telepon, bukan alamat."
NO_PLACE = "alamat itu belum menyebut nama jalan atau tempat."
# What people type where the address is asked that names nowhere to deliver to.
NOT_ADDRESSES = {
    "0812-3456-7890": PHONE,
    "HP: 0812 3456 7890": PHONE,
    "WA +62 812-3456-7890": PHONE,
    "RT 03/RW 02 No. 5": NO_PLACE,
    "Jakarta Selatan 12410": NO_PLACE,
}


async def test_a_phone_number_as_the_address_is_asked_again_and_nothing_is_kept(
    app, budi: Chatter
) -> None:
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await to_delivery_address(budi)
    for typed, said in NOT_ADDRESSES.items():
        await budi.send(typed)
        assert said in budi.text, typed
        assert "Mohon ketik alamat" in budi.text and "nama jalan" in budi.text, typed
        assert budi.labels == ["✖️ Batal checkout"]
        assert "co_address" not in await kept_checkout(budi), typed
    assert (await budi.person()).address is None
    assert await db.orders(app) == []
    address = "Gg. Haji Ung No.12, RT 03/RW 02, Kebon Kacang"
    await budi.send(address)
    assert "Checkout 4/4" in budi.text
    await budi.choose("Bayar tunai")
    assert f"🚚 Diantar ke: {address}" in budi.text
    await budi.choose("Pesan sekarang")
    [order] = await db.orders(app)
    assert order.address == address
    assert (await budi.person()).address == address


@pytest.mark.parametrize(
    "address",
    [
        "Jl. Melati 5 RT 03/RW 02",
        "Gg. Haji Ung No.12",
        "Perumahan X Blok C-7",
        "Jl.Kopo 5, Jakarta Barat",
        "Apartemen Kalibata City Tower B Lt. 12",
    ],
)
async def test_jakarta_addresses_are_taken_as_typed(budi: Chatter, address: str) -> None:
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await to_delivery_address(budi)
    await budi.send(address)
    assert "Checkout 4/4" in budi.text, budi.text
    assert (await kept_checkout(budi))["co_address"] == address


async def test_the_address_is_asked_again_in_the_persons_language(budi: Chatter) -> None:
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/language")
    await budi.choose("English")
    await budi.send("/checkout")
    await budi.send("Budi Santoso")
    await budi.send("0812 3456 7890")
    await budi.choose("Delivery")
    await budi.send("0812-3456-7890")
    assert "That looks like a phone number, not an address." in budi.text
    assert "street or place name" in budi.text
    await budi.send("No. 5 RT 03/RW 02")
    assert "that address names no street or place yet" in budi.text
    await budi.send("Jl. Melati No. 5, RT 03/RW 02, Menteng")
    assert "Checkout 4/4" in budi.text


async def test_a_remembered_phone_number_is_not_offered_as_the_address(app, budi: Chatter) -> None:
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await to_delivery_address(budi)
    await budi.send(ADDRESS)
    await budi.choose("Bayar tunai")
    await budi.choose("Pesan sekarang")
    # As a version that took any text with a letter in it may have kept it.
    person_id = (await budi.person()).id
    async with UnitOfWork(app.sessions) as uow:
        person = await uow.session.get_one(Person, person_id)
        person.address = "HP 0812-3456-7890"
        await uow.commit()
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/checkout")
    assert "Ringkasan pesanan" not in budi.text
    await budi.choose("Pakai: Budi Santoso")
    await budi.choose("Pakai: 0812-3456-7890")
    await budi.choose("Diantar")
    assert "Ketik alamat pengantaran" in budi.text
    assert budi.labels == ["✖️ Batal checkout"]
