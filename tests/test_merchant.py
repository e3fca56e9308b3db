"""Merchants run their side of each order in chat: they join with an invite, get the order,
accept or reject it, mark it ready or shipped and completed; the buyer hears of every step."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.bootstrap import App
from handlers.money import format_rupiah
from models.invites import create_invite
from models.ordering import CANCELLED, COMPLETED, CONFIRMED, EXPIRED, PENDING, REJECTED
from models.uow import UnitOfWork
from scheduler.jobs import sweep_orders
from tests import db
from tests.conftest import Clock
from tests.dialogs import order_for_pickup
from tests.people import Chatter

# The demo's operator of merchant 1.
OPERATOR = "console:penjual"


async def order_from_merchant(app: App, budi: Chatter, merchant_id: int = 1) -> int:
    product = next(p for p in await db.products(app) if p.merchant_id == merchant_id)
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)
    return (await db.orders(app))[-1].id


async def stock_of_order(app: App, order_id: int) -> int:
    order = next(o for o in await db.orders(app) if o.id == order_id)
    product = next(p for p in await db.products(app) if p.name == order.items[0].name)
    return product.stock


async def invite_code(app: App, merchant_id: int, clock: Clock) -> str:
    async with UnitOfWork(app.sessions) as uow:
        invite = await create_invite(uow.session, merchant_id, clock(), timedelta(days=7))
        await uow.commit()
        return invite.code


async def test_a_pickup_order_goes_from_new_to_completed_with_the_buyer_told_each_step(
    app: App, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await order_from_merchant(app, budi)

    [notice] = await penjual.read_notices()
    assert f"Pesanan baru #{order_id} dari Budi Santoso" in notice.text
    assert [b.label for b in notice.buttons][:2] == ["✅ Terima", "❌ Tolak"]
    await penjual.choose("Terima")
    assert f"Pesanan #{order_id} diterima" in penjual.text
    [told] = await budi.read_notices()
    assert f"Pesanan #{order_id} diterima oleh" in told.text

    await penjual.choose("Siap diambil")
    [told] = await budi.read_notices()
    assert "siap diambil" in told.text
    await penjual.choose("Selesai")
    [told] = await budi.read_notices()
    assert "selesai" in told.text
    [order] = await db.orders(app)
    assert order.status == COMPLETED
    # Nothing more to do with it.
    assert "Selesai" not in " ".join(penjual.labels)


async def test_a_rejection_with_a_typed_reason_returns_the_stock(app: App, budi: Chatter) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await order_from_merchant(app, budi)
    before = await stock_of_order(app, order_id)
    await penjual.read_notices()
    await penjual.choose("Tolak")
    assert "Kenapa pesanan" in penjual.text
    await penjual.send("Bahan baku habis hari ini")
    assert "ditolak dan stoknya dikembalikan" in penjual.text
    [told] = await budi.read_notices()
    assert told.text.endswith(": Bahan baku habis hari ini")
    assert await stock_of_order(app, order_id) == before + 1
    assert (await db.orders(app))[0].status == REJECTED


async def test_another_shops_order_and_forged_moves_are_refused_and_change_nothing(
    app: App, budi: Chatter, sari: Chatter
) -> None:
    order_id = await order_from_merchant(app, budi)
    # Sari runs merchant 2, not merchant 1 whose order this is.
    await db.add_operator(app, 2, sari.identity)
    for forged in (f"mv:{order_id}:confirm", f"mr:{order_id}:stock", f"mo:{order_id}"):
        await sari.send_payload(forged)
        assert "tidak ditemukan di toko Anda" in sari.text
    # A resident who runs no shop at all.
    await budi.send_payload(f"mv:{order_id}:confirm")
    assert "tidak ditemukan di toko Anda" in budi.text
    assert (await db.orders(app))[0].status == PENDING


async def test_illegal_moves_are_explained(app: App, budi: Chatter) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await order_from_merchant(app, budi)
    await penjual.send_payload(f"mv:{order_id}:complete")
    assert "tidak bisa diubah lagi: statusnya sekarang Menunggu konfirmasi" in penjual.text
    await penjual.send_payload(f"mv:{order_id}:ship")  # a pickup order is never shipped
    assert "tidak cocok" in penjual.text
    await budi.send("/pesanan")
    await budi.choose(f"#{order_id}")
    await budi.choose("Batalkan")
    await budi.choose("Ya")
    await penjual.send_payload(f"mv:{order_id}:confirm")
    assert "statusnya sekarang Dibatalkan" in penjual.text
    assert (await db.orders(app))[0].status == CANCELLED


@pytest.mark.parametrize("trial", range(3))
async def test_buyer_cancelling_while_the_merchant_accepts_one_wins(
    app: App, budi: Chatter, trial: int
) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await order_from_merchant(app, budi)
    before = await stock_of_order(app, order_id)
    await asyncio.gather(
        budi.send_payload(f"ox:{order_id}:y"), penjual.send_payload(f"mv:{order_id}:confirm")
    )
    [order] = await db.orders(app)
    assert order.status in (CANCELLED, CONFIRMED)
    if order.status == CANCELLED:
        assert "statusnya sekarang Dibatalkan" in penjual.text
        assert await stock_of_order(app, order_id) == before + 1
    else:
        assert "statusnya sekarang Dikonfirmasi" in budi.text
        assert await stock_of_order(app, order_id) == before


async def test_two_operators_pressing_at_once_one_wins(app: App, budi: Chatter) -> None:
    first, second = Chatter(app, OPERATOR), Chatter(app, "console:ibu")
    await db.add_operator(app, 1, second.identity)
    order_id = await order_from_merchant(app, budi)
    await asyncio.gather(
        first.send_payload(f"mv:{order_id}:confirm"), second.send_payload(f"mr:{order_id}:stock")
    )
    [order] = await db.orders(app)
    assert order.status in (CONFIRMED, REJECTED)
    loser = second if order.status == CONFIRMED else first
    assert "tidak bisa diubah lagi" in loser.text
    assert len(await budi.read_notices()) == 1


async def test_an_invite_makes_an_operator_once_and_hands_over_held_orders(
    app: App, budi: Chatter, sari: Chatter, clock: Clock
) -> None:
    # Merchant 3 has no operator yet: its order waits.
    order_id = await order_from_merchant(app, budi, merchant_id=3)
    code = await invite_code(app, 3, clock)
    await sari.send(f"/gabung {code.lower()}")
    assert "Anda sekarang pengelola" in sari.text
    [notice] = await sari.read_notices()
    assert f"Pesanan baru #{order_id}" in notice.text
    await sari.send("/pesanan_toko")
    assert f"#{order_id}" in sari.text

    ani = Chatter(app, "console:ani")
    await ani.send(f"/gabung {code}")
    assert "sudah dipakai" in ani.text
    await ani.send("/gabung ZZZZZZZZZZ")
    assert "tidak dikenal" in ani.text
    late = await invite_code(app, 3, clock)
    clock.advance(timedelta(days=8))
    await ani.send(f"/start join_{late}")
    assert "kedaluwarsa" in ani.text
    await ani.send("/pesanan_toko")
    assert "untuk penjual" in ani.text


async def sweep(app: App, clock: Clock) -> tuple[list[int], list[int]]:
    return await sweep_orders(app.sessions, clock, timedelta(hours=2), timedelta(hours=24))


async def test_a_waiting_order_is_reminded_once_then_expires_with_its_stock_back(
    app: App, budi: Chatter, clock: Clock
) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await order_from_merchant(app, budi)
    before = await stock_of_order(app, order_id)
    await penjual.read_notices()

    clock.advance(timedelta(hours=1, minutes=59))
    assert await sweep(app, clock) == ([], [])
    clock.advance(timedelta(minutes=1))
    assert await sweep(app, clock) == ([order_id], [])
    [reminder] = await penjual.read_notices()
    assert f"Pesanan #{order_id} masih menunggu" in reminder.text
    assert "✅ Terima" in penjual.labels
    clock.advance(timedelta(hours=1))
    assert await sweep(app, clock) == ([], [])  # never twice

    clock.advance(timedelta(hours=21))
    assert await sweep(app, clock) == ([], [order_id])
    assert await sweep(app, clock) == ([], [])
    assert (await db.orders(app))[0].status == EXPIRED
    assert await stock_of_order(app, order_id) == before + 1
    [told] = await budi.read_notices()
    assert "kedaluwarsa" in told.text and "tidak ada yang perlu dibayar" in told.text
    [shop_told] = await penjual.read_notices()
    assert "kedaluwarsa" in shop_told.text
    # Too late to accept it now.
    await penjual.send_payload(f"mv:{order_id}:confirm")
    assert "statusnya sekarang Kedaluwarsa" in penjual.text


async def test_an_accepted_order_neither_reminds_nor_expires(
    app: App, budi: Chatter, clock: Clock
) -> None:
    penjual = Chatter(app, OPERATOR)
    order_id = await order_from_merchant(app, budi)
    await penjual.send_payload(f"mv:{order_id}:confirm")
    clock.advance(timedelta(days=3))
    assert await sweep(app, clock) == ([], [])
    assert (await db.orders(app))[0].status == CONFIRMED


async def test_the_shop_dashboard_counts_orders_units_and_omzet(
    app: App, budi: Chatter, clock: Clock
) -> None:
    penjual = Chatter(app, OPERATOR)
    first = await order_from_merchant(app, budi)
    second = await order_from_merchant(app, budi)
    await penjual.send_payload(f"mv:{first}:confirm")
    await penjual.send_payload(f"mr:{second}:stock")
    totals = {o.id: o.total for o in await db.orders(app)}
    await penjual.send("/toko")
    today = penjual.text.split("\n\n")[1]
    assert today.startswith("Hari ini, Selasa, 24 November 2026: 2 pesanan")
    assert "Dikonfirmasi penjual 1" in today and "Ditolak penjual 1" in today
    assert today.endswith(f"1 unit · omzet {format_rupiah(totals[first])}")
    assert "Jumat ini, Jumat, 27 November 2026: 0 pesanan" in penjual.text
    await budi.send("/toko")
    assert "untuk penjual" in budi.text


async def complete(app: App, budi: Chatter, penjual: Chatter) -> int:
    order_id = await order_from_merchant(app, budi)
    for move in ("confirm", "ready", "complete"):
        await penjual.send_payload(f"mv:{order_id}:{move}")
    return order_id


async def test_the_buyer_rates_a_completed_order_once_and_the_rating_shows_on_products(
    app: App, budi: Chatter, sari: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    pending = await order_from_merchant(app, budi)
    await budi.send_payload(f"rt:{pending}:5")
    assert "belum selesai" in budi.text

    order_id = await complete(app, budi, penjual)
    told = await budi.read_notices()
    assert "Beri bintang" in told[-1].text
    assert budi.labels == ["⭐", "⭐⭐", "⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐⭐⭐"]
    await budi.send("4")
    assert "Terima kasih atas ⭐⭐⭐⭐!" in budi.text
    await budi.send("Kuenya enak, penjualnya ramah.")
    assert "Komentar Anda tersimpan" in budi.text
    await budi.send_payload(f"rt:{order_id}:1")
    assert "sudah Anda nilai" in budi.text
    await sari.send_payload(f"rt:{order_id}:1")
    assert "tidak ditemukan" in sari.text

    product = next(p for p in await db.products(app) if p.merchant_id == 1)
    await sari.send(f"/start p_{product.id}")
    assert "⭐ 4,0 / 5 (1 ulasan)" in sari.text
