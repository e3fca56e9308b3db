"""Files in replies: a staff member asks for a file, and each channel delivers what it is."""

from __future__ import annotations

import csv
import io
import os
import re
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from bot.attachments import size_text
from bot.bootstrap import App
from bot.cli.staff import add_staff
from bot.console import ConsoleChat
from bot.file_links import file_url
from bot.telegram.channel import PHOTO_LIMIT, TelegramChannel
from handlers.messages import DOCUMENT, PHOTO, Attachment, Button, Reply
from handlers.notices import queue_replies
from handlers.results import XLSX
from models.files import KEEP_FILES, FileContent, new_token
from models.people import person_of
from models.uow import UnitOfWork
from scheduler.jobs import refresh_ranking
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio, visible
from tests.telegram_bot import Running, running_jbl
from tests.whatsapp_bot import PUBLIC_URL, running_whatsapp

STAFF_CHAT = 7007
STAFF_NUMBER = "+6281298765432"


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG, white."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def stored(app: App, kind: str, name: str, media_type: str, content: bytes) -> Attachment:
    """A file kept as a handler keeps it, in a transaction of its own."""
    async with UnitOfWork(app.sessions) as uow:
        token = await app.conversation.files.save(
            uow.session, FileContent(name, media_type, content), app.clock()
        )
        await uow.commit()
    return Attachment(kind, token, name, media_type, len(content))


def calendar_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads the UTF-8 with its mark
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# ---- Telegram ------------------------------------------------------------------------------


