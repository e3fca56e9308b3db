"""What a platform says of outbox rows after taking them, and how far a set of rows has got.

WhatsApp (Twilio) reports each message it took with status callbacks: sent, delivered, read,
or failed with an error code. The channel turns each callback into a `Receipt` for the row it
named; here it becomes the row's `provider_id`, `delivered_at`, `read_at`, `error_code` and,
for a failure, its status. Callbacks come in any order and may repeat: a timestamp is set once,
and a failure changes only a row that was taken (sending or sent), never one that has already
ended or gone back to the queue. Many receipts are written in one transaction: the channel
collects the callbacks that arrive while the previous batch is being written.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    String,
    Update,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)

from models.base import UTCDateTime
from models.outbox import (
    CANCELLED,
    FAILED,
    HELD,
    NEEDS_TEMPLATE,
    PAUSED,
    PENDING,
    SENDING,
    SENT,
    UNREACHABLE,
    OutboxMessage,
)
from models.people import Identity

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

# What a receipt says happened to the row's message.
SENT_EVENT = "sent"
DELIVERED = "delivered"
READ = "read"
FAILED_EVENT = "failed"
# The recipient's number cannot receive: the row ends and the identity is marked unreachable.
UNREACHABLE_EVENT = "unreachable"
# Refused outside the platform's window: send the row again as the approved template. A row
# whose template was refused for the same code already fails instead.
RETRY_AS_TEMPLATE = "retry_as_template"
# Refused outside the platform's window, and no template is configured.
NEEDS_TEMPLATE_EVENT = "needs_template"

_TAKEN = (SENDING, SENT)


@dataclass(frozen=True)
class Receipt:
    row_id: int
    channel: str
    event: str
    provider_id: str | None = None
    error_code: int | None = None
    error: str | None = None


async def record_receipts(
    session: AsyncSession, receipts: Sequence[Receipt], now: datetime
) -> list[bool | None]:
    """Applies receipts to their rows; for each, whether it changed its row's state (a
    failure that ended or re-queued the row), or None when its row is locked by another
    transaction now (the sender recording its outcome): write that receipt again later.

    The rows are locked first, in the order of their ids and skipping those locked already
    (PostgreSQL's SKIP LOCKED; SQLite has one writer anyway), so a batch never waits for a row
    while holding others: two transactions that lock the same rows in different orders would
    deadlock. Runs of receipts that only stamp a row (sent, delivered, read: nearly all of
    them) are one cached statement each, run for all of the run's rows.
    """
    ids = sorted({receipt.row_id for receipt in receipts})
    row = OutboxMessage
    free = set(
        await session.scalars(
            select(row.id).where(row.id.in_(ids)).order_by(row.id).with_for_update(skip_locked=True)
        )
    )
    busy: set[int] = set()
    if len(free) < len(ids):
        missing = [id for id in ids if id not in free]
        busy = set(await session.scalars(select(row.id).where(row.id.in_(missing))))
    order = sorted(range(len(receipts)), key=lambda n: (receipts[n].row_id, n))
    changed: list[bool | None] = [False] * len(receipts)
    stamps: list[dict[str, Any]] = []
    for n in order:
        receipt = receipts[n]
        if receipt.row_id not in free:
            changed[n] = None if receipt.row_id in busy else False
        elif receipt.event in _STAMPS:
            stamps.append(
                {
                    "row_id": receipt.row_id,
                    "on_channel": receipt.channel,
                    "sid": receipt.provider_id,
                    "delivered": receipt.event != SENT_EVENT,
                    "read": receipt.event == READ,
                    "now": now,
                }
            )
        else:
            await _stamp(session, stamps)
            stamps = []
            changed[n] = await _record_failure(session, receipt, now)
    await _stamp(session, stamps)
    return changed


_STAMPS = (SENT_EVENT, DELIVERED, READ)


async def _stamp(session: AsyncSession, stamps: list[dict[str, Any]]) -> None:
    """Applies a run of stamps, one UPDATE per row: a message's `sent` and `delivered`
    callbacks mostly come in one batch, and each UPDATE is a new version of the row (and its
    index entries, on PostgreSQL). Stamps commute, so a row's are merged: its latest SID, and
    the flags of any."""
    merged: dict[int, dict[str, Any]] = {}
    for stamp in stamps:
        kept = merged.setdefault(stamp["row_id"], stamp)
        if kept is not stamp:
            kept["sid"] = stamp["sid"] or kept["sid"]
            kept["delivered"] = kept["delivered"] or stamp["delivered"]
            kept["read"] = kept["read"] or stamp["read"]
    rows = list(merged.values())
    if rows:
        connection = await session.connection()
        await connection.execute(_stamp_statement(), rows[0] if len(rows) == 1 else rows)


@functools.cache
def _stamp_statement() -> Update:
    row = OutboxMessage
    at = bindparam("now", type_=UTCDateTime())

    def stamped(column: Any, flag: str) -> Any:
        return case((bindparam(flag, type_=Boolean()), func.coalesce(column, at)), else_=column)

    return (
        update(row)
        .where(row.id == bindparam("row_id"), row.channel == bindparam("on_channel"))
        .values(
            provider_id=func.coalesce(bindparam("sid", type_=String()), row.provider_id),
            delivered_at=stamped(row.delivered_at, "delivered"),
            read_at=stamped(row.read_at, "read"),
        )
    )


async def _record_failure(session: AsyncSession, receipt: Receipt, now: datetime) -> bool:
    row = OutboxMessage
    mine = (row.id == receipt.row_id, row.channel == receipt.channel)
    provider = {"provider_id": receipt.provider_id} if receipt.provider_id else {}
    failure: dict[str, Any] = {
        "error_code": receipt.error_code,
        "last_error": (receipt.error or f"error {receipt.error_code}")[:500],
        "claimed_by": None,
        **provider,
    }
    taken = (*mine, row.status.in_(_TAKEN))
    if receipt.event == RETRY_AS_TEMPLATE:
        first_time = or_(row.error_code.is_(None), row.error_code != receipt.error_code)
        if await _update(session, (*taken, first_time), status=PENDING, due_at=now, **failure):
            return True
        return await _update(session, taken, status=FAILED, **failure)
    if receipt.event == NEEDS_TEMPLATE_EVENT:
        return await _update(session, taken, status=NEEDS_TEMPLATE, **failure)
    if receipt.event == UNREACHABLE_EVENT:
        if not await _update(session, taken, status=UNREACHABLE, **failure):
            return False
        identity = select(row.identity).where(row.id == receipt.row_id).scalar_subquery()
        await session.execute(
            update(Identity)
            .where(Identity.identity == identity, Identity.unreachable_at.is_(None))
            .values(unreachable_at=now)
            .execution_options(synchronize_session=False)
        )
        return True
    if receipt.event == FAILED_EVENT:
        return await _update(session, taken, status=FAILED, **failure)
    raise ValueError(f"unknown receipt event {receipt.event!r}")


async def _update(
    session: AsyncSession, where: tuple[ColumnElement[bool], ...], **values: Any
) -> bool:
    if not values:
        return False
    changed = await session.execute(
        update(OutboxMessage)
        .where(*where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Progress:
    """How far a set of outbox rows (a broadcast's, say) has got."""

    by_status: dict[str, int]
    # Rows whose message reached the phone, and those of them that were read.
    delivered: int
    read: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def waiting(self) -> int:
        waiting = (PENDING, SENDING, HELD, PAUSED)
        return sum(self.by_status.get(status, 0) for status in waiting)

    @property
    def sent(self) -> int:
        return self.by_status.get(SENT, 0)

    @property
    def failed(self) -> int:
        return self.by_status.get(FAILED, 0)

    @property
    def unreachable(self) -> int:
        return self.by_status.get(UNREACHABLE, 0)

    @property
    def needs_template(self) -> int:
        return self.by_status.get(NEEDS_TEMPLATE, 0)

    @property
    def cancelled(self) -> int:
        return self.by_status.get(CANCELLED, 0)


async def delivery_progress(session: AsyncSession, *where: ColumnElement[bool]) -> Progress:
    """Counts the rows that match `where` (e.g. `OutboxMessage.kind == "broadcast"`) by
    status, with how many were delivered and read."""
    rows = await session.execute(
        select(
            OutboxMessage.status,
            func.count(),
            func.count(OutboxMessage.delivered_at),
            func.count(OutboxMessage.read_at),
        )
        .where(*where)
        .group_by(OutboxMessage.status)
    )
    by_status: dict[str, int] = {}
    delivered = read = 0
    for status, count, delivered_count, read_count in rows.all():
        by_status[status] = count
        delivered += delivered_count
        read += read_count
    return Progress(by_status, delivered, read)
