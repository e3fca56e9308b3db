"""Staff's rows written into the catalog: merchants by Jakpreneur id, products by merchant and
SKU. Importing the same rows twice changes nothing the second time, a dry run writes nothing,
and what is imported is what residents find."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.bootstrap import App
from models.catalog import Merchant, Product
from models.importing import (
    MerchantRecord,
    Outcome,
    ProductRecord,
    write_merchants,
    write_products,
)
from models.uow import UnitOfWork
from tests.people import Chatter
from tests.test_search import found

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SARI = MerchantRecord(
    jakpreneur_id="JKP-0001",
    name="Dapur Sari",
    owner_name="Sari Wulandari",
    phone="+6281299900001",
    kota="Jakarta Selatan",
    kecamatan="Tebet",
    kelurahan="Manggarai",
    address="Jl. Manggarai Utara 2",
    pickup=True,
    delivery=False,
    description="Sambal rumahan",
)
JOKO = replace(SARI, jakpreneur_id="JKP-0002", name="Bengkel Joko", phone=None)
SAMBAL = ProductRecord(
    jakpreneur_id="JKP-0001",
    sku="SMB-01",
    name="Sambal Cakalang Sari",
    category="makanan-minuman",
    price=35_000,
    unit="botol",
    stock=12,
    description="Pedas",
    photo_url=None,
    curated=True,
)


async def merchants(app: App, *rows: MerchantRecord, dry_run: bool = False) -> list[Outcome]:
    async with UnitOfWork(app.sessions) as uow:
        written = await write_merchants(uow.session, rows, NOW, dry_run=dry_run)
        await uow.commit()
    return written.outcomes


async def products(app: App, *rows: ProductRecord, dry_run: bool = False) -> tuple[Any, Any]:
    async with UnitOfWork(app.sessions) as uow:
        written = await write_products(uow.session, rows, NOW, dry_run=dry_run)
        await uow.commit()
    return written.outcomes, written.errors


async def stored(app: App) -> list[tuple[object, ...]]:
    """Every imported merchant and product as stored, to compare before and after."""
    async with app.sessions() as session:
        shops = await session.execute(
            select(Merchant.jakpreneur_id, Merchant.name, Merchant.contact_phone, Merchant.address)
            .where(Merchant.jakpreneur_id.is_not(None))
            .order_by(Merchant.jakpreneur_id)
        )
        items = await session.execute(
            select(Product.sku, Product.name, Product.price, Product.stock, Product.search_text)
            .where(Product.sku.is_not(None))
            .order_by(Product.sku)
        )
        return [*shops.all(), *items.all()]


async def test_the_same_rows_imported_twice_change_nothing_the_second_time(app: App) -> None:
    assert await merchants(app, SARI, JOKO) == [Outcome.CREATED, Outcome.CREATED]
    assert await products(app, SAMBAL) == ([Outcome.CREATED], {})
    before = await stored(app)
    assert await merchants(app, SARI, JOKO) == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert await products(app, SAMBAL) == ([Outcome.UNCHANGED], {})
    assert await stored(app) == before
    cheaper = replace(SAMBAL, price=30_000)
    assert await products(app, cheaper) == ([Outcome.UPDATED], {})
    assert (await stored(app))[2][2] == 30_000


async def test_what_a_file_leaves_out_is_kept_or_defaulted(app: App) -> None:
    bare = replace(JOKO, address=None, pickup=None, delivery=None, description=None)
    assert await merchants(app, SARI, bare) == [Outcome.CREATED, Outcome.CREATED]
    async with app.sessions() as session:
        joko = await session.scalar(select(Merchant).where(Merchant.jakpreneur_id == "JKP-0002"))
        assert joko is not None
        assert (joko.address, joko.pickup, joko.delivery, joko.description) == ("", True, False, "")
    # Sari's file says nothing of her address and delivery this time: they stay.
    assert await merchants(app, replace(SARI, address=None, delivery=None)) == [Outcome.UNCHANGED]
    assert (await stored(app))[0][3] == "Jl. Manggarai Utara 2"


async def test_a_dry_run_finds_the_same_outcomes_and_writes_nothing(app: App) -> None:
    await merchants(app, SARI)
    before = await stored(app)
    async with app.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Merchant))
    moved = replace(SARI, address="Jl. Tebet Raya 1")
    assert await merchants(app, moved, JOKO, dry_run=True) == [Outcome.UPDATED, Outcome.CREATED]
    assert await products(app, SAMBAL, dry_run=True) == ([Outcome.CREATED], {})
    assert await stored(app) == before
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Merchant)) == count


async def test_a_phone_that_names_another_shop_is_refused(app: App) -> None:
    # The demo's first shop, made without the program's id, has this phone.
    taken = replace(SARI, phone="+6281234500001")
    twice = replace(JOKO, phone=SARI.phone)
    async with UnitOfWork(app.sessions) as uow:
        written = await write_merchants(uow.session, [taken, JOKO, SARI, twice], NOW, dry_run=False)
        await uow.commit()
    assert written.outcomes == [Outcome.REFUSED, Outcome.CREATED, Outcome.CREATED, Outcome.REFUSED]
    assert written.errors == {0: "import_phone_taken", 3: "import_phone_taken"}
    assert [row[:3] for row in await stored(app)] == [
        ("JKP-0001", "Dapur Sari", "+6281299900001"),
        ("JKP-0002", "Bengkel Joko", None),
    ]


async def test_a_product_of_an_unknown_merchant_or_category_is_refused(app: App) -> None:
    await merchants(app, SARI)
    stray = replace(SAMBAL, jakpreneur_id="JKP-9999")
    odd = replace(SAMBAL, sku="SMB-02", category="Elektronik")
    by_name = replace(SAMBAL, sku="SMB-03", category="MAKANAN & MINUMAN")
    outcomes, errors = await products(app, stray, odd, by_name)
    assert outcomes == [Outcome.REFUSED, Outcome.REFUSED, Outcome.CREATED]
    assert errors == {0: "import_unknown_merchant", 1: "import_unknown_category"}


async def test_residents_find_an_imported_product_and_its_shop_by_its_new_name(
    app: App, budi: Chatter
) -> None:
    await merchants(app, SARI)
    await products(app, SAMBAL)
    await budi.send("/cari sambal cakalang")
    assert "Sambal Cakalang Sari" in found(budi)
    await budi.send("/cari sarirasa")
    assert found(budi) == []
    assert await merchants(app, replace(SARI, name="Warung Sarirasa")) == [Outcome.UPDATED]
    await budi.send("/cari sarirasa")
    assert found(budi) == ["Sambal Cakalang Sari"]
