"""A merchant keeps stock and prices in chat, hides or shows products and adds new ones; the
catalog changes at once, orders already placed do not."""

from __future__ import annotations

from bot.bootstrap import App
from bot.cli.curate import curate
from handlers.messages import Incoming
from models.curation import Decision
from tests import db
from tests.dialogs import order_for_pickup
from tests.people import Chatter

OPERATOR = "console:penjual"  # runs merchant 1 in the demo


async def first_product_of_merchant_1(app: App):
    return next(p for p in await db.products(app) if p.merchant_id == 1)


async def test_stock_and_price_change_in_chat_and_show_in_the_catalog_at_once(
    app: App, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    product = await first_product_of_merchant_1(app)
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)
    [order] = await db.orders(app)

    await penjual.send("/stok")
    assert f"{product.name[:20]}" in penjual.text and "stok" in penjual.text
    await penjual.send_payload(f"sp:{product.id}")
    await penjual.choose("Ubah stok")
    for bad in ("-3", "1000000000", "banyak", "²", "4²"):
        await penjual.send(bad)
        assert "Stok harus angka bulat 0 sampai 100000" in penjual.text
    await penjual.send("42")
    assert "Stok diubah menjadi 42" in penjual.text
    await penjual.choose("Ubah harga")
    await penjual.send("0")
    assert "Harga harus antara" in penjual.text
    await penjual.send("gratis")
    assert "Harga tidak terbaca" in penjual.text
    await penjual.send("31,5rb")
    assert "Harga diubah menjadi Rp31.500" in penjual.text

    await budi.send(f"/start p_{product.id}")
    assert "Rp31.500" in budi.text and "42" in budi.text
    [unchanged] = await db.orders(app)
    assert unchanged.items[0].unit_price == order.items[0].unit_price != 31_500


async def test_a_hidden_product_leaves_the_catalog_and_search_until_shown(
    app: App, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    product = await first_product_of_merchant_1(app)
    await penjual.send_payload(f"sp:{product.id}")
    await penjual.choose("Sembunyikan")
    assert "disembunyikan" in penjual.text
    await budi.send(f"/start p_{product.id}")
    assert product.name not in budi.text
    await budi.send(f"/cari {product.name}")
    assert product.name not in " ".join(budi.labels)
    await penjual.choose("Tampilkan")
    await budi.send(f"/cari {product.name}")
    assert any(product.name in label for label in budi.labels)


async def test_another_shops_product_cannot_be_changed(app: App, sari: Chatter) -> None:
    product = await first_product_of_merchant_1(app)
    await db.add_operator(app, 2, sari.identity)
    for forged in (f"sp:{product.id}", f"ss:{product.id}", f"sv:{product.id}:0"):
        await sari.send_payload(forged)
        assert "tidak ditemukan di toko Anda" in sari.text
    assert (await first_product_of_merchant_1(app)).active
    ani = Chatter(app, "console:ani")
    await ani.send("/stok")
    assert "untuk penjual" in ani.text


async def test_a_new_product_in_six_steps_with_a_photo_sent_in_the_chat(
    app: App, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    await penjual.send("/produk")
    await penjual.send("Ka")
    assert "harus 3 sampai 120" in penjual.text
    await penjual.send("Kue Lapis Legit Betawi")
    await penjual.choose("Makanan & Minuman")
    await penjual.send("85rb")
    await penjual.send("12")
    await penjual.send("Lapis legit 20 lapis, tanpa pengawet.")
    assert "Kirim foto" in penjual.text
    for not_a_photo in ("bukan foto", "telegram:typed-by-hand", "http://insecure.example/a.jpg"):
        await penjual.send(not_a_photo)
        assert "Itu bukan foto" in penjual.text
    penjual.replies = await app.conversation.handle(
        Incoming(identity=OPERATOR, message_id="photo-1", photo="telegram:AgACfile")
    )
    assert "Produk baru tersimpan" in penjual.text

    created = await db.product(app, "Kue Lapis Legit Betawi")
    assert (created.price, created.stock, created.merchant_id) == (85_000, 12, 1)
    assert created.photo_url == "telegram:AgACfile"
    # Listed once staff approve it (tests/test_curation.py).
    await curate(app, Decision.APPROVE, created.id, None)
    await budi.send("/cari lapis legit")
    await budi.choose("Kue Lapis Legit Betawi")
    assert "Rp85.000" in budi.text


async def test_a_photo_address_without_a_host_or_otherwise_unusable_is_refused_politely(
    app: App,
) -> None:
    penjual = Chatter(app, OPERATOR)
    await penjual.send("/produk")
    await penjual.send("Kue Lapis Legit Betawi")
    await penjual.choose("Makanan & Minuman")
    await penjual.send("85rb")
    await penjual.send("12")
    await penjual.choose("Lewati")
    for unusable in (
        "https://",
        "https:///foto.jpg",
        "https://localhost/foto.jpg",
        "https://192.168.1.10/foto.jpg",
        "https://toko:rahasia@contoh.co.id/foto.jpg",
        "https://contoh.co.id:99999/foto.jpg",
        "https://contoh..co.id/foto.jpg",
        "https://contoh.co.id/foto saya.jpg",
        "https://" + "a" * 64 + ".co.id/foto.jpg",
    ):
        await penjual.send(unusable)
        assert "Alamat foto itu tidak lengkap atau tidak bisa dipakai" in penjual.text, unusable
        assert penjual.labels[0] == "⏭️ Lewati"
    await penjual.send("https://contoh.co.id/foto/lapis.jpg")
    assert "Produk baru tersimpan" in penjual.text
    created = await db.product(app, "Kue Lapis Legit Betawi")
    assert created.photo_url == "https://contoh.co.id/foto/lapis.jpg"
