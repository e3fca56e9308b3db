"""Amounts as large as the shop allows: the dearest product in the largest quantity a cart
holds is ordered, shown, counted and ranked the same on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.bootstrap import App
from models.carts import MAX_QUANTITY
from models.shop import MAX_PRICE
from tests import db
from tests.dialogs import order_for_pickup
from tests.people import Chatter

OPERATOR = "console:penjual"  # runs merchant 1 in the demo


async def test_an_order_of_25_at_rp100_000_000_is_placed_and_counted(
    app: App, budi: Chatter
) -> None:
    assert MAX_QUANTITY >= 25 and MAX_PRICE == 100_000_000
    penjual = Chatter(app, OPERATOR)
    product = next(p for p in await db.products(app) if p.merchant_id == 1)
    await penjual.send_payload(f"sp:{product.id}")
    await penjual.choose("Ubah harga")
    await penjual.send("100 jt")
    assert "Harga diubah menjadi Rp100.000.000" in penjual.text
    await penjual.choose("Ubah stok")
    await penjual.send("30")

    await budi.send(f"/start p_{product.id}")
    await budi.choose("Pilih jumlah")
    await budi.send("25")
    assert "25 × " in budi.text and "masuk keranjang" in budi.text
    await budi.send("/keranjang")
    assert "Rp2.500.000.000" in budi.text
    await order_for_pickup(budi)
    assert "Rp2.500.000.000" in budi.text

    [order] = await db.orders(app)
    assert order.total == 2_500_000_000
    assert order.items[0].unit_price == 100_000_000
    await penjual.read_notices()
    assert "Rp2.500.000.000" in penjual.text
    await penjual.choose("Terima")
    await penjual.send("/toko")
    assert "25 unit · omzet Rp2.500.000.000" in penjual.text, penjual.text
    await budi.send("/pesanan")
    assert "Rp2.500.000.000" in budi.text
