"""`jbl`: the command line of the bot. Every command has --help; errors go to stderr."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot import loop
from bot.bootstrap import App, build_app, init_database
from bot.console import chat_in_terminal
from bot.merchants import invite, print_merchants, unlink
from bot.run import ChannelFailed, NothingToRun, run, stop_on_signals
from bot.settings import SettingsError, config_path, load_settings
from bot.staff import add_staff, broadcast_status, print_plan, remove_staff, set_friday
from bot.telegram.links import bot_username, print_links
from models.people import canonical_identity

NAME = re.compile(r"^[\w.-]{1,40}$")


class UsageError(Exception):
    """The command was given something it cannot use; the message says what."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jbl", description="Jumat Beli Lokal: the chat shop of Jakarta's UMKM."
    )
    parser.add_argument("--config", help="settings file (default: $JBL_CONFIG or ./config.toml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database schema and data")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    init = db_commands.add_parser("init", help="create or upgrade the schema (idempotent)")
    init.add_argument("--demo", action="store_true", help="also load the demo catalog")
    init.set_defaults(run=_db_init)

    chat = commands.add_parser("chat", help="chat with the bot in this terminal")
    chat.add_argument("--as", dest="name", default="warga", help="chat as console:NAME")
    chat.add_argument("--demo", action="store_true", help="prepare the demo database first")
    chat.set_defaults(run=_chat)

    run = commands.add_parser(
        "run", help="run the configured channels, the outbox senders and the HTTP server"
    )
    run.set_defaults(run=_serve)

    links = commands.add_parser("links", help="print Telegram links that open a product or shop")
    links.add_argument("kind", choices=("product", "merchant"))
    links.add_argument("ids", nargs="*", type=int, metavar="ID", help="default: all")
    links.add_argument("--bot", help="the bot's username (default: asked from Telegram)")
    links.set_defaults(run=_links)

    merchant = commands.add_parser("merchant", help="merchants and the people who run them")
    merchant_commands = merchant.add_subparsers(dest="merchant_command", required=True)
    listing = merchant_commands.add_parser("list", help="merchants with ids and operators")
    listing.add_argument("ids", nargs="*", type=int, metavar="ID", help="default: all")
    listing.set_defaults(run=_merchant_list)
    invite = merchant_commands.add_parser(
        "invite", help="a single-use code (and Telegram link) that makes someone an operator"
    )
    invite.add_argument("merchant_id", type=int, metavar="ID")
    invite.add_argument("--bot", help="the bot's username, for the link (default: asked)")
    invite.set_defaults(run=_merchant_invite)
    remove = merchant_commands.add_parser("remove-operator", help="revoke an operator")
    remove.add_argument("merchant_id", type=int, metavar="ID")
    remove.add_argument(
        "identity",
        type=_identity,
        help="e.g. telegram:12345, console:name, or a WhatsApp number: whatsapp:+62 812-…",
    )
    remove.set_defaults(run=_merchant_remove_operator)

    staff = commands.add_parser("staff", help="who may plan and send the Friday broadcast")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    for action, helped, command in (
        ("add", "give the staff role to an identity", _staff_add),
        ("remove", "take the staff role away", _staff_remove),
    ):
        one = staff_commands.add_parser(action, help=helped)
        one.add_argument("identity", help="telegram:12345, whatsapp:+62… or console:name")
        one.set_defaults(run=command)

    friday = commands.add_parser("friday", help="the Friday calendar of featured categories")
    friday_commands = friday.add_subparsers(dest="friday_command", required=True, metavar="ACTION")
    friday_commands.add_parser("plan", help="the next 8 Fridays").set_defaults(run=_friday_plan)
    set_one = friday_commands.add_parser("set", help="choose a Friday's featured category")
    set_one.add_argument("date", help="the Friday, YYYY-MM-DD")
    set_one.add_argument("category", help="the category's slug or id (see `jbl friday plan`)")
    set_one.add_argument("--headline", help="the broadcast's headline for that Friday")
    set_one.set_defaults(run=_friday_set)

    broadcast = commands.add_parser("broadcast", help="the Friday broadcast")
    broadcast_commands = broadcast.add_subparsers(
        dest="broadcast_command", required=True, metavar="ACTION"
    )
    broadcast_commands.add_parser(
        "status", help="the next broadcast: when, to whom, and how far it is"
    ).set_defaults(run=_broadcast_status)
    return parser


