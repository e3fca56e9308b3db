"""A resident looks for products by typing words."""

from __future__ import annotations

from tests import db
from tests.people import Chatter


def found(chatter: Chatter) -> list[str]:
    return [label.split(" · ")[0] for label in chatter.labels if "· Rp" in label]


async def test_search_by_command_matches_word_prefixes_in_any_case(app, budi: Chatter) -> None:
    await budi.send("/cari KOP")
    assert "Hasil pencarian “kop”" in budi.text
    names = found(budi)
    texts = {p.name: p.search_text.lower().split() for p in await db.products(app)}
    assert len(names) == 8
    assert all(any(word.startswith("kop") for word in texts[name]) for name in names)


async def test_search_after_choosing_cari_and_paging(budi: Chatter) -> None:
    await budi.send("/start")
    await budi.choose("Cari")
    assert "Ketik nama produk" in budi.text
    await budi.send("kopi")
    first = found(budi)
    assert len(first) == 8
    await budi.choose("Berikutnya")
    second = found(budi)
    assert second and not set(first) & set(second)
    await budi.choose("Sebelumnya")
    assert found(budi) == first


async def test_every_word_must_match(budi: Chatter) -> None:
    await budi.send("/cari madu hitam")
    assert found(budi) == ["Madu Hitam Pahit 350 g"]


async def test_search_matches_merchant_and_category_names(budi: Chatter) -> None:
    await budi.send("/cari warsih")
    assert "Jamu Pegal Linu Serbuk isi 10" in found(budi)
    await budi.send("/cari kesehatan")
    assert len(found(budi)) == 8


async def test_hidden_products_are_not_found(app, budi: Chatter) -> None:
    await db.set_product(app, "Madu Hitam Pahit 350 g", active=False)
    await budi.send("/cari madu hitam")
    assert found(budi) == []
    assert "Tidak ada produk untuk “madu hitam”" in budi.text


async def test_search_syntax_typed_by_people_is_plain_text(budi: Chatter) -> None:
    for query in ['"kopi" OR *', "kopi AND NOT", "kopi:*", "'; DROP TABLE products; --", "(*)"]:
        await budi.send(f"/cari {query}")
        assert (
            "Hasil pencarian" in budi.text
            or "Tidak ada produk" in budi.text
            or ("Ketik nama produk" in budi.text)
        )
    await budi.send("/cari kopi")
    assert found(budi)


async def test_search_with_no_words_asks_again(budi: Chatter) -> None:
    await budi.send("/cari")
    await budi.send("?!")
    assert "Ketik nama produk" in budi.text


async def test_results_come_in_catalog_order_and_follow_changes(app, budi: Chatter) -> None:
    await db.set_product(app, "Kopi Drip Bag isi 10", curated=True, recent_sold=500)
    await budi.send("/cari kopi")
    assert found(budi)[0] == "Kopi Drip Bag isi 10"
    curated = {p.name for p in await db.products(app) if p.curated}
    flags = [name in curated for name in found(budi)]
    assert flags == sorted(flags, reverse=True)  # curated before the rest
    await db.set_product(app, "Kopi Drip Bag isi 10", curated=False, recent_sold=0)
    await budi.send("/cari kopi drip")
    assert found(budi) == ["Kopi Drip Bag isi 10"]
    await budi.send("/cari kopi")
    assert found(budi)[0] != "Kopi Drip Bag isi 10"
