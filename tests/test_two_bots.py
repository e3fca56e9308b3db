"""Two bots on one database: platforms number messages per bot, so the same message id coming
to each is two messages, each handled once."""

from __future__ import annotations

from bot.bootstrap import App
from bot.settings import DatabaseSettings, HttpSettings, Settings, TelegramSettings
from handlers.messages import Incoming
from models.chats import ProcessedMessage
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import free_port, running_app, running_jbl

OTHER_TOKEN = "654321:OTHER-token-for-jbl"


async def test_two_telegram_bots_on_one_database_each_answer_their_updates_once(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with FakeTelegram(token=OTHER_TOKEN, username="jbl_lain_bot") as other_tg:
        other = Settings(
            database=DatabaseSettings(url=database_url),
            http=HttpSettings(port=free_port()),
            telegram=TelegramSettings(token=OTHER_TOKEN, api_base_url=other_tg.base_url),
        )
        async with running_jbl(database_url, clock, tg), running_app(other, clock):
            budi, budi_elsewhere = tg.user(1001, "Budi"), other_tg.user(1001, "Budi")
            for _ in range(3):
                first, second = budi.send("/bantuan"), budi_elsewhere.send("/bantuan")
                # Each fake counts its own updates, as Telegram does per bot.
                assert first == second
                assert "Cara memakai" in ((await budi.wait_for_reply(first)).text or "")
                answer = await budi_elsewhere.wait_for_reply(second)
                assert "Cara memakai" in (answer.text or "")
    assert sum("Cara memakai" in (m.text or "") for m in budi.bot_messages) == 3
    assert sum("Cara memakai" in (m.text or "") for m in budi_elsewhere.bot_messages) == 3


async def test_a_message_id_is_handled_once_per_whatsapp_sender_number(app: App) -> None:
    said = []
    for bot in ("+622150001000", "+622150002000", "+622150001000"):
        incoming = Incoming("whatsapp:+6281234567890", "SM0001", text="/bantuan", bot=bot)
        said.append(await app.conversation.handle(incoming))
    assert [bool(replies) for replies in said] == [True, True, False]
    assert await db.count(app, ProcessedMessage) == 2
