"""Curation before listing: what a merchant adds, or whose name, description or photo they change,
waits for staff's review in /kurasi and is listed once approved; price, stock and hiding need no
review; the merchant is told every decision in their language and sees it in /stok."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.cli.curate import curate
from bot.cli.staff import add_staff
from bot.settings import CatalogSettings, DatabaseSettings, Settings
from handlers import payloads
from handlers.messages import Incoming
from models.catalog import Category, Review
from models.curation import Decision
from models.staff import StaffAction
from tests import db
from tests.conftest import Clock, demo_app
from tests.people import Chatter
from tests.test_search import found

OPERATOR = "console:penjual"  # runs merchant 1 in the demo


async def add_product(merchant: Chatter, name: str, *, english: bool = False) -> None:
    """`/produk` in six steps, with a photo address."""
    await merchant.send("/product" if english else "/produk")
    await merchant.send(name)
    await merchant.choose("Food & Drinks" if english else "Makanan & Minuman")
    await merchant.send("25000")
    await merchant.send("10")
    await merchant.send("Dibuat pagi hari." if not english else "Made every morning.")
    await merchant.send("https://contoh.co.id/foto/produk.jpg")


async def staff_actions(app: App) -> list[StaffAction]:
    """What staff decided on products (granting staff is recorded too)."""
    query = select(StaffAction).where(StaffAction.action.startswith("curate_"))
    return await db._all(app, query.order_by(StaffAction.id))


async def category_first(app: App, budi: Chatter) -> str:
    """The first product of Makanan & Minuman, as a resident sees the category."""
    async with app.sessions() as session:
        category = await session.scalar(select(Category).where(Category.slug == "makanan-minuman"))
        assert category is not None
    await budi.send_payload(payloads.CATEGORY(category.id))
    return found(budi)[0]


async def test_a_new_product_is_listed_only_once_staff_approve_it_in_kurasi(
    app: App, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    await add_product(penjual, "Kue Cubit Pandan Wangi")
    assert "Staf memeriksanya dulu" in penjual.text
    assert "⏳ menunggu kurasi staf" in penjual.text
    created = await db.product(app, "Kue Cubit Pandan Wangi")
    assert created.review_state == Review.WAITING

    await budi.send("/cari cubit pandan")
    assert "Kue Cubit Pandan Wangi" not in found(budi)
    await budi.send(f"/start p_{created.id}")
    assert "produk itu sudah tidak tersedia" in budi.text
    await penjual.send("/stok")
    assert "Kue Cubit Pandan Wangi · stok 10 · Rp25.000 · ⏳ menunggu kurasi staf" in penjual.text

    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    await ana.send("/kurasi")
    [card] = ana.replies
    assert card.text.startswith("🗂️ Kurasi — 1 produk menunggu")
    assert "Kue Cubit Pandan Wangi" in card.text and "Rp25.000" in card.text
    assert card.photo_url == "https://contoh.co.id/foto/produk.jpg"
    assert ana.labels == [
        "✅ Tayangkan",
        "✏️ Minta perbaikan",
        "❌ Tolak",
        "⭐ Pilihan kurator",
        "🏠 Menu",
    ]
    await ana.press("Tayangkan")
    assert "✅ Kue Cubit Pandan Wangi tayang di katalog." in ana.text
    assert "tidak ada produk yang menunggu" in ana.text

    await budi.send("/cari cubit pandan")
    assert "Kue Cubit Pandan Wangi" in found(budi)
    await penjual.read_notices()
    assert "Kue Cubit Pandan Wangi sudah diperiksa staf dan kini tayang di katalog" in penjual.text
    [action] = await staff_actions(app)
    assert (action.actor, action.action) == ("console:ana", "curate_approve")
    assert action.detail["product_id"] == created.id


async def test_the_queue_is_oldest_first_with_the_count_left(app: App, clock: Clock) -> None:
    penjual = Chatter(app, OPERATOR)
    for name in ("Onde Onde Wijen", "Lemper Ayam Suwir", "Kue Talam Ubi"):
        await add_product(penjual, name)
        clock.advance(timedelta(minutes=5))
    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    await ana.send("/curate")
    assert "3 produk menunggu" in ana.text and "Onde Onde Wijen" in ana.text
    await ana.press("Tayangkan")
    assert "2 produk menunggu" in ana.text and "Lemper Ayam Suwir" in ana.text


async def test_name_description_and_photo_changes_wait_again_but_price_stock_and_hiding_do_not(
    app: App, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    product = next(p for p in await db.products(app) if p.merchant_id == 1)
    await penjual.send_payload(payloads.SHOP_PRODUCT(product.id))
    await penjual.choose("Ubah stok")
    await penjual.send("33")
    await penjual.choose("Ubah harga")
    await penjual.send("30rb")
    await penjual.choose("Sembunyikan")
    await penjual.choose("Tampilkan")
    assert "tampil di katalog" in penjual.text
    assert (await db.product(app, product.name)).review_state == Review.LISTED
    assert await staff_actions(app) == []

    await penjual.choose("Ubah nama")
    await penjual.send("Kue Lapis Legit Ratna")
    assert "✅ Nama diubah." in penjual.text and "diperiksa staf dulu" in penjual.text
    renamed = await db.product(app, "Kue Lapis Legit Ratna")
    assert renamed.review_state == Review.WAITING
    await budi.send("/cari lapis legit ratna")
    assert "Kue Lapis Legit Ratna" not in found(budi)
    await curate(app, Decision.APPROVE, product.id, None)
    await budi.send("/cari lapis legit ratna")
    assert "Kue Lapis Legit Ratna" in found(budi)

    await penjual.send_payload(payloads.SHOP_PRODUCT(product.id))
    await penjual.choose("Ubah deskripsi")
    await penjual.send("Lapis legit 18 lapis, mentega asli.")
    assert (await db.product(app, "Kue Lapis Legit Ratna")).review_state == Review.WAITING
    await curate(app, Decision.APPROVE, product.id, None)

    await penjual.send_payload(payloads.SHOP_PRODUCT(product.id))
    await penjual.choose("Ubah foto")
    penjual.replies = await app.conversation.handle(
        Incoming(identity=OPERATOR, message_id="new-photo", photo="telegram:AgACnew")
    )
    assert "✅ Foto diubah." in penjual.text
    changed = await db.product(app, "Kue Lapis Legit Ratna")
    assert (changed.photo_url, changed.review_state) == ("telegram:AgACnew", Review.WAITING)


async def test_changes_asked_and_a_rejection_reach_each_merchant_in_their_language(
    app: App, clock: Clock, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    await db.add_operator(app, 2, "console:kate", "en")
    kate = Chatter(app, "console:kate")
    await add_product(kate, "Bika Ambon Medan", english=True)
    assert "Staff review it first" in kate.text
    clock.advance(timedelta(minutes=1))
    await add_product(penjual, "Kue Ape Jadul")

    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    await ana.send("/kurasi")
    assert "Bika Ambon Medan" in ana.text
    await ana.press("Minta perbaikan")
    assert "Perbaikan apa yang diminta dari penjual Bika Ambon Medan?" in ana.text
    await ana.send("x" * 501)
    assert "Catatan harus 1 sampai 500 karakter" in ana.text
    await ana.send("Fotonya buram; mohon foto yang terang.")
    assert "✏️ Perbaikan Bika Ambon Medan diminta dari penjual." in ana.text
    assert "Kue Ape Jadul" in ana.text
    await ana.press("Tolak")
    await ana.send("Bukan produk buatan sendiri.")
    assert "❌ Kue Ape Jadul ditolak." in ana.text

    await kate.read_notices()
    assert "Staff ask for changes to your product Bika Ambon Medan:" in kate.text
    assert "Fotonya buram; mohon foto yang terang." in kate.text
    await kate.send("/stock")
    assert "✏️ staff asked for changes: Fotonya buram; mohon foto yang terang." in kate.text
    await penjual.read_notices()
    assert "Produk Anda Kue Ape Jadul tidak bisa ditayangkan" in penjual.text
    assert "Bukan produk buatan sendiri." in penjual.text
    await penjual.send("/stok")
    assert "❌ ditolak staf: Bukan produk buatan sendiri." in penjual.text

    # The changes asked are made: the product waits again, staff see what they asked.
    bika = await db.product(app, "Bika Ambon Medan")
    await kate.send_payload(payloads.SHOP_PRODUCT(bika.id))
    await kate.choose("Change photo")
    await kate.send("https://contoh.co.id/foto/bika-terang.jpg")
    assert "Staff review this change first" in kate.text
    await ana.send("/kurasi")
    assert "Bika Ambon Medan" in ana.text
    assert "Catatan sebelumnya: Fotonya buram; mohon foto yang terang." in ana.text

    # A rejected product stays out, edited or not.
    ape = await db.product(app, "Kue Ape Jadul")
    await penjual.send_payload(payloads.SHOP_PRODUCT(ape.id))
    await penjual.choose("Ubah nama")
    await penjual.send("Kue Ape Pandan")
    assert (await db.product(app, "Kue Ape Pandan")).review_state == Review.REJECTED
    await budi.send("/cari kue ape")
    assert found(budi) == []
    assert [a.action for a in await staff_actions(app)] == ["curate_changes", "curate_reject"]


async def test_two_staff_members_on_one_card_one_wins_and_the_other_is_told(
    app: App,
) -> None:
    penjual = Chatter(app, OPERATOR)
    await add_product(penjual, "Kue Putu Bambu")
    await add_staff(app, "console:ana")
    await add_staff(app, "console:dewi")
    ana, dewi = Chatter(app, "console:ana"), Chatter(app, "console:dewi")
    await ana.send("/kurasi")
    await dewi.send("/kurasi")
    approve, pin = ana.button("Tayangkan"), dewi.button("Pilihan kurator")
    await asyncio.gather(ana.send_payload(approve), dewi.send_payload(pin))
    told = [c for c in (ana, dewi) if "baru saja diputuskan oleh staf lain" in c.text]
    assert len(told) == 1
    assert "tidak ada produk yang menunggu" in told[0].text
    [action] = await staff_actions(app)
    assert action.action in ("curate_approve", "curate_pin")
    assert (await db.product(app, "Kue Putu Bambu")).review_state == Review.LISTED

    # One asks for changes and is typing the note while the other lists the product.
    await add_product(penjual, "Kue Rangi Kelapa")
    await ana.send("/kurasi")
    await dewi.send("/kurasi")
    await dewi.press("Minta perbaikan")
    await ana.press("Tayangkan")
    await dewi.send("Harga terlalu tinggi?")
    assert "baru saja diputuskan oleh staf lain" in dewi.text
    rangi = await db.product(app, "Kue Rangi Kelapa")
    assert (rangi.review_state, rangi.review_note) == (Review.LISTED, None)
    assert len(await staff_actions(app)) == 2


async def test_a_merchant_edit_while_staff_look_makes_the_card_stale(app: App) -> None:
    penjual = Chatter(app, OPERATOR)
    await add_product(penjual, "Kue Pancong Lumer")
    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    await ana.send("/kurasi")
    approve = ana.button("Tayangkan")
    product = await db.product(app, "Kue Pancong Lumer")
    await penjual.send_payload(payloads.SHOP_PRODUCT(product.id))
    await penjual.choose("Ubah nama")
    await penjual.send("Kue Pancong Setengah Matang")
    await ana.send_payload(approve)
    assert "baru saja diputuskan oleh staf lain (atau diubah penjualnya)" in ana.text
    assert "Kue Pancong Setengah Matang" in ana.text
    assert await staff_actions(app) == []


async def test_someone_not_staff_is_refused_kurasi_and_its_forged_buttons(
    app: App, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    await add_product(penjual, "Kue Sagu Keju")
    product = await db.product(app, "Kue Sagu Keju")
    for person in (budi, penjual):
        await person.send("/kurasi")
        assert "Perintah /kurasi tidak dikenal" in person.text
        for forged in (
            payloads.CURATE(),
            payloads.CURATE_DECIDE(product.id, product.review_requested_at, "ok"),
            payloads.CURATE_DECIDE(product.id, product.review_requested_at, "pin"),
            payloads.CURATE_DECIDE(product.id, product.review_requested_at, "no"),
        ):
            await person.send_payload(forged)
            assert "Perintah /kurasi tidak dikenal" in person.text, forged
    for junk in ("cu:abc", "cu:1:2:maybe", f"cu:{product.id}:x:ok", "cu:" + "9" * 40 + ":0:ok"):
        await budi.send_payload(junk)
        assert "Tombol itu sudah tidak berlaku" in budi.text
    assert (await db.product(app, "Kue Sagu Keju")).review_state == Review.WAITING
    assert await staff_actions(app) == []


async def test_a_forged_decision_of_staff_on_a_product_not_waiting_changes_nothing(
    app: App,
) -> None:
    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    listed = (await db.products(app))[0]
    for forged in (
        payloads.CURATE_DECIDE(listed.id, None, "no"),
        payloads.CURATE_DECIDE(listed.id, None, "ok"),
        payloads.CURATE_DECIDE(999_999_999_999, None, "ok"),
    ):
        await ana.send_payload(forged)
        assert "baru saja diputuskan oleh staf lain" in ana.text
    assert (await db.product(app, listed.name)).review_state == Review.LISTED
    assert await staff_actions(app) == []


async def test_a_curators_pick_ranks_first_in_its_category(app: App, budi: Chatter) -> None:
    penjual = Chatter(app, OPERATOR)
    await add_product(penjual, "Kue Rangi Pilihan")
    await curate(app, Decision.APPROVE, (await db.product(app, "Kue Rangi Pilihan")).id, None)
    assert await category_first(app, budi) != "Kue Rangi Pilihan"

    await add_product(penjual, "Kue Cucur Pilihan")
    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    await ana.send("/kurasi")
    await ana.press("Pilihan kurator")
    assert "⭐ Kue Cucur Pilihan tayang sebagai pilihan kurator." in ana.text
    assert await category_first(app, budi) == "Kue Cucur Pilihan"
    await penjual.read_notices()
    assert "pilihan kurator" in penjual.text


@pytest.fixture
async def unreviewed(database_url: str, clock: Clock) -> AsyncIterator[App]:
    """The app with `[catalog] review_new_products = false`."""
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        catalog=CatalogSettings(review_new_products=False),
    )
    async with demo_app(settings, clock) as app:
        yield app


async def test_without_review_a_new_product_and_its_edits_are_listed_at_once(
    unreviewed: App,
) -> None:
    penjual, budi = Chatter(unreviewed, OPERATOR), Chatter(unreviewed, "console:budi")
    await add_product(penjual, "Kue Ku Merah")
    assert "✅ Produk baru sudah tampil di katalog." in penjual.text
    await penjual.choose("Ubah nama")
    await penjual.send("Kue Ku Kacang Hijau")
    assert "diperiksa staf" not in penjual.text
    await budi.send("/cari kue ku kacang")
    assert "Kue Ku Kacang Hijau" in found(budi)
