"""A resident shops by neighbourhood ("📍 Dekat saya"): kota → kecamatan → kelurahan → the shops
there → a shop's catalog; their area is remembered, changed, or read from a delivery address,
and a category marks (and, with `[catalog] local_first`, puts first) their kecamatan's shops."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import build_app
from bot.settings import CatalogSettings, DatabaseSettings, Settings, load_settings
from handlers import payloads
from models.areas import kecamatan_list, kelurahan_by_kecamatan
from models.catalog import Product
from tests import db
from tests.conftest import Clock, demo_app
from tests.dialogs import add_to_cart
from tests.people import Chatter


def products_shown(chatter: Chatter) -> list[str]:
    return [label for label in chatter.labels if "· Rp" in label]


async def choose_area(chatter: Chatter, kota: str, kecamatan: str, kelurahan: str) -> None:
    """Opens "Dekat saya" for the first time (or changes the area) and chooses one."""
    if "Ganti area" in " ".join(chatter.labels):
        await chatter.choose("Ganti area")
    else:
        await chatter.send("/dekat")
    assert "Pilih kota" in chatter.text, chatter.text
    await chatter.choose(kota)
    await chatter.choose(kecamatan)
    await chatter.choose(kelurahan)
    assert "Area Anda:" in chatter.text, chatter.text


async def test_a_resident_goes_from_kota_to_kelurahan_to_a_shops_catalog(
    app, budi: Chatter
) -> None:
    # A product the shop hides is neither counted nor listed.
    await db.set_product(app, "Dadar Gulung Unti isi 6", active=False)
    await budi.send("/start")
    assert "📍 Dekat saya" in budi.labels
    await budi.choose("Dekat saya")
    assert "Pilih kota" in budi.text
    assert budi.labels[:6] == [
        "Jakarta Pusat",
        "Jakarta Utara",
        "Jakarta Barat",
        "Jakarta Selatan",
        "Jakarta Timur",
        "Kepulauan Seribu",
    ]
    await budi.choose("Jakarta Pusat")
    assert "Jakarta Pusat — pilih kecamatan" in budi.text
    assert "Senen" in budi.labels and "Tebet" not in budi.labels
    await budi.choose("Senen")
    assert "Kecamatan Senen — pilih kelurahan" in budi.text
    assert budi.labels[0] == "Semua kelurahan"
    assert {"Kwitang", "Kramat", "Bungur"} <= set(budi.labels)
    await budi.choose("Kwitang")
    assert "📍 Area Anda: Kwitang, Senen, Jakarta Pusat" in budi.text
    assert "Toko UMKM di Kwitang, Senen, Jakarta Pusat" in budi.text
    assert budi.labels == ["Kue Basah Ibu Ratna · 3 produk", "🔄 Ganti area", "🏠 Menu"]

    await budi.choose("Kue Basah Ibu Ratna")
    assert "Kue Basah Ibu Ratna (Kwitang, Senen, Jakarta Pusat) — pilih produk" in budi.text
    names = [label.split(" · ")[0] for label in products_shown(budi)]
    assert len(names) == 3 and "Dadar Gulung Unti isi 6" not in names
    await budi.choose("Klepon")
    assert "Kue Basah Ibu Ratna — Kwitang, Senen, Jakarta Pusat" in budi.text
    await budi.choose("Kembali")
    assert "Kue Basah Ibu Ratna (Kwitang" in budi.text
    # Back to the area's shops, from where the shop was opened.
    assert budi.labels[-2:] == ["⬅️ Toko di area ini", "📚 Kategori"]
    await budi.choose("Toko di area ini")
    assert "Toko UMKM di Kwitang, Senen, Jakarta Pusat" in budi.text
    # Opened from a link after the catalog, the shop leads to the categories only.
    shop = (await db.product(app, "Dadar Gulung Unti isi 6")).merchant_id
    await budi.send("/katalog")
    await budi.send(f"/start m_{payloads.ID.write(shop)}")
    assert "Kue Basah Ibu Ratna (Kwitang" in budi.text
    assert "⬅️ Toko di area ini" not in budi.labels, budi.labels

    person = await budi.person()
    assert (person.area_kecamatan, person.area_kelurahan) == ("Senen", "Kwitang")


async def test_the_area_is_remembered_across_sessions_and_can_be_changed(
    app, budi: Chatter, settings: Settings, clock: Clock
) -> None:
    await choose_area(budi, "Jakarta Pusat", "Senen", "Kwitang")

    # Another process on the same database, another day: no question, straight to the shops.
    again = build_app(settings, clock)
    try:
        budi_again = Chatter(again, "console:budi")
        await budi_again.send("/dekat")
        assert "Pilih kota" not in budi_again.text
        assert "Toko UMKM di Kwitang, Senen, Jakarta Pusat" in budi_again.text
        assert budi_again.labels[0] == "Kue Basah Ibu Ratna · 4 produk"

        await budi_again.choose("Ganti area")
        await budi_again.choose("Jakarta Selatan")
        await budi_again.choose("Setiabudi")
        await budi_again.choose("Semua kelurahan")
        assert "Area Anda: Kecamatan Setiabudi, Jakarta Selatan" in budi_again.text
        # A shop imported without a kelurahan is found under its whole kecamatan.
        assert budi_again.labels[0] == "Konveksi Karet Jaya · 5 produk"
    finally:
        await again.close()

    await budi.send("/menu")
    await budi.choose("Dekat saya")
    assert "Toko UMKM di Kecamatan Setiabudi, Jakarta Selatan" in budi.text
    person = await budi.person()
    assert (person.area_kecamatan, person.area_kelurahan) == ("Setiabudi", None)


async def test_an_areas_shops_are_paged_by_name_forward_and_back(app, budi: Chatter) -> None:
    for n in range(1, 10):
        await db.add_shop(app, f"Warung Senen {n}", "Jakarta Pusat", "Senen", "Kramat", n)
    # A shop whose only product is hidden lists nothing, and is not shown.
    await db.add_shop(app, "Toko Kosong Senen", "Jakarta Pusat", "Senen", "Kramat", 0)
    # Two ratings, 4 and 5 stars.
    await db.set_merchant(app, "Kue Basah Ibu Ratna", rating_count=2, rating_sum=9)
    await choose_area(budi, "Jakarta Pusat", "Senen", "Semua kelurahan")
    first = [label for label in budi.labels if "produk" in label]
    assert first == [
        "Kue Basah Ibu Ratna · 4 produk · ⭐4,5",
        *(f"Warung Senen {n} · {n} produk" for n in range(1, 8)),
    ]
    assert "◀️ Sebelumnya" not in budi.labels
    await budi.choose("Berikutnya")
    second = [label for label in budi.labels if "produk" in label]
    assert second == ["Warung Senen 8 · 8 produk", "Warung Senen 9 · 9 produk"]
    assert "Berikutnya ▶️" not in budi.labels
    await budi.choose("Sebelumnya")
    assert [label for label in budi.labels if "produk" in label] == first

    # The kelurahan alone: only its shops.
    await choose_area(budi, "Jakarta Pusat", "Senen", "Kramat")
    shops = [label for label in budi.labels if "produk" in label]
    assert len(shops) == 8 and all(label.startswith("Warung Senen") for label in shops)


async def test_a_kelurahan_without_shops_says_so_and_offers_the_whole_kecamatan(
    budi: Chatter,
) -> None:
    await choose_area(budi, "Jakarta Pusat", "Senen", "Bungur")
    assert "Belum ada toko dengan produk di Bungur, Senen, Jakarta Pusat" in budi.text
    await budi.choose("Semua kelurahan")
    assert budi.labels[0] == "Kue Basah Ibu Ratna · 4 produk"


async def test_forged_area_payloads_are_refused_and_change_nothing(budi: Chatter) -> None:
    await choose_area(budi, "Jakarta Pusat", "Senen", "Kwitang")
    senen = kecamatan_list().index("Senen")
    forged = [
        "nb:k:6",  # a seventh kota
        "nb:k:999",
        "nb:d:44",  # a 45th kecamatan
        f"nb:a:{len(kecamatan_list())}:a",
        f"nb:a:{senen}:{len(kelurahan_by_kecamatan()['Senen'])}",  # no such kelurahan of Senen
        f"nb:a:{senen}:99:n:1",
    ]
    for payload in forged:
        await budi.send_payload(payload)
        assert "area itu tidak kami kenal" in budi.text, payload
        assert "📍 Dekat saya" in budi.labels
    person = await budi.person()
    assert (person.area_kecamatan, person.area_kelurahan) == ("Senen", "Kwitang")
    # A page cursor naming no shop starts from the first page.
    await budi.send_payload(payloads.NEARBY_PAGE(senen, None, "n", 999_999_999))
    assert budi.labels[0] == "Kue Basah Ibu Ratna · 4 produk"


async def check_out_for_delivery(chatter: Chatter, address: str) -> None:
    await add_to_cart(chatter, "klepon", "Klepon")
    await chatter.send("/checkout")
    await chatter.send("Budi Santoso")
    await chatter.send("0812 3456 7890")
    await chatter.choose("Diantar")
    await chatter.send(address)
    await chatter.choose("Bayar tunai")
    await chatter.choose("Pesan sekarang")
    assert "Terima kasih" in chatter.text, chatter.text


async def test_the_area_is_taken_from_a_delivery_address_naming_one_kelurahan(
    budi: Chatter, sari: Chatter
) -> None:
    await check_out_for_delivery(budi, "Jl. Kembang Raya No. 5 RT 02/RW 03, Kwitang, Senen")
    assert "📍 Area Anda kini Kwitang, Senen, Jakarta Pusat" in budi.text
    await budi.send("/dekat")
    assert "Toko UMKM di Kwitang, Senen, Jakarta Pusat" in budi.text

    # Two kelurahan named (Tebet Barat and Tebet Timur): no guess.
    await check_out_for_delivery(sari, "Jl. Tebet Barat Dalam 2, dekat Tebet Timur")
    assert "Area Anda kini" not in sari.text
    person = await sari.person()
    assert person.area_kecamatan is None
    await sari.send("/dekat")
    assert "Pilih kota" in sari.text


async def test_a_chosen_area_is_not_replaced_by_a_delivery_address(budi: Chatter) -> None:
    await choose_area(budi, "Jakarta Selatan", "Tebet", "Tebet Barat")
    await check_out_for_delivery(budi, "Jl. Kembang Raya No. 5, Kwitang, Senen")
    assert "Area Anda kini" not in budi.text
    person = await budi.person()
    assert (person.area_kecamatan, person.area_kelurahan) == ("Tebet", "Tebet Barat")


def name_of(label: str) -> str:
    """The start of a product's name in its label, long enough to tell products apart."""
    return label.removeprefix("📍 ").split(" · ")[0][:20]


