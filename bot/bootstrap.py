"""The composition root: settings → engine → sessions → conversation. Built on demand only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from bot.logs import identity_hash
from bot.metrics import MeasuredConversation, Metrics
from bot.queued_replies import QueuedReplies
from handlers.context import ConversationConfig
from handlers.dispatch import Clock, Conversation
from models.broadcasts import Rates
from models.db import Access, create_engine, session_factory
from models.demo import ensure_categories, load_demo
from models.files import DatabaseFiles
from models.media import DirectoryMedia, MediaStore
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
    # How the conversation keeps WhatsApp's replies, for the channel to hand to its sender.
    whatsapp_replies: QueuedReplies
    # What `jbl run` shows the operator (`/metrics`, the outbox's lag in `/healthz`).
    metrics: Metrics

    async def close(self) -> None:
        await self.engine.dispose()


def build_app(settings: Settings, clock: Clock = utc_now, access: Access = Access.CREATE) -> App:
    engine = create_engine(
        settings.database.url, pool_size=settings.database.pool_size, access=access
    )
    sessions = session_factory(engine)
    config = ConversationConfig(
        timezone=settings.timezone,
        default_language=settings.i18n.default_language,
        page_size=settings.catalog.page_size,
        broadcast_weekday=settings.broadcast.weekday,
        broadcast_time=settings.broadcast.send_time,
        report_editions=settings.reports.editions,
        review_new_products=settings.catalog.review_new_products,
        demote_after_fridays=settings.catalog.demote_after_fridays,
        local_first=settings.catalog.local_first,
        rates=Rates(
            telegram=settings.telegram.rate_per_s,
            whatsapp=settings.whatsapp.rate_per_s,
            paid=settings.telegram.paid_rate_per_s if settings.telegram.paid_broadcast else None,
        ),
        console_url=settings.console_url,
    )
    # Every WhatsApp message goes out through its outbox sender, replies too.
    whatsapp_replies = QueuedReplies()
    metrics = Metrics(
        sessions, engine, clock, identity_hash(settings), settings.http.lag_degraded_s
    )
    conversation = MeasuredConversation(
        sessions,
        config,
        clock,
        {WHATSAPP: whatsapp_replies},
        files=DatabaseFiles(),
        media=media_store(settings),
        metrics=metrics,
    )
    return App(settings, engine, sessions, conversation, clock, whatsapp_replies, metrics)


def media_store(settings: Settings) -> MediaStore:
    """The store of `[media]`: S3-compatible storage when `s3_url` is set, else a directory."""
    if settings.media.s3_url:
        # Imported here: boto3 takes a while to import, and most runs keep a directory.
        from models.media_s3 import S3Media

        return S3Media.from_url(settings.media.s3_url)
    return DirectoryMedia(media_directory(settings))


def media_directory(settings: Settings) -> Path:
    """`[media] path`, or `media` beside the SQLite file (the data stays together), or in
    the working directory when the database is a server."""
    if settings.media.path:
        return Path(settings.media.path)
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "media"
    return Path("media")


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
