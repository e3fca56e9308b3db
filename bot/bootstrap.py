"""The composition root: settings → engine → sessions → conversation. Built on demand only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.context import ConversationConfig
from handlers.dispatch import Clock, Conversation
from models.db import create_engine, session_factory
from models.demo import ensure_categories, load_demo
from models.migrate import upgrade
from models.people import WHATSAPP
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from bot.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    conversation: Conversation
    clock: Clock

    async def close(self) -> None:
        await self.engine.dispose()


def build_app(settings: Settings, clock: Clock = utc_now) -> App:
    engine = create_engine(settings.database.url, pool_size=settings.database.pool_size)
    sessions = session_factory(engine)
    config = ConversationConfig(
        timezone=settings.timezone,
        default_language=settings.i18n.default_language,
        page_size=settings.catalog.page_size,
        broadcast_weekday=settings.broadcast.weekday,
        broadcast_time=settings.broadcast.send_time,
        # Every WhatsApp message goes out through its outbox sender, replies too.
        queued_replies=frozenset({WHATSAPP}),
    )
    return App(settings, engine, sessions, Conversation(sessions, config, clock), clock)


async def init_database(app: App, *, demo: bool) -> bool:
    """Migrates to the latest schema and adds reference data; with `demo`, the demo catalog.

    Returns whether demo data was loaded now (it is loaded into an empty catalog only).
    """
    await upgrade(app.engine)
    async with UnitOfWork(app.sessions) as uow:
        await ensure_categories(uow.session)
        now = app.clock()
        loaded = demo and await load_demo(
            uow.session, now.astimezone(app.settings.timezone).date(), now
        )
        await uow.commit()
    return loaded