def _identity(value: str) -> str:
    """An identity as typed (a WhatsApp number in any spelling) in its one stored form."""
    try:
        return canonical_identity(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


async def _db_init(app: App, args: argparse.Namespace) -> None:
    loaded = await init_database(app, demo=args.demo)
    print(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")
    if args.demo:
        print(
            "demo catalog loaded" if loaded else "demo skipped: the catalog already has merchants"
        )


async def _chat(app: App, args: argparse.Namespace) -> None:
    if not NAME.match(args.name):
        raise UsageError("--as takes letters, digits, '.', '_' or '-' (at most 40)")
    if args.demo:
        await init_database(app, demo=True)
    if sys.stdin.isatty():
        print(f"jbl chat as console:{args.name}. Type /start; Ctrl-D ends.\n")
    await chat_in_terminal(app, args.name)


async def _serve(app: App, _args: argparse.Namespace) -> None:
    stop, ready = asyncio.Event(), asyncio.Event()
    stop_on_signals(stop)
    settling = asyncio.create_task(_settle_when(ready))
    try:
        await run(app, stop, ready)
    finally:
        settling.cancel()


async def _settle_when(ready: asyncio.Event) -> None:
    """Once jbl is up, takes what start-up made out of the garbage collector's full passes.

    Those objects (modules, the ORM's mappers, twilio's and PTB's classes) live as long as the
    process, and a full pass over them kept the event loop for 120 to 150 ms, every message
    in flight with it: more than the 100 ms a WhatsApp reply may take.
    """
    await ready.wait()
    gc.collect()
    gc.freeze()


async def _links(app: App, args: argparse.Namespace) -> None:
    username = args.bot or await bot_username(app.settings.telegram)
    missing = await print_links(app, username, args.kind, args.ids)
    if missing:
        raise UsageError(f"no {args.kind} with id {', '.join(map(str, missing))}")


async def _merchant_list(app: App, args: argparse.Namespace) -> None:
    missing = await print_merchants(app, args.ids)
    if missing:
        raise UsageError(f"no merchant with id {', '.join(map(str, missing))}")


async def _merchant_invite(app: App, args: argparse.Namespace) -> None:
    username = args.bot
    if username is None and app.settings.telegram.token is not None:
        username = await bot_username(app.settings.telegram)
    try:
        print(await invite(app, args.merchant_id, username))
    except LookupError as error:
        raise UsageError(str(error)) from error


async def _merchant_remove_operator(app: App, args: argparse.Namespace) -> None:
    if not await unlink(app, args.merchant_id, args.identity):
        raise UsageError(f"{args.identity} is not an operator of merchant {args.merchant_id}")
    print(f"{args.identity} no longer runs merchant {args.merchant_id}")


async def _staff_add(app: App, args: argparse.Namespace) -> None:
    try:
        print(await add_staff(app, args.identity))
    except ValueError as error:
        raise UsageError(str(error)) from error


async def _staff_remove(app: App, args: argparse.Namespace) -> None:
    try:
        print(await remove_staff(app, args.identity))
    except (ValueError, LookupError) as error:
        raise UsageError(str(error)) from error


async def _friday_plan(app: App, _args: argparse.Namespace) -> None:
    await print_plan(app)


async def _friday_set(app: App, args: argparse.Namespace) -> None:
    try:
        print(await set_friday(app, args.date, args.category, args.headline))
    except ValueError as error:
        raise UsageError(str(error)) from error


async def _broadcast_status(app: App, _args: argparse.Namespace) -> None:
    print(await broadcast_status(app))


async def _run(
    command: Callable[[App, argparse.Namespace], Awaitable[None]], args: argparse.Namespace
) -> None:
    app = build_app(load_settings(config_path(args.config)))
    try:
        await command(app, args)
    finally:
        await app.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # jbl's own progress is worth seeing; httpx at INFO would log request URLs, and a
    # Telegram URL holds the bot token.
    logging.getLogger("bot").setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        loop.run(_run(args.run, args))
    except (SettingsError, UsageError, NothingToRun, ChannelFailed) as error:
        print(f"jbl: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
