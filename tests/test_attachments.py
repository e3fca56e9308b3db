"""Files in replies: a staff member asks for a file, and each channel delivers what it is."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.bootstrap import App
from bot.cli.staff import add_staff
from bot.telegram.channel import PHOTO_LIMIT, TelegramChannel
from handlers.messages import DOCUMENT, PHOTO, Attachment, Button, Reply
from models.files import KEEP_FILES, FileContent
from models.uow import UnitOfWork
from scheduler.jobs import refresh_ranking
from tests.conftest import Clock
from tests.fake_telegram import FakeMessage, FakeTelegram
from tests.telegram_bot import Running, running_jbl

STAFF_CHAT = 7007


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


def _unused(message: FakeMessage) -> None:  # keeps imports honest while the file grows
    del message, attach
