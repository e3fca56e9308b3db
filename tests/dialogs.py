"""Dialog steps many tests share: putting a product in the cart and checking out for pickup."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.people import Chatter


async def add_to_cart(chatter: Chatter, query: str, label: str, quantity: int = 1) -> None:
    """Searches, opens the product whose button shows `label` and adds `quantity` of it."""
    await chatter.send(f"/cari {query}")
    await chatter.choose(label)
    await chatter.choose("Pilih jumlah")
    await chatter.send(str(quantity))
    assert "masuk keranjang" in chatter.text, chatter.text


async def summary_for_pickup(chatter: Chatter, name: str = "Budi Santoso") -> None:
    """Checks out for pickup with cash, typing every detail unless they are remembered."""
    await chatter.send("/checkout")
    if "Ringkasan pesanan" not in chatter.text:
        await chatter.send(name)
        await chatter.send("0812 3456 7890")
        await chatter.choose("Ambil sendiri")
        await chatter.choose("Bayar tunai")
    assert "Ringkasan pesanan" in chatter.text, chatter.text


async def to_delivery_address(chatter: Chatter, name: str = "Budi Santoso") -> None:
    """Checks out for delivery as far as the address, typing the name and phone."""
    await chatter.send("/checkout")
    await chatter.send(name)
    await chatter.send("0812 3456 7890")
    await chatter.choose("Diantar")
    assert "Ketik alamat pengantaran" in chatter.text, chatter.text


async def order_for_pickup(chatter: Chatter) -> None:
    await summary_for_pickup(chatter)
    await chatter.choose("Pesan sekarang")
    assert "Terima kasih" in chatter.text, chatter.text


async def new_product_in_chat(merchant: Chatter, name: str, category: str, price: str) -> None:
    """A merchant's `/produk` in six steps: 10 in stock, no description, no photo."""
    await merchant.send("/produk")
    await merchant.send(name)
    await merchant.choose(category)
    await merchant.send(price)
    await merchant.send("10")
    await merchant.choose("Lewati")
    await merchant.choose("Lewati")
