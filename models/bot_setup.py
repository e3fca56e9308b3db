"""What was last set at a platform for a bot (Telegram's webhook, its command menus), kept as a
digest: processes starting together set each once, and a changed setting sets it again."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.leader import lock_key

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class BotSetup(Base):
    """One item set at the platform for one bot ("telegram:<bot id>"), as last set."""

    __tablename__ = "bot_setup"

    bot: Mapped[str] = mapped_column(String(40), primary_key=True)
    item: Mapped[str] = mapped_column(String(20), primary_key=True)
    # A hash of what was set: the webhook's secret is never stored.
    digest: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


def digest_of(value: object) -> str:
    """The digest of a setting made of JSON values."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


async def lock_setup(session: AsyncSession, bot: str) -> None:
    """Makes the processes setting up `bot` take turns until their transactions end, so that
    the second finds what the first set. SQLite has one process, and its writes take turns."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(lock_key(f"setup:{bot}"))))


async def last_set(session: AsyncSession, bot: str, item: str) -> str | None:
    row = await session.get(BotSetup, (bot, item))
    return None if row is None else row.digest


async def record_set(
    session: AsyncSession, bot: str, item: str, digest: str, now: datetime
) -> None:
    row = await session.get(BotSetup, (bot, item))
    if row is None:
        session.add(BotSetup(bot=bot, item=item, digest=digest, set_at=now))
    else:
        row.digest, row.set_at = digest, now
