"""Messages to people other than the sender, written in the transaction that caused them.

A row names what happened (`kind` and `payload`), not the wording: the recipient's channel
renders it in their language when it is delivered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.people import operators_of, preferred_identity

PENDING = "pending"
SENT = "sent"
# Addressed to a merchant that has no operator yet: kept until one joins.
HELD = "held"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    channel: Mapped[str | None] = mapped_column(String(20))
    identity: Mapped[str | None] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


async def notify_person(
    session: AsyncSession, person_id: int, kind: str, payload: dict[str, Any], now: datetime
) -> None:
    identity = await preferred_identity(session, person_id)
    session.add(
        OutboxMessage(
            kind=kind,
            payload=payload,
            person_id=person_id,
            channel=identity.split(":", 1)[0] if identity else None,
            identity=identity,
            status=PENDING if identity else HELD,
            created_at=now,
        )
    )


async def notify_merchant(
    session: AsyncSession, merchant_id: int, kind: str, payload: dict[str, Any], now: datetime
) -> None:
    """One row per operator of the merchant; one held row when it has none yet."""
    operators = await operators_of(session, merchant_id)
    for person_id in operators:
        await notify_person(session, person_id, kind, payload, now)
    if not operators:
        session.add(
            OutboxMessage(
                kind=kind,
                payload=payload,
                merchant_id=merchant_id,
                status=HELD,
                created_at=now,
            )
        )
    await session.flush()


async def take_pending_for(
    session: AsyncSession, identity: str, now: datetime
) -> list[OutboxMessage]:
    """Marks the identity's pending rows sent and returns them, oldest first.

    For a channel that shows messages inside the same process that commits (the console):
    the caller prints them after its commit, so a crash in between loses at most a screen.
    """
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.identity == identity, OutboxMessage.status == PENDING)
            .order_by(OutboxMessage.id)
        )
    )
    if rows:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .values(status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return rows
