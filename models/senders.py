"""The live outbox senders of a deployment, so that N processes keep one platform's limits.

Every sender of a channel and platform account (a Telegram bot, a WhatsApp number) on
PostgreSQL holds a row here and beats on it about once a second; the live rows of its group
split the limit between them (`View`). A row whose beats stopped lapses and the others take
its share back. SQLite runs one process, so there nothing is shared (`beat` returns None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

# The first key of the advisory locks that order one group's beats (the second is the
# group's hash), apart from any other advisory lock of the deployment.
_LOCK_SPACE = 2101


class SenderShare(Base):
    """One live sender. `id` grows as senders join: the oldest has rank 0."""

    __tablename__ = "sender_shares"
    __table_args__ = (Index("ix_sender_shares_group", "channel", "sender_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    # The platform account whose limit is shared: a Telegram bot's id, a WhatsApp number.
    sender_key: Mapped[str] = mapped_column(String(80))
    # The database's clock, so that machines' clocks need not agree.
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The newest `id` of the group this sender has counted: a newcomer waits until every
    # other live sender has counted it (and slowed down) before it takes its share.
    seen: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class View:
    """What one beat saw of the sender's group."""

    rank: int  # the sender's place among the live senders, oldest first
    count: int  # live senders of the group, this one included
    # Every other live sender has counted this one: it may use its share.
    acknowledged: bool
    # This sender's row was (re)written: it was new, or had lapsed and others took its share.
    joined: bool


async def beat(
    session: AsyncSession, worker: str, channel: str, sender_key: str, lapse: timedelta
) -> View | None:
    """Marks `worker` alive and returns its group as it stands; None where nothing is shared
    (SQLite). Beats of one group take turns (a transaction-level advisory lock), so each sees
    every earlier one and a newcomer's id is counted in the order ids were given."""
    if session.bind.dialect.name != "postgresql":
        return None
    group = (SenderShare.channel == channel, SenderShare.sender_key == sender_key)
    await session.execute(
        select(func.pg_advisory_xact_lock(_LOCK_SPACE, func.hashtext(f"{channel}:{sender_key}")))
    )
    now = func.clock_timestamp()
    await session.execute(
        delete(SenderShare).where(
            *group, SenderShare.heartbeat_at < now - literal(lapse), SenderShare.worker != worker
        )
    )
    mine = await session.scalar(
        update(SenderShare)
        .where(SenderShare.worker == worker)
        .values(heartbeat_at=now)
        .returning(SenderShare.id)
    )
    joined = mine is None
    if mine is None:
        mine = await session.scalar(
            insert(SenderShare)
            .values(worker=worker, channel=channel, sender_key=sender_key, heartbeat_at=now)
            .returning(SenderShare.id)
        )
    live = (await session.execute(select(SenderShare.id, SenderShare.seen).where(*group))).all()
    ids = sorted(row_id for row_id, _ in live)
    await session.execute(update(SenderShare).where(SenderShare.id == mine).values(seen=ids[-1]))
    acknowledged = all(seen >= mine for row_id, seen in live if row_id != mine)
    return View(ids.index(mine), len(ids), acknowledged, joined)


async def leave(session: AsyncSession, worker: str) -> None:
    """The sender stops: the others take its share at their next beat."""
    await session.execute(delete(SenderShare).where(SenderShare.worker == worker))


async def live_senders(session: AsyncSession, channel: str, sender_key: str) -> list[str]:
    """The workers of a group that have a row, oldest first (lapsed rows go at the next beat)."""
    rows = await session.scalars(
        select(SenderShare.worker)
        .where(SenderShare.channel == channel, SenderShare.sender_key == sender_key)
        .order_by(SenderShare.id)
    )
    return list(rows)


def shares_limits(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether senders on these sessions' database share the limits: on PostgreSQL, which
    several processes may use. SQLite runs one process."""
    return sessions.kw["bind"].dialect.name == "postgresql"


async def group_settled(session: AsyncSession, channel: str, sender_key: str) -> tuple[int, bool]:
    """How many senders of a group have a row, and whether each has counted every other (all
    of them send at their share then)."""
    rows = (
        await session.execute(
            select(SenderShare.id, SenderShare.seen).where(
                SenderShare.channel == channel, SenderShare.sender_key == sender_key
            )
        )
    ).all()
    newest = max((row_id for row_id, _ in rows), default=0)
    return len(rows), all(seen >= newest for _, seen in rows)
