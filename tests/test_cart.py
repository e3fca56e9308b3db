"""A resident fills and changes the cart."""

from __future__ import annotations

from models.carts import CartItem
from tests import db
from tests.people import Chatter


async def open_product(chatter: Chatter, query: str, label: str) -> None:
    await chatter.send(f"/cari {query}")
    await chatter.choose(label)


async def test_add_one_and_choose_quantity_then_totals_per_merchant(budi: Chatter) -> None:
    await open_product(budi, "kopi susu pandan", "Kopi Susu Pandan")
    await budi.choose("Tambah 1")
    assert "✅ 1 × Kopi Susu Pandan 1 L masuk keranjang (total di keranjang: 1)." in budi.text
    await open_product(budi, "jamu pegal", "Jamu Pegal Linu")
    await budi.choose("Pilih jumlah")
    assert "Ketik angka 1 sampai 40" in budi.text
    await budi.send("3")
    assert "3 × Jamu Pegal Linu Serbuk isi 10" in budi.text
    await budi.send("/keranjang")
    assert "• Kopi Susu Pandan 1 L — 1 × Rp70.000 = Rp70.000" in budi.text
    assert "• Jamu Pegal Linu Serbuk isi 10 — 3 × Rp20.000 = Rp60.000" in budi.text
    assert "Subtotal: Rp70.000" in budi.text and "Subtotal: Rp60.000" in budi.text
    assert "Total: Rp130.000 (2 pesanan, satu per toko)" in budi.text


async def test_change_quantity_remove_and_empty(budi: Chatter) -> None:
    await open_product(budi, "kopi susu pandan", "Kopi Susu Pandan")
    await budi.choose("Tambah 1")
    await budi.send("/keranjang")
    await budi.choose("Kopi Susu Pandan")
    await budi.choose("Tambah 1")
    assert "2 × Rp70.000 = Rp140.000" in budi.text
    await budi.choose("Kopi Susu Pandan")
    await budi.choose("Ketik jumlah")
    await budi.send("5")
    assert "5 × Rp70.000 = Rp350.000" in budi.text
    await budi.choose("Kopi Susu Pandan")
    await budi.choose("Hapus")
    assert "Produk dihapus dari keranjang." in budi.text
    assert "Keranjang Anda masih kosong" in budi.text
    await open_product(budi, "jamu pegal", "Jamu Pegal Linu")
    await budi.choose("Tambah 1")
    await budi.send("/keranjang")
    await budi.choose("Kosongkan")
    assert "Keranjang sudah dikosongkan." in budi.text
    await budi.send("/keranjang")
    assert "masih kosong" in budi.text


async def test_a_double_pressed_plus_button_counts_once(budi: Chatter) -> None:
    await open_product(budi, "kopi susu pandan", "Kopi Susu Pandan")
    await budi.press("Tambah 1")
    await budi.send("/keranjang")
    await budi.press("Kopi Susu Pandan")
    plus = budi.button("Tambah 1")
    await budi.send_payload(plus)
    await budi.send_payload(plus)
    assert "2 × Rp70.000" in budi.text


async def test_bad_quantities_are_refused_and_change_nothing(app, budi: Chatter) -> None:
    await open_product(budi, "jamu pegal", "Jamu Pegal Linu")
    await budi.choose("Pilih jumlah")
    for typed, reply in [
        ("-3", "Jumlah minimal 1."),
        ("dua", "Ketik jumlah sebagai angka"),
        ("2,5", "Ketik jumlah sebagai angka"),
        ("1000000000", "Jumlah terlalu besar: maksimal 99 per produk."),
        ("9" * 900, "Jumlah terlalu besar: maksimal 99 per produk."),
        ("0", "Jumlah minimal 1."),
        ("100", "Jumlah terlalu besar: maksimal 99 per produk."),
        ("41", "Stok Jamu Pegal Linu Serbuk isi 10 tidak cukup: tinggal 40."),
    ]:
        await budi.send(typed)
        assert reply in budi.text, typed
    assert await db.count(app, CartItem) == 0
    product = await db.product(app, "Jamu Pegal Linu Serbuk isi 10")
    for forged in [f"a:{product.id}:1000000", f"a:{product.id}:0", f"a:{product.id}:-3"]:
        await budi.send_payload(forged)
        assert "Tombol itu sudah tidak berlaku" in budi.text or "Jumlah" in budi.text
    assert await db.count(app, CartItem) == 0


async def test_adding_more_than_the_stock_in_steps_is_refused(app, budi: Chatter) -> None:
    await db.set_product(app, "Kopi Susu Pandan 1 L", stock=2)
    await open_product(budi, "kopi susu pandan", "Kopi Susu Pandan")
    await budi.press("Tambah 1")
    await budi.send("/cari kopi susu pandan")
    await budi.choose("Kopi Susu Pandan")
    payload = budi.button("Tambah 1")
    await budi.send_payload(payload)
    await budi.send_payload(payload)
    assert "Stok Kopi Susu Pandan 1 L tidak cukup: tinggal 2." in budi.text


async def test_a_product_hidden_meanwhile_cannot_be_added(app, budi: Chatter) -> None:
    await open_product(budi, "kopi susu pandan", "Kopi Susu Pandan")
    await db.set_product(app, "Kopi Susu Pandan 1 L", active=False)
    await budi.choose("Tambah 1")
    assert "Maaf, produk itu sudah tidak tersedia." in budi.text
    assert await db.count(app, CartItem) == 0
