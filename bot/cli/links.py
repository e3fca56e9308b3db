"""`jbl links`: t.me links that open a product or a merchant's products in the bot, and the
links with which a merchant takes over their shop (`--claim`), for staff's announcements."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.cli.usage import UsageError, add_command, row_id
from bot.telegram.links import bot_username, start_url
from handlers.routes import claim_command, claim_link, start_link
from models.catalog import Merchant, Product, names_by_id

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App

KINDS = {"product": Product, "merchant": Merchant}


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    links = add_command(
        commands,
        "links",
        "print links that open a product or shop, or claim a shop",
        "A line per product or shop: its t.me link and its name; with --claim, its t.me link,"
        " its wa.me link and its name (`-` for a platform jbl is not on). Tabs separate them.",
    )
    links.add_argument(
        "kind", choices=tuple(KINDS), help="what the ids are: a product's or a merchant's"
    )
    links.add_argument(
        "ids", nargs="*", type=row_id, metavar="ID", help="the products or merchants (default: all)"
    )
    links.add_argument("--bot", help="the bot's Telegram username (default: asked from Telegram)")
    links.add_argument(
        "--claim",
        action="store_true",
        help="merchants: the Telegram and WhatsApp links with which the owner, writing from "
        "the shop's imported phone, takes over the shop",
    )
    links.add_argument(
        "--whatsapp",
        metavar="NUMBER",
        help="with --claim: the bot's WhatsApp number (default: whatsapp.from_number)",
    )
    links.set_defaults(run=_links, read_only=True)


async def _links(app: App, args: argparse.Namespace) -> None:
    if args.claim:
        missing = await _claim_links(app, args)
    else:
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


async def _claim_links(app: App, args: argparse.Namespace) -> list[int]:
    if args.kind != "merchant":
        raise UsageError("--claim is for merchants: jbl links merchant ID --claim")
    number = _whatsapp_number(args.whatsapp or app.settings.whatsapp.from_number)
    username = args.bot
    if username is None and app.settings.telegram.token is not None:
        username = await bot_username(app.settings.telegram)
    if username is None and number is None:
        raise UsageError(
            "--claim needs the bot's Telegram username (--bot, or JBL_TELEGRAM__TOKEN to ask) "
            "or its WhatsApp number (--whatsapp, or JBL_WHATSAPP__FROM_NUMBER)"
        )
    return await print_claim_links(app, username, number, args.ids)


def _whatsapp_number(number: str | None) -> str | None:
    """The digits wa.me takes, of `+62 21…` or `whatsapp:+6221…`."""
    if number is None:
        return None
    digits = "".join(char for char in number if char.isascii() and char.isdigit())
    if not 8 <= len(digits) <= 15:
        raise UsageError(f"--whatsapp {number}: not a phone number")
    return digits


def whatsapp_url(number: str, message: str) -> str:
    """The link that opens a WhatsApp chat with `number`, `message` typed in, ready to send."""
    return f"https://wa.me/{number}?text={quote(message, safe='')}"


async def print_claim_links(
    app: App, username: str | None, number: str | None, ids: list[int]
) -> list[int]:
    """Prints `telegram link<TAB>WhatsApp link<TAB>name` per merchant (`-` for a platform
    jbl is not on); returns the ids that do not exist."""
    async with app.sessions() as session:
        rows = await names_by_id(session, Merchant, ids)
    for id, name in rows:
        telegram = start_url(username, claim_link(id)) if username else "-"
        whatsapp = whatsapp_url(number, claim_command(id)) if number else "-"
        print(f"{telegram}\t{whatsapp}\t{name}")
    found = {id for id, _ in rows}
    return [id for id in ids if id not in found]