async def test_a_category_marks_the_residents_kecamatan_without_changing_the_order(
    app, budi: Chatter, sari: Chatter
) -> None:
    senen = {p.name[:20] for p in await db.products(app) if p.merchant.kecamatan == "Senen"}
    # Klepon (curated) and Kue Lumpur (sold most) are on the first page, Senen's others later.
    await db.set_product(app, "Kue Lumpur Kentang isi 6", recent_sold=40)
    await choose_area(budi, "Jakarta Pusat", "Senen", "Kwitang")
    await budi.send("/katalog")
    await budi.choose("Makanan & Minuman")
    await sari.send("/katalog")
    await sari.choose("Makanan & Minuman")
    shown = products_shown(budi)
    marked = [name_of(label) for label in shown if label.startswith("📍 ")]
    assert marked and set(marked) <= senen
    assert not {name_of(label) for label in shown if not label.startswith("📍 ")} & senen
    assert "📍 dekat Anda: toko di Kecamatan Senen" in budi.text
    # Without `local_first` the order is everyone's: sari, with no area, sees the same.
    assert [label.removeprefix("📍 ") for label in products_shown(budi)] == products_shown(sari)
    assert not any(label.startswith("📍") for label in products_shown(sari))
    assert "dekat Anda" not in sari.text


