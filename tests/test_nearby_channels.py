""" "📍 Dekat saya" on WhatsApp (numbered menus through the fake Twilio) and Telegram (buttons
through the fake Bot API), against the real `jbl run`."""

from __future__ import annotations

from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.telegram_bot import running_jbl
from tests.whatsapp_bot import running_whatsapp

BUDI = "+6281234567890"


async def test_on_whatsapp_a_resident_chooses_their_area_by_number_and_opens_a_shop(
    database_url: str, clock: Clock, twilio: FakeTwilio
) -> None:
    async with running_whatsapp(database_url, clock, twilio):
        budi = twilio.user(BUDI, "Budi")
        welcome = await budi.say("halo")
        assert welcome.menu[2] == "📍 Dekat saya"
        kota = await budi.say("3")
        assert "Pilih kota" in kota.text
        assert kota.menu[0] == "Jakarta Pusat"
        kecamatan = await budi.choose("Jakarta Pusat")
        assert "pilih kecamatan" in kecamatan.text
        kelurahan = await budi.choose("Senen")
        assert kelurahan.menu[0] == "Semua kelurahan"
        shops = await budi.choose("Kwitang")
        assert "Area Anda: Kwitang, Senen, Jakarta Pusat" in shops.text
        assert shops.menu[:2] == ["Kue Basah Ibu Ratna · 4 produk", "🔄 Ganti area"]
        # The label typed instead of its number chooses too.
        catalog = await budi.say("Kue Basah Ibu Ratna 4 produk")
        assert "Kue Basah Ibu Ratna (Kwitang, Senen, Jakarta Pusat)" in catalog.text
        assert len([line for line in catalog.menu if "· Rp" in line]) == 4

        # Remembered: the next time goes straight to the shops, and the area can change.
        again = await budi.say("/dekat")
        assert "Toko UMKM di Kwitang, Senen, Jakarta Pusat" in again.text
        changed = await budi.choose("Ganti area")
        assert "Pilih kota" in changed.text


async def test_on_telegram_a_resident_presses_through_to_a_shop_and_is_remembered(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with running_jbl(database_url, clock, tg):
        budi = tg.user(1001, "Budi", language_code="id")
        await budi.wait_for_reply(budi.send("/start"))
        kota = await budi.wait_for_reply(budi.press("📍 Dekat saya"))
        assert "Pilih kota" in (kota.text or "")
        await budi.wait_for_reply(budi.press("Jakarta Timur"))
        await budi.wait_for_reply(budi.press("Jatinegara"))
        shops = await budi.wait_for_reply(budi.press("Kampung Melayu"))
        assert "Area Anda: Kampung Melayu, Jatinegara, Jakarta Timur" in (shops.text or "")
        assert shops.buttons[0] == "Jamu Racik Bu Warsih · 5 produk"
        catalog = await budi.wait_for_reply(budi.press(shops.buttons[0]))
        assert "Jamu Racik Bu Warsih (Kampung Melayu" in (catalog.text or "")

        again = await budi.wait_for_reply(budi.send("/dekat"))
        assert "Toko UMKM di Kampung Melayu, Jatinegara, Jakarta Timur" in (again.text or "")

        # A forged press (a kecamatan no list has) is refused and changes nothing.
        forged = await budi.wait_for_reply(budi.press_data("nb:a:99:a", again.message_id))
        assert "area itu tidak kami kenal" in (forged.text or "")
        kept = await budi.wait_for_reply(budi.send("/dekat"))
        assert "Toko UMKM di Kampung Melayu" in (kept.text or "")
