"""`jbl links`: t.me links that open a product or a merchant's products in the bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cli.usage import UsageError, row_id
from bot.telegram.links import bot_username, start_url
from handlers.routes import start_link
from models.catalog import Merchant, Product, names_by_id

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App

KINDS = {"product": Product, "merchant": Merchant}


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    links = commands.add_parser("links", help="print Telegram links that open a product or shop")
    links.add_argument("kind", choices=tuple(KINDS))
    links.add_argument("ids", nargs="*", type=row_id, metavar="ID", help="default: all")
    links.add_argument("--bot", help="the bot's username (default: asked from Telegram)")
    links.set_defaults(run=_links, read_only=True)


async def _links(app: App, args: argparse.Namespace) -> None:
    username = args.bot or await bot_username(app.settings.telegram)
    missing = await print_links(app, username, args.kind, args.ids)
    if missing:
        raise UsageError(f"no {args.kind} with id {', '.join(map(str, missing))}")


async def print_links(app: App, username: str, kind: str, ids: list[int]) -> list[int]:
    """Prints `link<TAB>name` per product or merchant; returns the ids that do not exist."""
    async with app.sessions() as session:
        rows = await names_by_id(session, KINDS[kind], ids)
    for id, name in rows:
        print(f"{start_url(username, start_link(kind[0], id))}\t{name}")
    found = {id for id, _ in rows}
    return [id for id in ids if id not in found]
