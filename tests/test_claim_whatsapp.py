"""Merchants take over their imported shop on WhatsApp by writing from the number in the
import: the real `jbl run`, `jbl import` and `jbl merchant` against the fake Twilio, whose
signed webhooks vouch for the sender's number."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.staff import add_staff
from models.claims import PENDING
from tests import db
from tests.conftest import Clock
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.telegram_bot import Running
from tests.test_claim import claims, operators
from tests.test_cli_and_console import run_jbl
from tests.test_whatsapp import check_out_for_pickup, message_with
from tests.whatsapp_bot import running_whatsapp

OWNER = "+6285711112222"
BUDI = "+6281234567890"
STAFF = "+6281377778888"


@pytest.fixture
async def jbl(database_url: str, clock: Clock, twilio: FakeTwilio) -> AsyncIterator[Running]:
    async with running_whatsapp(database_url, clock, twilio) as running:
        yield running


async def db_person(jbl: Running, number: str) -> int:
    return (await Chatter(jbl.app, f"whatsapp:{number}").person()).id


def write_csv(path: Path, header: list[str], *rows: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def import_shop(database_url: str, tmp_path: Path) -> None:
    """Staff import one shop with the owner's phone, and its product, as Jakpreneur has them."""
    shops = write_csv(
        tmp_path / "toko.csv",
        ["jakpreneur_id", "name", "owner_name", "phone", "kota", "kecamatan", "kelurahan"],
        [
            *("JKP-7001", "Keripik Tempe Bu Lastri", "Lastri", "0857-1111-2222"),
            *("Jakarta Selatan", "Tebet", "Manggarai"),
        ],
    )
    goods = write_csv(
        tmp_path / "produk.csv",
        ["jakpreneur_id", "sku", "name", "category", "price", "unit", "stock", "curated"],
        [
            *("JKP-7001", "KT-1", "Keripik Tempe Renyah", "makanan-minuman"),
            *("15.000", "bungkus", "20", "ya"),
        ],
    )
    for kind, path in (("merchants", shops), ("products", goods)):
        done = run_jbl("import", kind, str(path), database_url=database_url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr


async def test_the_owner_writes_from_the_imported_number_confirms_and_gets_the_orders(
    jbl: Running, twilio: FakeTwilio, database_url: str, tmp_path: Path
) -> None:
    import_shop(database_url, tmp_path)
    owner = twilio.user(OWNER, "Lastri")
    asked = await owner.say("halo")
    assert "Selamat datang di Jumat Beli Lokal" in asked.text
    assert "Anda pemilik Keripik Tempe Bu Lastri (Manggarai, Tebet, Jakarta Selatan)?" in (
        asked.text
    )
    assert asked.menu == ["✅ Ya", "❌ Bukan"]
    done = await owner.choose("Ya")
    assert "Anda sekarang pengelola Keripik Tempe Bu Lastri" in done.text
    shop = await owner.say("/toko")
    assert "🏪 Keripik Tempe Bu Lastri" in shop.text

    merchant_id = next(p.merchant_id for p in await db.products(jbl.app) if p.sku == "KT-1")
    listed = run_jbl("merchant", "list", str(merchant_id), database_url=database_url, cwd=tmp_path)
    assert listed.stdout.rstrip().endswith(f"whatsapp:{OWNER}")

    budi = twilio.user(BUDI, "Budi")
    await budi.say("/cari keripik tempe renyah")
    await budi.choose("Keripik Tempe Renyah")
    await budi.choose("Tambah 1")
    await check_out_for_pickup(budi)
    notice = await message_with(twilio, owner, "Pesanan baru #1 dari Budi Santoso")
    assert notice.menu[:2] == ["✅ Terima", "❌ Tolak"]
    accepted = await owner.say("1")
    assert "Pesanan #1 diterima" in accepted.text


async def test_no_declines_and_a_number_not_in_the_import_gets_nothing_special(
    jbl: Running, twilio: FakeTwilio, database_url: str, tmp_path: Path
) -> None:
    import_shop(database_url, tmp_path)
    owner = twilio.user(OWNER, "Lastri")
    await owner.say("halo")
    declined = await owner.choose("Bukan")
    assert "tidak ada yang diubah" in declined.text
    assert declined.menu[0] == "🛍️ Katalog Jumat"
    # Not asked again, on any message.
    for typed in ("halo", "/start", "/menu"):
        again = await owner.say(typed)
        assert "Anda pemilik" not in again.text, typed
    # Asked for, as staff's announcement tells them to write: asked again.
    asked = await owner.say("klaim toko")
    assert "Anda pemilik Keripik Tempe Bu Lastri" in asked.text
    await owner.choose("Bukan")
    merchant_id = next(p.merchant_id for p in await db.products(jbl.app) if p.sku == "KT-1")
    assert await operators(jbl.app, merchant_id) == []

    budi = twilio.user(BUDI, "Budi")
    welcome = await budi.say("halo")
    assert "Selamat datang" in welcome.text and "pemilik" not in welcome.text
    refused = await budi.say("/toko")
    assert "untuk penjual" in refused.text
    # The announcement's text, sent from a number that is no shop's.
    claimed = await budi.say(f"/klaim {merchant_id}")
    assert "0812-3456-7890 tidak terdaftar" in claimed.text
    assert [c.person_id for c in await claims(jbl.app)] == [await db_person(jbl, OWNER)]


async def test_claims_of_shops_run_by_others_go_to_staff_who_decide_in_chat(
    jbl: Running, twilio: FakeTwilio
) -> None:
    # The demo's merchant 1 is run by its demo operator; merchant 3 by someone on WhatsApp.
    await db.add_operator(jbl.app, 3, "whatsapp:+6285799990000")
    await add_staff(jbl.app, f"whatsapp:{STAFF}")
    staff = twilio.user(STAFF, "Ana")
    await staff.say("halo")
    ratna = twilio.user("+6281234500001", "Ratna")
    ijah = twilio.user("+6281234500003", "Ijah")
    for claimant in (ratna, ijah):
        await claimant.say("/toko")
        waiting = await claimant.choose("Ya")
        assert "kami teruskan ke petugas" in waiting.text
        assert waiting.menu == ["🏠 Menu"]
    assert [c.status for c in await claims(jbl.app)] == [PENDING, PENDING]
    first, second = (c.id for c in await claims(jbl.app))

    asked = await message_with(twilio, staff, f"Permintaan #{first}: Ratna (0812-3450-0001)")
    assert "ingin mengelola Kue Basah Ibu Ratna" in asked.text
    assert "sudah dikelola oleh Penjual Demo" in asked.text
    await message_with(twilio, staff, f"Permintaan #{second}: Ijah")
    # The newest notice's buttons are the menu: Ijah's claim first, then the one left.
    refused = await staff.choose("Tolak")
    assert f"Permintaan #{second} ditolak" in refused.text
    following = await message_with(twilio, staff, "Menunggu keputusan: 1 permintaan")
    assert f"Permintaan #{first}: Ratna" in following.text
    approved = await staff.choose("Setujui")
    assert f"Permintaan #{first} disetujui" in approved.text
    again = await staff.say("/persetujuan")
    assert "Tidak ada permintaan" in again.text

    told = await message_with(twilio, ijah, "Petugas tidak menyetujui")
    assert "Sambal Dapur Mak Ijah" in told.text
    await message_with(twilio, ratna, "Petugas menyetujui permintaan Anda")
    shop = await ratna.say("/toko")
    assert "🏪 Kue Basah Ibu Ratna" in shop.text
    assert await db_person(jbl, "+6281234500003") not in await operators(jbl.app, 3)
    # Refused is final: the way in is an invite now.
    refused_shop = await ijah.say("/toko")
    assert "minta kode undangan ke petugas" in refused_shop.text
