"""A resident greets the bot, browses this week's catalog page by page and opens products."""

from __future__ import annotations

from datetime import timedelta

from tests import db
from tests.people import Chatter


async def test_start_greets_in_indonesian_with_the_main_menu(budi: Chatter) -> None:
    await budi.send("/start")
    assert "Selamat datang di Jumat Beli Lokal" in budi.text
    assert budi.labels == [
        "🛍️ Katalog Jumat",
        "🔎 Cari",
        "📍 Dekat saya",
        "🛒 Keranjang",
        "📦 Pesanan saya",
        "🔔 Siaran Jumat",
        "❓ Bantuan",
    ]


async def test_catalog_shows_the_coming_friday_with_its_featured_category_first(
    budi: Chatter,
) -> None:
    await budi.send("/start")
    await budi.choose("Katalog Jumat")
    assert "Jumat, 27 November 2026" in budi.text
    assert "kategori unggulan: Produk Kesehatan" in budi.text
    assert budi.labels[0] == "⭐ Produk Kesehatan"
    assert budi.labels[1:4] == [
        "Makanan & Minuman",
        "Fesyen & Kerajinan",
        "Makanan Berat & Produk Rumah Tangga",
    ]


async def test_on_friday_the_catalog_is_todays_and_next_week_rotates(budi: Chatter, clock) -> None:
    clock.advance(timedelta(days=3))  # Friday 27 November, 10:00 in Jakarta
    await budi.send("/katalog")
    assert "Hari ini Jumat Beli Lokal" in budi.text
    assert budi.labels[0] == "⭐ Produk Kesehatan"
    clock.advance(timedelta(days=1))  # Saturday: the next Friday features the next category
    await budi.send("/katalog")
    assert "Jumat, 4 Desember 2026" in budi.text
    assert budi.labels[0] == "⭐ Makanan & Minuman"


async def test_pages_hold_at_most_eight_and_walk_forward_and_back(budi: Chatter) -> None:
    await budi.send("/katalog")
    await budi.choose("Makanan & Minuman")
    seen: list[str] = []
    pages = 0
    while True:
        products = [label for label in budi.labels if "· Rp" in label]
        assert 1 <= len(products) <= 8
        seen += products
        pages += 1
        if not any("Berikutnya" in label for label in budi.labels):
            break
        await budi.choose("Berikutnya")
    assert len(seen) == len(set(seen)) == 30  # every product of the category, once
    assert pages == 4
    last_page = [label for label in budi.labels if "· Rp" in label]
    await budi.choose("Sebelumnya")
    await budi.choose("Berikutnya")
    assert [label for label in budi.labels if "· Rp" in label] == last_page


async def test_curated_products_come_first_then_what_sold_recently(app, budi: Chatter) -> None:
    await db.set_product(app, "Masker Kain 3 Ply isi 5", curated=False, recent_sold=50)
    curated = {p.name for p in await db.products(app) if p.curated}
    await budi.send("/katalog")
    await budi.choose("Produk Kesehatan")
    names = [label.split(" · ")[0] for label in budi.labels if "· Rp" in label]
    best_seller = names.index("Masker Kain 3 Ply isi 5")
    assert names[:best_seller] and all(name in curated for name in names[:best_seller])
    assert not any(name in curated for name in names[best_seller:])


async def test_next_page_is_stable_when_products_change_meanwhile(app, budi: Chatter) -> None:
    await budi.send("/katalog")
    await budi.choose("Makanan & Minuman")
    first_page = [label for label in budi.labels if "· Rp" in label]
    # Meanwhile a first-page product is hidden and another becomes the best seller.
    await db.set_product(app, first_page[0].split(" · ")[0], active=False)
    await db.set_product(app, 'Kue <Lapis> & "Legit"', curated=True, recent_sold=999)
    await budi.choose("Berikutnya")
    second_page = [label for label in budi.labels if "· Rp" in label]
    assert not set(first_page) & set(second_page)
    assert len(second_page) == 8


async def test_product_card_shows_price_merchant_area_stock_and_photo(budi: Chatter) -> None:
    await budi.send("/cari jamu pegal")
    await budi.choose("Jamu Pegal Linu")
    card = budi.replies[-1]
    assert card.text.startswith("Jamu Pegal Linu Serbuk isi 10\n")
    assert "🏪 Jamu Racik Bu Warsih — Kampung Melayu, Jatinegara, Jakarta Timur" in card.text
    assert "💰 Rp20.000 / box" in card.text
    assert "📦 Stok: 40 box" in card.text
    assert card.photo_url and card.photo_url.startswith("https://")
    assert budi.labels == ["➕ Tambah 1", "🔢 Pilih jumlah", "🛒 Keranjang", "⬅️ Kembali"]
    await budi.choose("Kembali")
    assert "Hasil pencarian" in budi.text


async def test_sold_out_product_cannot_be_added(budi: Chatter) -> None:
    await budi.send("/cari sambal roa")
    await budi.choose("Sambal Roa")
    assert "Stok habis" in budi.text
    assert "➕ Tambah 1" not in budi.labels


async def test_language_switch_to_english_and_back(budi: Chatter) -> None:
    await budi.send("/language")
    await budi.choose("English")
    assert "Language switched to English" in budi.text
    await budi.send("/catalog")
    assert "Friday, 27 November 2026" in budi.text
    assert budi.labels[0] == "⭐ Health Products"
    await budi.send("/bahasa")
    await budi.press("Bahasa Indonesia")
    assert "Bahasa diganti" in budi.text
    assert (await budi.person()).language == "id"


async def test_english_speakers_are_greeted_in_english_first(app) -> None:
    tom = Chatter(app, "console:tom", language_hint="en-GB")
    await tom.send("/start")
    assert "Welcome to Jumat Beli Lokal" in tom.text
