"""`jbl run` in the test's event loop, against the fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.bootstrap import App, build_app, init_database
from bot.run import run
from bot.settings import (
    DatabaseSettings,
    HttpSettings,
    MediaSettings,
    Settings,
    TelegramSettings,
)
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token-for-jbl"
SECRET = "s3cret-token-of-the-webhook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Running:
    app: App
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def running_jbl(
    database_url: str, clock: Any, tg: FakeTelegram, *, webhook: bool = False, **telegram: Any
) -> AsyncIterator[Running]:
    """Runs `jbl run` with the demo catalog until the block ends, then stops it as SIGTERM
    would, and fails the test if it did not stop cleanly. With `webhook`, Telegram posts
    updates to jbl's HTTP server instead of being polled."""
    port = free_port()
    if webhook:
        telegram |= {
            "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
            "secret_token": SECRET,
        }
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        http=HttpSettings(port=port),
        telegram=TelegramSettings(token=TOKEN, api_base_url=tg.base_url, **telegram),
    )
    async with running_app(settings, clock) as running:
        yield running


@contextlib.asynccontextmanager
async def running_app(settings: Settings, clock: Any) -> AsyncIterator[Running]:
    """`jbl run` with these settings and the demo catalog until the block ends, then stopped
    as SIGTERM would stop it; fails the test if it did not stop cleanly. Photos sent in chat
    are kept in a temporary directory unless `[media]` says where."""
    with tempfile.TemporaryDirectory(prefix="jbl-media-") as media:
        if not settings.media.path and not settings.media.s3_url:
            settings = settings.model_copy(update={"media": MediaSettings(path=media)})
        async with _running_app(settings, clock) as running:
            yield running


@contextlib.asynccontextmanager
async def _running_app(settings: Settings, clock: Any) -> AsyncIterator[Running]:
    app = build_app(settings, clock)
    await init_database(app, demo=True)
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(run(app, stop, ready))
    try:
        await _first(ready, running)
        yield Running(app, settings.http.port)
    finally:
        stop.set()
        try:
            await running
        finally:
            await app.close()


async def _first(ready: asyncio.Event, running: asyncio.Task[None]) -> None:
    waiting = asyncio.ensure_future(ready.wait())
    await asyncio.wait([waiting, running], return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        waiting.cancel()
        running.result()
        raise AssertionError("jbl run ended before it was ready")
