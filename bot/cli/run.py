"""`jbl run`: the configured channels, the outbox senders and the HTTP server."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot import loop
from bot.cli.usage import add_command
from bot.run import run, stop_on_signals
from models.single_run import single_run

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = add_command(
        commands,
        "run",
        "run the channels, the outbox senders and the HTTP server",
        "Telegram runs when its token is set, WhatsApp when its Twilio account is; the"
        " scheduled jobs run too. Ctrl-C or SIGTERM stop it in order.",
    )
    serve.set_defaults(run=_serve)


async def _serve(app: App, _args: argparse.Namespace) -> None:
    # Before anything is migrated, polled or sent: a second `jbl run` on one SQLite file is
    # refused (several processes need PostgreSQL).
    with single_run(app.settings.database.url):
        stop, ready = asyncio.Event(), asyncio.Event()
        stop_on_signals(stop)
        settling = asyncio.create_task(loop.settle_when(ready))
        try:
            await run(app, stop, ready)
        finally:
            settling.cancel()
