"""t.me links that open a product or a merchant's products in the bot (`jbl links`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from telegram import Bot
from telegram.error import TelegramError

from bot.run import ChannelFailed
from handlers.routes import start_link
from models.catalog import Merchant, Product

if TYPE_CHECKING:
    from bot.bootstrap import App
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


async def print_links(app: App, username: str, kind: str, ids: list[int]) -> list[int]:
    """Prints `link<TAB>name` per product or merchant; returns the ids that do not exist."""
    if kind == "product":
        query = select(Product.id, Product.name).order_by(Product.id)
        if ids:
            query = query.where(Product.id.in_(ids))
    else:
        query = select(Merchant.id, Merchant.name).order_by(Merchant.id)
        if ids:
            query = query.where(Merchant.id.in_(ids))
    found: set[int] = set()
    async with app.sessions() as session:
        async for id, name in await session.stream(query):
            found.add(id)
            print(f"{start_url(username, start_link(kind[0], id))}\t{name}")
    return [id for id in ids if id not in found]
