"""A process that only sends the outbox to (fake) Telegram, so that tests can kill it -9.

    python -m tests.sender_process DATABASE_URL API_BASE_URL LEASE_SECONDS [RATE [PER_CHAT]]

The real sender and the real Telegram channel, built as `jbl run` builds them, with a short
lease so that a test does not wait a minute for the rows a killed sender held, at RATE
messages a second overall (default 20) and PER_CHAT per chat (default 20). It logs to standard
error, among others each change of its share of the rate.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import timedelta

from bot.bootstrap import build_app
from bot.delivery import Limits, OutboxSender
from bot.settings import DatabaseSettings, Settings, TelegramSettings
from bot.telegram.channel import TelegramChannel
from tests.telegram_bot import TOKEN


async def main(
    database_url: str, api_base_url: str, lease_seconds: float, rate: float, per_chat: float
) -> None:
    telegram = TelegramSettings(token=TOKEN, api_base_url=api_base_url)
    app = build_app(Settings(database=DatabaseSettings(url=database_url), telegram=telegram))
    channel = TelegramChannel(telegram, app.conversation)
    await channel.bot.initialize()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    limits = Limits(rate, per_chat, lease=timedelta(seconds=lease_seconds))
    try:
        await OutboxSender(app.sessions, channel, limits, app.clock).run(stop)
    finally:
        await channel.bot.shutdown()
        await app.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("bot").setLevel(logging.INFO)
    rate, per_chat = (float(a) for a in [*sys.argv[4:6], "20", "20"][:2])
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), rate, per_chat))
