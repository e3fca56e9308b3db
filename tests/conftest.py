"""Fixtures: a real database per test (SQLite file, or PostgreSQL when JBL_TEST_DATABASE_URL is
set), the real app built by the composition root, a clock the test controls, and people who chat."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import loop
from bot.bootstrap import App, build_app, init_database
from bot.settings import DatabaseSettings, Settings, TelegramSettings
from bot.telegram.channel import TelegramChannel, use_timedelta_periods
from models.base import Base
from models.db import create_engine
from models.migrate import upgrade
from scheduler.setup import JobContext
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.telegram_bot import TOKEN
from tests.whatsapp_bot import ACCOUNT_SID, AUTH_TOKEN, SENDER, TEMPLATES

PG_URL = os.environ.get("JBL_TEST_DATABASE_URL")
# A Tuesday morning in Jakarta: this week's edition is Friday 27 November 2026.
TUESDAY = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


class Clock:
    """Time as the test sets it; the app reads it through `__call__`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def pytest_configure(config: pytest.Config) -> None:
    """python-telegram-bot set up as `jbl` sets it up at start (`bot.cli.main`)."""
    use_timedelta_periods(os.environ)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The event loop `jbl` runs on (`bot.loop`): the tests run on what production runs."""
    return {"uvloop": loop.new_event_loop}


def job_context(app: App) -> JobContext:
    """The scheduler's context as `jbl run` makes it, with a 2-hour reminder, 24-hour expiry."""
    return JobContext(
        app.sessions,
        app.clock,
        timedelta(hours=2),
        timedelta(hours=24),
        app.conversation.config.send_time,
    )


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        if PG_URL:
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrates once per run: a template SQLite file, or the PostgreSQL test database."""
    if PG_URL:
        asyncio.run(_migrate(PG_URL))
        return PG_URL
    template = tmp_path_factory.mktemp("template") / "jbl.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{template}"))
    return str(template)


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    try:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def database_url(migrated: str, tmp_path: Path) -> str:
    """An empty, migrated database of this test's own."""
    if PG_URL:
        await _truncate(PG_URL)
        return PG_URL
    path = tmp_path / "jbl.db"
    shutil.copy(migrated, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database=DatabaseSettings(url=database_url))


@contextlib.asynccontextmanager
async def demo_app(settings: Settings, clock: Clock) -> AsyncIterator[App]:
    """The real app with `settings` and the demo catalog loaded."""
    app = build_app(settings, clock)
    await init_database(app, demo=True)
    try:
        yield app
    finally:
        await app.close()


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[App]:
    """The real app with the demo catalog loaded."""
    async with demo_app(settings, clock) as app:
        yield app


@pytest.fixture
def budi(app: App) -> Chatter:
    return Chatter(app, "console:budi")


@pytest.fixture
def sari(app: App) -> Chatter:
    return Chatter(app, "console:sari")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API on 127.0.0.1."""
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def twilio(clock: Clock) -> AsyncIterator[FakeTwilio]:
    """A fake Twilio REST API on 127.0.0.1, on the test's clock, with two approved templates."""
    async with FakeTwilio(
        ACCOUNT_SID, AUTH_TOKEN, SENDER, clock=clock, templates=TEMPLATES
    ) as fake:
        yield fake


@pytest.fixture
async def channel(app: App, tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    """The Telegram channel as the outbox transport only: nobody chats with it."""
    settings = TelegramSettings(token=TOKEN, api_base_url=tg.base_url)
    telegram = TelegramChannel(settings, app.conversation)
    await telegram.bot.initialize()
    try:
        yield telegram
    finally:
        await telegram.bot.shutdown()


@pytest.fixture
def env_without_jbl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No JBL_* variables from the machine leak into settings under test."""
    for name in list(os.environ):
        if name.startswith("JBL_") and name != "JBL_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    yield