async def walk(chatter: Chatter) -> list[list[str]]:
    """Every page of the open category, forward."""
    pages = [products_shown(chatter)]
    while "Berikutnya ▶️" in chatter.labels:
        # A keyset that lost its place would page forever.
        assert len(pages) < 40, pages
        await chatter.choose("Berikutnya")
        pages.append(products_shown(chatter))
    return pages


async def test_local_first_puts_the_kecamatan_first_within_a_rank_across_pages(
    database_url: str, clock: Clock
) -> None:
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        catalog=CatalogSettings(page_size=3, local_first=True),
    )
    async with demo_app(settings, clock) as app:
        # One rank for all but a curated product from elsewhere, which stays above.
        await db.set_products(app, curated=False, recent_sold=0)
        await db.set_product(app, "Kopi Luwak Liar 100 g", curated=True)
        await db.add_shop(app, "Warung Kramat", "Jakarta Pusat", "Senen", "Kramat", 1)
        budi = Chatter(app, "console:budi")
        await choose_area(budi, "Jakarta Pusat", "Senen", "Kwitang")
        await budi.send("/katalog")
        await budi.choose("Makanan & Minuman")
        pages = await walk(budi)

        category = [p for p in await db.products(app) if p.category.slug == "makanan-minuman"]
        listed = [p for p in category if p.active]
        expected = sorted(
            listed, key=lambda p: (not p.curated, p.merchant.kecamatan != "Senen", -p.id)
        )
        local = [p for p in expected if p.merchant.kecamatan == "Senen"]
        assert len(local) == 5  # Kue Basah Ibu Ratna's 4 and Warung Kramat's 1
        shown = [name_of(label) for page in pages for label in page]
        assert shown == [p.name[:20] for p in expected]
        assert expected[0].name == "Kopi Luwak Liar 100 g"
        # The curated product, then the five of Senen over pages 1 and 2, the second page
        # ending with the last of them: the third starts with the first product from elsewhere.
        assert [label.startswith("📍 ") for label in pages[0]] == [False, True, True]
        assert [label.startswith("📍 ") for label in pages[1]] == [True, True, True]
        assert not any(label.startswith("📍 ") for page in pages[2:] for label in page)
        assert all(len(page) == 3 for page in pages[:-1])
        assert len(shown) == len(set(shown)) == 31

        # And back, page by page, the same pages.
        for page in reversed(pages[:-1]):
            await budi.choose("Sebelumnya")
            assert products_shown(budi) == page


