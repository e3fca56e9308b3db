"""t.me links that open the bot with a `/start` payload, and the bot's username they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Bot
from telegram.error import TelegramError

from bot.failures import ChannelFailed

if TYPE_CHECKING:
    from bot.settings import TelegramSettings


def start_url(username: str, start: str) -> str:
    """The link that opens the bot and sends it `/start <start>`."""
    return f"https://t.me/{username}?start={start}"


async def bot_username(settings: TelegramSettings) -> str:
    if settings.token is None:
        raise ChannelFailed("give --bot USERNAME, or set JBL_TELEGRAM__TOKEN to ask Telegram")
    try:
        async with Bot(settings.token.get_secret_value(), base_url=settings.api_base_url) as bot:
            return bot.username
    except TelegramError as error:
        raise ChannelFailed(f"telegram: cannot ask for the bot's name: {error}") from error