@pytest.fixture
async def jbl(database_url: str, clock: Clock, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running_jbl(database_url, clock, tg) as running:
        yield running


async def test_staff_get_the_calendar_as_a_csv_document_on_telegram(
    jbl: Running, tg: FakeTelegram
) -> None:
    await add_staff(jbl.app, f"telegram:{STAFF_CHAT}")
    ana = tg.user(STAFF_CHAT, "Ana")
    calendar = await ana.wait_for_reply(ana.send("/jadwal"))
    assert "📄 Kirim sebagai file" in calendar.buttons

    sent = await ana.wait_for_reply(ana.press("📄 Kirim sebagai file"))

    assert sent.document is not None and sent.upload is not None
    assert sent.upload.filename == "jadwal-jbl-2026-11-27.csv"
    assert sent.upload.content_type == "text/csv"
    assert sent.document["file_name"] == "jadwal-jbl-2026-11-27.csv"
    assert sent.document["file_size"] == sent.upload.size > 100
    assert (sent.text or "").startswith("📄 Jadwal Jumat Beli Lokal 2026-11-27 – 2027-01-15")
    assert sent.buttons == ["🔄 Perbarui", "🏠 Menu"]
    # The calendar the person pressed stays as it was: a file is never edited into a menu.
    assert calendar.edited == 0 and ana.bot_messages[-1] is sent


async def test_a_photo_is_uploaded_with_its_caption_and_buttons(
    app: App, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    person = tg.user(8001, "Ana")
    chart = await stored(app, PHOTO, "omzet.png", "image/png", png())
    reply = Reply("Omzet per kota", (Button("🏠 Menu", "menu"),), attachment=chart)

    await channel.deliver(f"telegram:{person.id}", [reply])

    [message] = person.bot_messages
    assert message.photo == "upload:omzet.png"
    assert message.upload is not None
    assert (message.upload.content_type, message.upload.size) == ("image/png", len(png()))
    assert (message.text, message.buttons) == ("Omzet per kota", ["🏠 Menu"])


async def test_a_text_too_long_for_a_caption_goes_first_then_the_file_with_the_buttons(
    app: App, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    person = tg.user(8002, "Ana")
    sheet = await stored(app, DOCUMENT, "laporan.xlsx", "application/vnd.ms-excel", b"x" * 500)
    long_text = "Ringkasan" + " panjang" * 200
    reply = Reply(long_text, (Button("🏠 Menu", "menu"),), attachment=sheet)

    await channel.deliver(f"telegram:{person.id}", [reply])

    text, document = person.bot_messages
    assert text.text == long_text and text.buttons == []
    assert document.document is not None and document.text is None
    assert document.document["file_name"] == "laporan.xlsx"
    assert document.buttons == ["🏠 Menu"]


async def test_a_photo_over_telegrams_10_mb_goes_as_a_document(
    app: App, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    person = tg.user(8003, "Ana")
    big = await stored(app, PHOTO, "besar.png", "image/png", b"\0" * (PHOTO_LIMIT + 1))

    await channel.deliver(f"telegram:{person.id}", [Reply("Grafik", attachment=big)])

    [message] = person.bot_messages
    assert message.photo is None and message.document is not None
    assert message.document["file_size"] == PHOTO_LIMIT + 1


async def test_an_expired_file_leaves_the_text_alone_and_the_night_prunes_it(
    app: App, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    person = tg.user(8004, "Ana")
    chart = await stored(app, PHOTO, "omzet.png", "image/png", png())
    clock.advance(KEEP_FILES + timedelta(seconds=1))

    await channel.deliver(f"telegram:{person.id}", [Reply("Omzet", attachment=chart)])

    [message] = person.bot_messages
    assert (message.text, message.photo, message.document) == ("Omzet", None, None)
    assert await file_count(app) == 1
    await refresh_ranking(app.sessions, app.clock, app.conversation.files)
    assert await file_count(app) == 0


async def file_count(app: App) -> int:
    from sqlalchemy import func, select

    from models.files import StoredFile

    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(StoredFile)) or 0)


# ---- WhatsApp ------------------------------------------------------------------------------


@pytest.fixture
async def whatsapp_jbl(
    database_url: str, clock: Clock, twilio: FakeTwilio
) -> AsyncIterator[Running]:
    async with running_whatsapp(database_url, clock, twilio) as running:
        yield running


def test_a_file_link_reads_the_same_in_whatsapp_whatever_its_token() -> None:
    # WhatsApp formats `_x_` between non-letters as italics and drops the underscores, so a
    # token made of any characters but letters and digits would show a link to nothing.
    for _ in range(3000):
        link = file_url(PUBLIC_URL, Attachment(DOCUMENT, new_token(), "laporan.xlsx", XLSX, 1))
        assert visible(f"📎 laporan.xlsx: {link}")[0].endswith(link)


def link_in(text: str) -> str:
    [link] = re.findall(rf"{re.escape(PUBLIC_URL)}/media/[A-Za-z0-9_-]+", text)
    return link


async def fetch(jbl: Running, link: str) -> httpx.Response:
    """What someone who has the link gets (the proxy hands jbl the path)."""
    async with httpx.AsyncClient() as http:
        return await http.get(jbl.base + link.removeprefix(PUBLIC_URL))


async def test_staff_on_whatsapp_get_a_link_to_the_calendar_that_expires(
    whatsapp_jbl: Running, twilio: FakeTwilio, clock: Clock
) -> None:
    await add_staff(whatsapp_jbl.app, f"whatsapp:{STAFF_NUMBER}")
    ana = twilio.user(STAFF_NUMBER, "Ana")
    await ana.say("/jadwal")

    sent = await ana.choose("Kirim sebagai file")

    assert sent.media_urls == []  # a spreadsheet is no WhatsApp media: a link
    assert "jadwal-jbl-2026-11-27.csv" in sent.text and "tautan berlaku 7 hari" in sent.text
    assert sent.menu == ["🔄 Perbarui", "🏠 Menu"]
    link = link_in(sent.text)
    served = await fetch(whatsapp_jbl, link)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/csv")
    assert served.headers["content-disposition"].startswith(
        'attachment; filename="jadwal-jbl-2026-11-27.csv"'
    )
    rows = calendar_rows(served.content)
    assert rows[0] == ["jumat", "kategori", "headline", "siaran"]
    fridays = [row[0] for row in rows[1:]]
    first = date(2026, 11, 27)
    assert fridays == [(first + timedelta(weeks=n)).isoformat() for n in range(8)]

    clock.advance(KEEP_FILES)
    expired = await fetch(whatsapp_jbl, link)
    unknown = await fetch(whatsapp_jbl, f"{PUBLIC_URL}/media/{'A' * 32}")
    listing = await fetch(whatsapp_jbl, f"{PUBLIC_URL}/media/")
    assert expired.status_code == unknown.status_code == listing.status_code == 404
    assert expired.content == unknown.content  # an expired link tells no more than a wrong one


async def test_a_chart_goes_as_media_that_twilio_fetches_from_jbl(
    whatsapp_jbl: Running, twilio: FakeTwilio
) -> None:
    app = whatsapp_jbl.app
    ana = twilio.user(STAFF_NUMBER, "Ana")
    await ana.say("halo")
    chart = await stored(app, PHOTO, "omzet per kota.png", "image/png", png())
    before = len(ana.messages)
    async with UnitOfWork(app.sessions) as uow:
        person = await person_of(uow.session, f"whatsapp:{STAFF_NUMBER}")
        assert person is not None
        reply = Reply("Omzet per kota", (Button("🏠 Menu", "menu"),), attachment=chart)
        await queue_replies(
            uow.session, person.id, f"whatsapp:{STAFF_NUMBER}", [reply], app.clock()
        )
        await uow.commit()

    await twilio.wait_for(lambda: len(ana.messages) > before and ana.last.settled, 10, "the chart")

    message = ana.last
    assert message.text.startswith("Omzet per kota") and message.menu == ["🏠 Menu"]
    [fetched] = message.fetched
    assert fetched.url == message.media_urls[0] and fetched.url.startswith(f"{PUBLIC_URL}/media/")
    assert (fetched.status, fetched.content_type, fetched.size) == (200, "image/png", len(png()))
    assert fetched.disposition.startswith('inline; filename="omzet per kota.png"')
    assert message.status == "delivered"


# ---- Console -------------------------------------------------------------------------------


async def test_the_console_saves_the_file_beside_the_staff_member_and_never_overwrites(
    app: App, tmp_path: Path
) -> None:
    await add_staff(app, "console:ana")
    (tmp_path / "jadwal-jbl-2026-11-27.csv").write_text("kept")
    screen = io.StringIO()
    ana = ConsoleChat(app, "ana", screen, tmp_path)
    await ana.say("/jadwal")

    assert "\n2. 📄 Kirim sebagai file\n" in screen.getvalue()
    await ana.say("2")
    await ana.say("/jadwal")
    await ana.say("2")

    first, second = (
        tmp_path / "jadwal-jbl-2026-11-27 (2).csv",
        tmp_path / "jadwal-jbl-2026-11-27 (3).csv",
    )
    assert (tmp_path / "jadwal-jbl-2026-11-27.csv").read_text() == "kept"
    assert calendar_rows(first.read_bytes()) == calendar_rows(second.read_bytes())
    size = size_text(first.stat().st_size)
    shown = screen.getvalue()
    assert f"[file] jadwal-jbl-2026-11-27.csv ({size}): saved as {first}\n" in shown
    assert f"[file] jadwal-jbl-2026-11-27.csv ({size}): saved as {second}\n" in shown


async def test_the_console_says_when_a_file_has_expired(
    app: App, clock: Clock, tmp_path: Path
) -> None:
    chart = await stored(app, PHOTO, "omzet.png", "image/png", png())
    clock.advance(KEEP_FILES)
    screen, here = io.StringIO(), tmp_path / "here"
    here.mkdir()
    ana = ConsoleChat(app, "ana", screen, here)
    await ana.say("/menu")
    async with UnitOfWork(app.sessions) as uow:
        person = await person_of(uow.session, "console:ana")
        assert person is not None
        await queue_replies(
            uow.session, person.id, "console:ana", [Reply("Omzet", attachment=chart)], clock()
        )
        await uow.commit()
    screen.truncate(0)
    screen.seek(0)

    await ana.show_notices()

    assert screen.getvalue() == f"Omzet\n[file] omzet.png ({len(png())} B): no longer available\n\n"
    assert os.listdir(here) == []
