"""`jbl chat`: a chat with the bot in this terminal."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

from bot.bootstrap import init_database
from bot.cli.usage import UsageError, add_command
from bot.console import chat_in_terminal

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App

NAME = re.compile(r"^[\w.-]{1,40}$")


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chat = add_command(
        commands,
        "chat",
        "chat with the bot in this terminal",
        "It reads standard input, typed or piped, and prints each reply with its buttons as"
        " `N. label`: type N to press one. Ctrl-D ends.",
    )
    chat.add_argument(
        "--as",
        dest="name",
        default="warga",
        metavar="NAME",
        help="chat as console:NAME (letters, digits, '.', '_' or '-'; default: warga)",
    )
    chat.add_argument(
        "--demo", action="store_true", help="create the database with the demo catalog first"
    )
    chat.set_defaults(run=_chat)


async def _chat(app: App, args: argparse.Namespace) -> None:
    if not NAME.match(args.name):
        raise UsageError("--as takes letters, digits, '.', '_' or '-' (at most 40)")
    if args.demo:
        await init_database(app, demo=True)
    if sys.stdin.isatty():
        print(f"jbl chat as console:{args.name}. Type /start; Ctrl-D ends.\n")
    await chat_in_terminal(app, args.name)
