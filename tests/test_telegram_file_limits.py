"""Files past what Telegram takes from a bot (50 MB for any file; a photo over 10 MB goes as a
document, tests/test_attachments.py): never uploaded to be refused, the text goes with a line
in the person's language saying which file did not."""

from __future__ import annotations

from bot.bootstrap import App
from bot.telegram.channel import DOCUMENT_LIMIT, TelegramChannel
from handlers.messages import DOCUMENT, PHOTO, Button, Reply
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.test_attachments import stored

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OVER = DOCUMENT_LIMIT + 1
# How `size_text` shows it.
OVER_SHOWN = "50.0 MB"


async def test_a_file_over_50_mb_is_not_uploaded_and_the_text_says_so(
    app: App, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    ana = tg.user(8201, "Ana")
    sheet = await stored(app, DOCUMENT, "laporan-setahun.xlsx", XLSX, b"\0" * OVER)
    reply = Reply("📄 Laporan setahun", (Button("🏠 Menu", "menu"),), attachment=sheet)

    await channel.deliver(f"telegram:{ana.id}", [reply])

    [message] = ana.bot_messages
    assert (message.document, message.photo, message.upload) == (None, None, None)
    assert message.text == (
        "📄 Laporan setahun\n\n"
        f"📎 laporan-setahun.xlsx ({OVER_SHOWN}) terlalu besar untuk dikirim di chat ini."
    )
    assert message.buttons == ["🏠 Menu"]
    # Nothing was sent for Telegram to refuse.
    assert not [call for call in tg.calls if call.method in ("sendDocument", "sendPhoto")]


async def test_a_photo_over_50_mb_is_said_in_the_persons_language(
    app: App, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    eko = tg.user(8202, "Eko", language_code="en")
    await Chatter(app, f"telegram:{eko.id}", language_hint="en").send("/start")
    chart = await stored(app, PHOTO, "omzet <per> kota.png", "image/png", b"\0" * OVER)
    long_text = "Omzet " + "per kota " * 600

    await channel.deliver(f"telegram:{eko.id}", [Reply(long_text, attachment=chart)])

    [message] = eko.bot_messages
    assert (message.document, message.photo) == (None, None)
    text = message.text or ""
    # A long text is cut to make room for the line, which is never cut.
    assert text.startswith("Omzet per kota") and "…\n\n" in text
    assert text.endswith(
        f"📎 omzet <per> kota.png ({OVER_SHOWN}) is too large to send in this chat."
    )
