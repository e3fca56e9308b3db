"""One account on Telegram and WhatsApp: `/tautkan` gives a code on one channel, typing it on
the other joins the two chats into one person, `/lepas` parts them. The chats are driven as
the conversation gets them from each channel (the Telegram and WhatsApp fakes' own dialog is in
the last test)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from bot.bootstrap import App
from bot.cli.staff import add_staff
from models.links import LinkAttempt, LinkCode
from models.people import Identity, Role
from models.subscriptions import Subscription
from scheduler.jobs import refresh_ranking
from tests import db
from tests.conftest import Clock
from tests.dialogs import add_to_cart, order_for_pickup
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.test_broadcast import FRIDAY_7AM, fire_friday_job, rows
from tests.test_claim import SHOP_1_PHONE, whatsapp
from tests.test_nearby import choose_area
from tests.test_telegram import press, say, shown
from tests.whatsapp_bot import running_both

TG = "telegram:1001"
WA = "whatsapp:+6281234567890"


def code_in(text: str) -> str:
    found = re.search(r"Kode tautan Anda: ([0-9]{6})", text)
    assert found is not None, text
    return found[1]


async def ask_code(chatter: Chatter) -> str:
    await chatter.send("/tautkan")
    assert "dalam 10 menit" in chatter.text, chatter.text
    return code_in(chatter.text)


async def person_ids(app: App, *identities: str) -> list[int]:
    found = {i.identity: i.person_id for i in await rows(app, Identity)}
    return [found[identity] for identity in identities]


async def test_linking_joins_cart_orders_and_one_friday_broadcast(app: App, clock: Clock) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    await add_to_cart(tg, "kopi susu pandan", "Kopi Susu Pandan")
    await order_for_pickup(tg)
    [order] = await db.orders(app)
    await add_to_cart(tg, "kopi susu pandan", "Kopi Susu Pandan", 1)
    await tg.send("/langganan")
    await wa.send("/langganan")
    await add_to_cart(wa, "kopi susu pandan", "Kopi Susu Pandan", 2)
    await add_to_cart(wa, "jamu pegal", "Jamu Pegal Linu")
    await wa.send("/bahasa")
    await wa.choose("English")

    code = await ask_code(tg)
    # Raw codes are never stored.
    [stored] = await rows(app, LinkCode)
    assert code not in stored.code_hash
    await wa.send(code)
    assert "Accounts linked. On Telegram, WhatsApp you are now one account" in wa.text
    assert "where should we send it?" in wa.text
    assert wa.labels == ["Telegram", "WhatsApp"]
    await wa.choose("WhatsApp")
    assert "The Friday broadcast goes to WhatsApp." in wa.text
    # A forged choice of a chat the person does not have changes nothing.
    await wa.send_payload("lk:bc:console")
    assert "You have no chat in that app" in wa.text

    assert len(set(await person_ids(app, TG, WA))) == 1
    for chatter in (tg, wa):
        await chatter.send("/cart")
        assert "Kopi Susu Pandan 1 L — 3 ×" in chatter.text, chatter.text
        assert "Jamu Pegal Linu Serbuk isi 10 — 1 ×" in chatter.text
        await chatter.send("/orders")
        assert f"#{order.id} ·" in chatter.text, chatter.text
    # The language chosen on the chat that typed the code is the person's now.
    await tg.send("/help")
    assert "How to use Jumat Beli Lokal" in tg.text

    [subscription] = await rows(app, Subscription)
    assert subscription.identity == WA
    clock.now = FRIDAY_7AM
    [started] = await fire_friday_job(app)
    deliveries = [r for r in await db.outbox(app) if r.broadcast_id == started]
    assert [d.identity for d in deliveries] == [WA]


async def test_a_wrong_code_links_nothing(app: App) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    code = await ask_code(tg)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    await wa.send(f"/tautkan {wrong}")
    assert "Kode tautan itu salah" in wa.text
    await wa.send("/tautkan 12ab56")
    assert "terdiri dari 6 angka" in wa.text
    first, second = await person_ids(app, TG, WA)
    assert first != second
    # The right one still works afterwards.
    await wa.send(code)
    assert "Akun tertaut" in wa.text


async def test_an_expired_code_is_refused(app: App, clock: Clock) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    code = await ask_code(tg)
    clock.advance(timedelta(minutes=10, seconds=1))
    await wa.send(code)
    assert "sudah kedaluwarsa" in wa.text
    first, second = await person_ids(app, TG, WA)
    assert first != second


async def test_a_code_works_once(app: App) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    other = Chatter(app, "whatsapp:+6285600001111")
    code = await ask_code(tg)
    await wa.send(code)
    assert "Akun tertaut" in wa.text
    await other.send(code)
    assert "sudah dipakai" in other.text
    # Typed again by the chat it linked: nothing more happens.
    await wa.send(code)
    assert "sudah dipakai" in wa.text
    tg_person, wa_person, other_person = await person_ids(app, TG, WA, other.identity)
    assert tg_person == wa_person != other_person


async def test_one_code_typed_at_once_in_two_chats_links_one_of_them(app: App) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    other = Chatter(app, "whatsapp:+6285600001111")
    await wa.send("/start")
    await other.send("/start")
    code = await ask_code(tg)
    await asyncio.gather(wa.send(code), other.send(code))
    said = sorted(("Akun tertaut" in c.text, "sudah dipakai" in c.text) for c in (wa, other))
    assert said == [(False, True), (True, False)], (wa.text, other.text)
    tg_person, wa_person, other_person = await person_ids(app, TG, WA, other.identity)
    assert [tg_person == wa_person, tg_person == other_person].count(True) == 1
    [spent] = await rows(app, LinkCode)
    assert spent.used_by in (WA, other.identity)


async def test_a_new_code_replaces_the_last_one(app: App) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    first = await ask_code(tg)
    second = await ask_code(tg)
    if first != second:
        await wa.send(first)
        assert "sudah kedaluwarsa" in wa.text
    await wa.send(second)
    assert "Akun tertaut" in wa.text


async def test_a_code_typed_on_the_channel_that_asked_for_it_is_refused(app: App) -> None:
    tg, other_tg = Chatter(app, TG), Chatter(app, "telegram:2002")
    code = await ask_code(tg)
    await other_tg.send(code)
    assert "Kode ini dibuat di aplikasi ini" in other_tg.text
    await tg.send(code)
    assert "Kode ini dibuat di aplikasi ini" in tg.text
    first, second = await person_ids(app, TG, "telegram:2002")
    assert first != second


async def test_the_sixth_wrong_code_in_an_hour_is_refused_even_when_right(
    app: App, clock: Clock
) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    code = await ask_code(tg)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        await wa.send(wrong)
        assert "Kode tautan itu salah" in wa.text
    await wa.send(code)
    assert "Terlalu banyak kode yang salah. Silakan coba lagi nanti" in wa.text
    first, second = await person_ids(app, TG, WA)
    assert first != second
    # An hour after the first wrong try the limit has room again.
    clock.advance(timedelta(hours=1))
    code = await ask_code(tg)
    await wa.send(code)
    assert "Akun tertaut" in wa.text


async def test_the_nightly_job_forgets_codes_and_tries_a_day_after_they_end(
    app: App, clock: Clock
) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    code = await ask_code(tg)
    await wa.send(f"{(int(code) + 1) % 1_000_000:06d}")
    assert "Kode tautan itu salah" in wa.text
    await refresh_ranking(app.sessions, app.clock)
    assert (await db.count(app, LinkCode), await db.count(app, LinkAttempt)) == (1, 1)
    clock.advance(timedelta(days=1, minutes=11))
    await refresh_ranking(app.sessions, app.clock)
    assert (await db.count(app, LinkCode), await db.count(app, LinkAttempt)) == (0, 0)


async def test_two_merchants_shops_are_never_merged(app: App) -> None:
    await db.add_operator(app, 1, TG)
    await db.add_operator(app, 2, WA)
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    code = await ask_code(tg)
    await wa.send(code)
    assert "tidak bisa ditautkan: kedua akun mengelola toko yang berbeda" in wa.text
    first, second = await person_ids(app, TG, WA)
    assert first != second
    roles = await rows(app, Role, Role.person_id.in_([first, second]))
    assert {(r.person_id, r.merchant_id) for r in roles} == {(first, 1), (second, 2)}


async def test_a_shop_run_on_whatsapp_is_run_from_telegram_too_until_unlinked(
    app: App,
) -> None:
    await db.add_operator(app, 1, WA)
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    await add_to_cart(tg, "jamu pegal", "Jamu Pegal Linu")
    await tg.send("/toko")
    assert "untuk penjual" in tg.text
    code = await ask_code(tg)
    await wa.send(code)
    assert "Akun tertaut" in wa.text
    await tg.send("/toko")
    assert "Hari ini" in tg.text, tg.text

    await tg.send("/lepas")
    assert "Lepas tautan dengan WhatsApp?" in tg.text
    assert "Peran toko atau staf yang dibawa akun yang dilepas kembali ke akun itu" in tg.text
    await tg.choose("Ya, lepas tautan")
    assert "Tautan dengan WhatsApp dilepas" in tg.text
    first, second = await person_ids(app, TG, WA)
    assert first != second
    await tg.send("/toko")
    assert "untuk penjual" in tg.text
    await wa.send("/toko")
    assert "Hari ini" in wa.text, wa.text
    # What was joined stays with the account that asked for the code.
    await tg.send("/keranjang")
    assert "Jamu Pegal Linu" in tg.text
    await wa.send("/keranjang")
    assert "Jamu Pegal Linu" not in wa.text
    await wa.send("/lepas")
    assert "tidak tertaut dengan akun lain" in wa.text
    # The confirmation's button pressed again, or forged, parts nothing more.
    await tg.send_payload("lk:x!")
    assert "tidak tertaut dengan akun lain" in tg.text
    assert first != (await person_ids(app, WA))[0]


async def test_a_claim_waiting_for_staff_is_decided_for_the_linked_person(app: App) -> None:
    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    owner = whatsapp(app, SHOP_1_PHONE)
    await owner.send("halo")
    await owner.choose("Ya")
    assert "sudah dikelola orang lain" in owner.text
    tg = Chatter(app, TG)
    code = await ask_code(tg)
    await owner.send(code)
    assert "Akun tertaut" in owner.text
    await ana.read_notices()
    await ana.choose("Setujui")
    assert "disetujui" in ana.text
    await tg.send("/toko")
    assert "Hari ini" in tg.text, tg.text


async def test_linked_on_telegram_and_whatsapp_through_their_platforms(
    database_url: str, clock: Clock, tg: FakeTelegram, twilio: FakeTwilio
) -> None:
    async with running_both(database_url, clock, tg, twilio):
        on_wa = twilio.user("+6281234567890", "Budi")
        await on_wa.say("/cari kopi susu pandan")
        await on_wa.choose("Kopi Susu Pandan")
        added = await on_wa.say("Tambah 1")
        assert "masuk keranjang" in added.text

        # Telegram's command menu offers it.
        assert "tautkan" in [c["command"] for c in tg.commands["id"]]
        assert "link" in [c["command"] for c in tg.commands["en"]]
        on_tg = tg.user(1001, "Budi", language_code="id")
        asked = await say(on_tg, "/tautkan")
        code = code_in(shown(asked))
        wrong = await on_wa.say(f"{(int(code) + 1) % 1_000_000:06d}")
        assert "Kode tautan itu salah" in wrong.text
        linked = await on_wa.say(code[:3] + " " + code[3:])
        assert "Akun tertaut. Di Telegram, WhatsApp Anda kini satu akun" in linked.text
        cart = await say(on_tg, "/keranjang")
        assert "Kopi Susu Pandan 1 L — 1 ×" in shown(cart)

        asked = await say(on_tg, "/lepas")
        assert "Lepas tautan dengan WhatsApp?" in shown(asked)
        parted = await press(on_tg, "✅ Ya, lepas tautan")
        assert "Tautan dengan WhatsApp dilepas" in shown(parted)
        again = await on_wa.say("/lepas")
        assert "tidak tertaut dengan akun lain" in again.text


async def test_the_area_chosen_on_one_chat_is_the_linked_persons(app: App) -> None:
    tg, wa = Chatter(app, TG), Chatter(app, WA)
    await choose_area(wa, "Jakarta Pusat", "Senen", "Kwitang")
    await wa.send(await ask_code(tg))
    assert "Akun tertaut" in wa.text, wa.text
    await tg.send("/dekat")
    assert "Toko UMKM di Kwitang, Senen, Jakarta Pusat" in tg.text, tg.text
