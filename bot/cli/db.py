"""`jbl db …`: the database's schema and data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.bootstrap import init_database

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database schema and data")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    init = db_commands.add_parser("init", help="create or upgrade the schema (idempotent)")
    init.add_argument("--demo", action="store_true", help="also load the demo catalog")
    init.set_defaults(run=_init)


async def _init(app: App, args: argparse.Namespace) -> None:
    loaded = await init_database(app, demo=args.demo)
    print(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")
    if args.demo:
        print(
            "demo catalog loaded" if loaded else "demo skipped: the catalog already has merchants"
        )
