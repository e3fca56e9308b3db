"""Merchants take over their imported shop on Telegram by sharing their own contact: the real
`jbl run` and python-telegram-bot against the fake Bot API. Only a contact whose user id is the
sender's counts; anyone else's number, or a phone-book entry, is refused and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.cli.staff import add_staff
from models.claims import APPROVED, CLAIMED
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeMessage, FakeTelegram, TelegramUser, keyboard_buttons
from tests.telegram_bot import Running, running_jbl
from tests.test_claim import claims, operators, staff_actions
from tests.test_telegram import check_out_for_pickup, press, say, shown

SHARE = "📱 Kirim nomor saya"
STAFF_CHAT = 6006


@pytest.fixture
async def jbl(database_url: str, clock: Clock, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running_jbl(database_url, clock, tg) as running:
        yield running


def share_button(message: FakeMessage) -> dict[str, object]:
    """The reply keyboard's first button, where Telegram's "share my number" goes."""
    return keyboard_buttons(message.reply_markup)[0]


async def share_own(user: TelegramUser, phone: str, label: str = SHARE) -> FakeMessage:
    """Taps the keyboard's share button: Telegram sends the person's own contact."""
    user.phone = phone
    return await user.wait_for_reply(user.tap_keyboard(label))


async def test_the_owner_shares_their_own_contact_confirms_and_gets_the_orders(
    jbl: Running, tg: FakeTelegram
) -> None:
    owner = tg.user(3001, "Sekar", language_code="id")
    shop = await say(owner, "/toko")
    assert "untuk penjual" in shown(shop)
    assert "Toko Anda terdaftar di Jakpreneur?" in shown(shop)
    assert share_button(shop) == {"text": SHARE, "request_contact": True}
    # Telegram gives the number without its plus.
    asked = await share_own(owner, "6281234500002")
    assert "Anda pemilik Batik Tulis Griya Sekar (Kebon Kacang, Tanah Abang" in shown(asked)
    assert asked.buttons == ["✅ Ya", "❌ Bukan"]
    done = await press(owner, "✅ Ya")
    assert "Anda sekarang pengelola Batik Tulis Griya Sekar" in shown(done)
    [claim] = await claims(jbl.app)
    assert (claim.status, claim.phone) == (CLAIMED, "+6281234500002")
    dashboard = await say(owner, "/toko")
    assert "🏪 Batik Tulis Griya Sekar" in shown(dashboard)

    budi = tg.user(1001, "Budi")
    product = next(p for p in await db.products(jbl.app) if p.merchant_id == 2)
    await say(budi, f"/start p_{product.id}")
    await press(budi, "➕ Tambah 1")
    await check_out_for_pickup(budi)
    await tg.wait_for(
        lambda: "Pesanan baru #1 dari Budi Santoso" in shown(owner.last), what="the notice"
    )
    assert owner.last.buttons[:2] == ["✅ Terima", "❌ Tolak"]


async def test_a_contact_that_is_not_the_senders_own_is_refused_and_changes_nothing(
    jbl: Running, tg: FakeTelegram
) -> None:
    someone = tg.user(3002, "Joko", language_code="id")
    asked = await say(someone, "/klaim")
    assert "kirim nomor HP akun ini" in shown(asked)
    assert share_button(asked) == {"text": SHARE, "request_contact": True}
    # The shop's owner's contact, forwarded from a chat with them: another user id.
    forwarded = await someone.wait_for_reply(someone.send_contact("+6281234500002", 3999))
    assert "bukan nomor akun Anda sendiri" in shown(forwarded)
    assert "Tidak ada yang diubah" in shown(forwarded)
    # The same number from the phone book: no user id at all.
    typed = await someone.wait_for_reply(someone.send_contact("+6281234500002", None))
    assert "bukan nomor akun Anda sendiri" in shown(typed)
    assert share_button(typed) == {"text": SHARE, "request_contact": True}
    assert await claims(jbl.app) == []
    assert await operators(jbl.app, 2) == []
    # Their own number, which is no shop's.
    own = await share_own(someone, "+6281299990000")
    assert "0812-9999-0000 tidak terdaftar" in shown(own)
    assert await claims(jbl.app) == []


async def test_a_claim_in_english_of_a_shop_someone_runs_is_approved_by_staff_in_chat(
    jbl: Running, tg: FakeTelegram
) -> None:
    await add_staff(jbl.app, f"telegram:{STAFF_CHAT}")
    staff = tg.user(STAFF_CHAT, "Ana", language_code="id")
    await say(staff, "/start")
    ratna = tg.user(3003, "Ratna", language_code="en")
    # The announcement's link for shop 1.
    asked = await say(ratna, "/start klaim_1")
    assert "send this account's phone number" in shown(asked)
    question = await share_own(ratna, "+6281234500001", "📱 Send my number")
    assert "Are you the owner of Kue Basah Ibu Ratna (Kwitang, Senen, Jakarta Pusat)?" in (
        shown(question)
    )
    waiting = await press(ratna, "✅ Yes")
    assert "already run by someone else" in shown(waiting)

    await tg.wait_for(lambda: "Permintaan #1" in shown(staff.last), what="staff's notice")
    assert "Ratna (0812-3450-0001) ingin mengelola Kue Basah Ibu Ratna" in shown(staff.last)
    assert staff.last.buttons == ["✅ Setujui", "❌ Tolak"]
    approved = await press(staff, "✅ Setujui")
    assert "Permintaan #1 disetujui" in shown(approved)
    await tg.wait_for(
        lambda: "Staff approved your request" in shown(ratna.last), what="the outcome"
    )
    assert "you now run Kue Basah Ibu Ratna" in shown(ratna.last)
    assert [c.status for c in await claims(jbl.app)] == [APPROVED]
    assert len(await operators(jbl.app, 1)) == 2
    [action] = await staff_actions(jbl.app)
    assert (action.action, action.actor) == ("claim_approve", f"telegram:{STAFF_CHAT}")
    shop = await say(ratna, "/shop")
    assert "🏪 Kue Basah Ibu Ratna" in shown(shop)
