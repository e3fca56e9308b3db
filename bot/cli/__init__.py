"""`jbl`: the command line of the bot. Every command has --help; errors go to stderr.

One module per command group, each adding its parser (`add_to`) and holding its commands.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot import loop
from bot.bootstrap import App, build_app
from bot.cli import (
    broadcast,
    chat,
    curate,
    db,
    friday,
    imports,
    links,
    merchant,
    report,
    run,
    staff,
)
from bot.cli.usage import UsageError
from bot.failures import ChannelFailed
from bot.logs import configure_logging
from bot.run import NothingToRun
from bot.settings import SettingsError, config_path, load_settings
from bot.telegram.channel import use_timedelta_periods
from models.db import Access
from models.media import MediaUnusable
from models.unusable import DatabaseUnusable, check_database, database_errors

GROUPS = (db, chat, run, links, merchant, staff, friday, broadcast, report, imports, curate)


def build_parser() -> argparse.ArgumentParser:
    """Every command of `jbl`, each with its one-line help and its description."""
    parser = argparse.ArgumentParser(
        prog="jbl", description="Jumat Beli Lokal: the chat shop of Jakarta's UMKM."
    )
    parser.add_argument(
        "--config", metavar="PATH", help="settings file (default: $JBL_CONFIG or ./config.toml)"
    )
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        help="one of these; `jbl COMMAND --help` tells more",
    )
    for group in GROUPS:
        group.add_to(commands)
    # A command that only reads says so (`read_only=True`): it then works on a read-only
    # database file or directory, and on PostgreSQL any write it tried would be refused.
    parser.set_defaults(read_only=False)
    return parser


def _migrates(args: argparse.Namespace) -> bool:
    """`jbl db init`, `jbl run` and `jbl chat --demo` create the schema; the rest need it."""
    return args.command in ("db", "run") or (args.command == "chat" and args.demo)


def _access(args: argparse.Namespace) -> Access:
    if args.read_only:
        return Access.READ
    return Access.CREATE if _migrates(args) else Access.WRITE


async def _run(
    command: Callable[[App, argparse.Namespace], Awaitable[None]], args: argparse.Namespace
) -> None:
    settings = load_settings(config_path(args.config))
    configure_logging(settings)
    app = build_app(settings, access=_access(args))
    try:
        # The one place where a database that cannot be used becomes one line.
        with database_errors(settings.database.url):
            await check_database(app.engine, settings.database.url, schema=not _migrates(args))
            await command(app, args)
    finally:
        await app.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; its exit status. Every command's output goes through here."""
    try:
        try:
            return _command(argv)
        finally:
            # Written out here, so that a reader gone away is found inside the `try`.
            if sys.stdout is not None:
                sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`jbl friday plan | head -1`): end quietly, as Unix tools
        # do. What is still buffered goes nowhere, or Python would complain of it at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


def _command(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(None)
    use_timedelta_periods(os.environ)
    try:
        loop.run(_run(args.run, args))
    except (
        SettingsError,
        DatabaseUnusable,
        UsageError,
        NothingToRun,
        ChannelFailed,
        MediaUnusable,
    ) as error:
        print(f"jbl: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