@pytest.mark.parametrize("page_size", [2, 3, 5])
async def test_local_first_pages_cross_ranks_the_local_boundary_and_the_demoted_both_ways(
    database_url: str, clock: Clock, page_size: int
) -> None:
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        catalog=CatalogSettings(page_size=page_size, local_first=True),
    )
    async with demo_app(settings, clock) as app:
        await db.add_shop(app, "Warung Kramat", "Jakarta Pusat", "Senen", "Kramat", 7)
        await db.add_shop(app, "Toko Tebet", "Jakarta Selatan", "Tebet", "Tebet Barat", 7)
        category = [p for p in await db.products(app) if p.category.slug == "makanan-minuman"]
        # Ranks of every size, some with local products only, some without, some with both,
        # and a demoted part holding both.
        for n, product in enumerate(category):
            await db.set_product(
                app,
                product.name,
                curated=n % 4 == 0,
                recent_sold=(0, 3, 3, 9, 0, 3)[n % 6] if n % 7 else 0,
                demoted=n % 5 == 2,
            )
        budi = Chatter(app, "console:budi")
        await choose_area(budi, "Jakarta Pusat", "Senen", "Kwitang")
        await budi.send("/katalog")
        await budi.choose("Makanan & Minuman")
        pages = await walk(budi)

        listed = [p for p in await db.products(app) if p.category.slug == "makanan-minuman"]
        listed = [p for p in listed if p.active]

        def local(p: Product) -> bool:
            return p.merchant.kecamatan == "Senen"

        def rank(p: Product) -> tuple[bool, bool, int]:
            return (p.demoted, p.curated, p.recent_sold)

        # A plain sort of all of them: not demoted, curated, most sold, from Senen, newest.
        expected = sorted(
            listed, key=lambda p: (p.demoted, not p.curated, -p.recent_sold, not local(p), -p.id)
        )
        labels = [label.split(" · ")[0] for page in pages for label in page]
        assert labels == [f"📍 {p.name}" if local(p) else p.name for p in expected]
        # The walk crosses what it should: ranks with products from Senen and from elsewhere
        # (the boundary within a rank), and from the products not demoted to the demoted.
        mixed = {rank(p) for p in expected if local(p)} & {
            rank(p) for p in expected if not local(p)
        }
        assert len(mixed) >= 3 and any(r[0] for r in mixed)
        assert not expected[0].demoted and expected[-1].demoted
        assert all(len(page) == page_size for page in pages[:-1])

        # And back, page by page, the same pages.
        for page in reversed(pages[:-1]):
            await budi.choose("Sebelumnya")
            assert products_shown(budi) == page
        assert "Sebelumnya" not in " ".join(budi.labels)


async def test_the_nearby_menu_is_in_english_too(app, budi: Chatter) -> None:
    await budi.send("/language")
    await budi.choose("English")
    assert "📍 Near me" in budi.labels
    await budi.send("/nearby")
    assert "Choose your kota" in budi.text
    await budi.choose("Jakarta Pusat")
    await budi.choose("Senen")
    await budi.choose("All kelurahan")
    assert "Your area: Kecamatan Senen, Jakarta Pusat" in budi.text
    assert budi.labels[0] == "Kue Basah Ibu Ratna · 4 products"
    await budi.send_payload("nb:k:42")
    assert "we don't know that area" in budi.text


def test_local_first_is_off_unless_the_file_or_the_environment_turns_it_on(
    monkeypatch: pytest.MonkeyPatch, env_without_jbl: None
) -> None:
    shipped = Path(__file__).parent.parent / "config.toml"
    assert load_settings(shipped).catalog.local_first is False
    monkeypatch.setenv("JBL_CATALOG__LOCAL_FIRST", "true")
    assert load_settings(shipped).catalog.local_first is True
