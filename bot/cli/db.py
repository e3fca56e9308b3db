"""`jbl db …`: the database's schema and data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.bootstrap import init_database
from bot.cli.usage import add_actions, add_command

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = add_command(commands, "db", "manage the database's schema and data")
    db_commands = add_actions(db, "db_command")
    init = add_command(
        db_commands,
        "init",
        "create or upgrade the schema (idempotent)",
        "A database already up to date is left as it is; `jbl run` upgrades it too.",
    )
    init.add_argument(
        "--demo",
        action="store_true",
        help="also load the demo catalog, unless the catalog has merchants already",
    )
    init.set_defaults(run=_init)


async def _init(app: App, args: argparse.Namespace) -> None:
    loaded = await init_database(app, demo=args.demo)
    print(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")
    if args.demo:
        print(
            "demo catalog loaded" if loaded else "demo skipped: the catalog already has merchants"
        )
