"""`jbl`: the command line of the bot. Every command has --help; errors go to stderr.

One module per command group, each adding its parser (`add_to`) and holding its commands.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot import loop
from bot.bootstrap import App, build_app
from bot.cli import broadcast, chat, db, friday, links, merchant, run, staff
from bot.cli.usage import UsageError
from bot.run import ChannelFailed, NothingToRun
from bot.settings import SettingsError, config_path, load_settings
from bot.telegram.channel import use_timedelta_periods

GROUPS = (db, chat, run, links, merchant, staff, friday, broadcast)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jbl", description="Jumat Beli Lokal: the chat shop of Jakarta's UMKM."
    )
    parser.add_argument("--config", help="settings file (default: $JBL_CONFIG or ./config.toml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_to(commands)
    return parser


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
    use_timedelta_periods(os.environ)
    try:
        loop.run(_run(args.run, args))
    except (SettingsError, UsageError, NothingToRun, ChannelFailed) as error:
        print(f"jbl: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
