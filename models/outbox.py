"""Messages to people other than the sender, written in the transaction that caused them.

A row names what happened (`kind` and `payload`), not the wording: the recipient's channel
renders it in their language when it is delivered.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    Insert,
    Integer,
    String,
    Text,
    Update,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from models.base import Base, UTCDateTime
from models.chats import OpenedChat, save_chat, save_chat_statement
from models.people import Identity, Person, operators_of, preferred_identity

# A row's life: pending → sending (claimed by one sender) → sent | unreachable | failed |
# needs_template, or back to pending with a later `due_at` to retry.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
UNREACHABLE = "unreachable"
FAILED = "failed"
# Addressed to a merchant that has no operator yet: kept until one joins.
HELD = "held"
# A broadcast's rows while staff hold it, and those it ended without sending.
PAUSED = "paused"
CANCELLED = "cancelled"
# Claimed first: a new order's notice must not wait behind hours of broadcast.
NOTICE_PRIORITY = 0
BROADCAST_PRIORITY = 1
# A Telegram broadcast's rows while it goes as Telegram's paid broadcast: claimed only by the
# paid sender (`bot.telegram.paid`), at its own rate.
PAID_BROADCAST_PRIORITY = 2
PRIORITIES = (NOTICE_PRIORITY, BROADCAST_PRIORITY, PAID_BROADCAST_PRIORITY)
# What a sender claims unless told otherwise: everything but the paid broadcast's rows.
FREE_PRIORITIES = (NOTICE_PRIORITY, BROADCAST_PRIORITY)
# The rows a sender may claim: due to be sent, or claimed by a sender whose lease may lapse.
CLAIMABLE = (PENDING, SENDING)
# As SQL with the statuses written out, not bound: the planners (SQLite's always, PostgreSQL's
# generic plans) use a partial index only for a query whose condition is its own, literally.
_CLAIMABLE_SQL = "status IN ('pending', 'sending')"
_SENDING_SQL = "status = 'sending'"
_IDS_PER_STATEMENT = 10_000
# The first key of the advisory lock under which claims of one channel that keep to chats
# (`claim_due`'s `take_turns`), apart from the deployment's other advisory locks.
_CLAIM_LOCK_SPACE = 2102
# The platform takes only an approved template for this chat now (WhatsApp outside its 24-hour
# window) and none is configured: not attempted.
NEEDS_TEMPLATE = "needs_template"


class OutboxMessage(Base):
    """One message to send. The outbox is a queue that a broadcast fills 840,000 rows at a
    time (a million subscribers), so it has only the indexes its readers use and no foreign
    keys: PostgreSQL checks each one per inserted row (locking the referenced row), and those
    checks were 40% of a broadcast's start. Every writer takes the ids from rows it read or
    wrote in the same transaction (the subscription, the broadcast it starts, the order's
    merchant or person), and persons, merchants and broadcasts are never deleted."""

    __tablename__ = "outbox"
    # Serves the sender's claim: one channel's claimable rows, notices before broadcasts, by
    # due time, in order. Only those rows are in it, so it stays small however many sent rows
    # the table keeps, and the claim reads just the rows it takes. The console's take of one
    # chat's pending rows reads it too.
    __table_args__ = (
        Index(
            "ix_outbox_due",
            "channel",
            "priority",
            "due_at",
            "id",
            sqlite_where=text(_CLAIMABLE_SQL),
            postgresql_where=text(_CLAIMABLE_SQL),
        ),
        # A broadcast's progress, pause and cancel.
        Index("ix_outbox_broadcast", "broadcast_id", "status"),
        # The rows being sent, by chat: a claim on PostgreSQL skips the chats another sender
        # holds (`claim_due`'s `alone`). Broadcast rows are written pending: none are in it.
        Index(
            "ix_outbox_sending",
            "identity",
            sqlite_where=text(_SENDING_SQL),
            postgresql_where=text(_SENDING_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    person_id: Mapped[int | None] = mapped_column(Integer)
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(20))
    identity: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    # Failed attempts so far (a platform's "slow down" is not a failure).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Pending: not before then. Sending: the claim lapses then, and the row is due again
    # (the sender that claimed it crashed).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The broadcast (`broadcasts.id`) this row delivers, if it is one of its deliveries.
    broadcast_id: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=NOTICE_PRIORITY)
    # What the platform said of the row after it took it (WhatsApp's status callbacks, see
    # models.receipts): its id for the message, the error code of a failure, and when the
    # message reached the phone and was read.
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _claimable() -> ColumnElement[bool]:
    """`status IN ('pending', 'sending')` with the statuses rendered into the SQL, so that the
    planners match it to the partial index's condition."""
    return OutboxMessage.status.in_(
        bindparam("claimable", CLAIMABLE, expanding=True, literal_execute=True)
    )


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
            due_at=now,
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
                due_at=now,
                created_at=now,
            )
        )
    await session.flush()


@dataclass(frozen=True)
class Lease:
    """A claim held by a sender of this process: rows written with it are claimed at once."""

    worker: str
    until: datetime


async def notify_identity(
    session: AsyncSession,
    person_id: int,
    identity: str,
    kind: str,
    payloads: Sequence[dict[str, Any]],
    now: datetime,
    lease: Lease | None = None,
) -> list[OutboxMessage]:
    """Rows for one chat of the person, the one they wrote from, one per payload in order
    (replies to the sender too, on a channel that sends them from the outbox). One cached
    statement: it can run for every message.

    With a `lease` the rows are written as claimed by its sender (`sending` until the lease
    ends, as `claim_due` would leave them), and returned for it to send without a claim of
    its own; without, they wait for a claim and nothing is returned.
    """
    connection = await session.connection()
    return await _insert_rows(connection, person_id, identity, kind, payloads, now, lease)


async def save_chat_and_notify(
    session: AsyncSession,
    chat: OpenedChat,
    person_id: int,
    kind: str,
    payloads: Sequence[dict[str, Any]],
    now: datetime,
    lease: Lease | None = None,
) -> list[OutboxMessage]:
    """`save_chat`, then `notify_identity` to the chat's identity. On PostgreSQL in one
    statement, the chat's write in the WITH of the first row's INSERT: a round trip less, for
    every message whose replies are outbox rows."""
    connection = await session.connection()
    if not payloads or connection.dialect.name != "postgresql":
        await save_chat(session, chat, now)
        return await _insert_rows(connection, person_id, chat.identity, kind, payloads, now, lease)
    saving = save_chat_statement(chat, now)
    return await _insert_rows(
        connection, person_id, chat.identity, kind, payloads, now, lease, saving
    )


async def _insert_rows(
    connection: AsyncConnection,
    person_id: int,
    identity: str,
    kind: str,
    payloads: Sequence[dict[str, Any]],
    now: datetime,
    lease: Lease | None,
    saving: tuple[Insert | Update, dict[str, Any]] | None = None,
) -> list[OutboxMessage]:
    """`notify_identity`'s rows; with `saving` (PostgreSQL only), that write runs within the
    first row's statement."""
    if not payloads:
        return []
    row = {
        "kind": kind,
        "person_id": person_id,
        "channel": identity.split(":", 1)[0],
        "identity": identity,
        "status": PENDING if lease is None else SENDING,
        "attempts": 0,
        "due_at": now if lease is None else lease.until,
        "claimed_by": None if lease is None else lease.worker,
        "created_at": now,
        # Bound, not the column's default: defaults are not filled in within a WITH.
        "priority": NOTICE_PRIORITY,
    }
    rows = [row | {"payload": payload} for payload in payloads]
    returning = lease is not None
    bound = [_bound(values) for values in rows]
    first, params = _insert_statement(returning), bound[0]
    if saving is not None:
        statement, saved = saving
        first, params = _insert_saving_chat(first, statement), params | saved
    written = await connection.execute(first, params)
    if not returning:
        if len(rows) > 1:
            await connection.execute(_insert_statement(False), bound[1:])
        return []
    ids = [written.scalar_one()]
    ids += [
        (await connection.execute(_insert_statement(True), values)).scalar_one()
        for values in bound[1:]
    ]
    return [OutboxMessage(id=row_id, **values) for row_id, values in zip(ids, rows, strict=True)]


@functools.cache
def _insert_saving_chat(insert_row: Insert, save: Insert | Update) -> Insert:
    """`insert_row` with the chat's `save` in its WITH (PostgreSQL runs a data-modifying WITH
    once, in full, whether or not the statement reads it). Both are cached statements, so
    this is built once per pair."""
    return insert_row.add_cte(save.cte("saved_chat"))


def _bound(values: dict[str, Any]) -> dict[str, Any]:
    """A row's values as `_insert_statement` binds them: under names of their own, so that
    they are never taken for the chat's columns written with it (`_insert_saving_chat`)."""
    return {f"row_{name}": value for name, value in values.items()}


@functools.cache
def _insert_statement(returning: bool) -> Insert:
    columns = OutboxMessage.__table__.c
    names = ("kind", "payload", "person_id", "channel", "identity", "status", "attempts")
    names += ("due_at", "claimed_by", "created_at", "priority")
    statement = insert(OutboxMessage).values(
        {n: bindparam(f"row_{n}", type_=columns[n].type) for n in names}
    )
    return statement.returning(OutboxMessage.id) if returning else statement


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
            .where(
                # The channel is the identity's prefix on every row; with it and the claimable
                # statuses written out, the claim's partial index finds the chat's rows.
                OutboxMessage.channel == identity.split(":", 1)[0],
                _claimable(),
                OutboxMessage.status == PENDING,
                OutboxMessage.identity == identity,
            )
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


@dataclass(frozen=True)
class Claimed:
    """A row a sender now owns, with what it needs to render and address it."""

    message: OutboxMessage
    language: str
    # When the recipient last wrote from this identity (to the precision of
    # `models.people.LAST_SEEN_PRECISION`): WhatsApp's 24-hour window runs from then.
    last_seen_at: datetime | None = None


async def claim_due(
    session: AsyncSession,
    channel: str,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    take_turns: bool = False,
    alone: bool = False,
    priorities: Sequence[int] = FREE_PRIORITIES,
) -> list[Claimed]:
    """Takes up to `limit` due rows of a channel for `worker`, oldest due first.

    Rows another sender is claiming right now are skipped (PostgreSQL's SKIP LOCKED; SQLite
    has one writer anyway), and a lapsed claim is due again, so each row is sent by one
    sender, and again only if that sender died before recording the outcome. Rows for a
    chat that is unreachable end here, unsent.

    `alone` (PostgreSQL, senders in several processes): rows of a chat for which another
    sender holds a row whose claim has not lapsed are left for that sender, so one chat is
    sent to by one sender at a time, at its pace and in order. With `take_turns` the claims of
    a channel take turns (an advisory lock), so two never take the same chat at once; a
    sender alone takes turns too, so the first claim of one that joins waits for its last.
    `priorities` are the rows' priorities this sender claims, the first first.
    """
    claimed: list[Claimed] = []
    unreachable: list[int] = []
    if take_turns or alone:
        await session.execute(
            select(func.pg_advisory_xact_lock(_CLAIM_LOCK_SPACE, func.hashtext(channel)))
        )
    # One priority at a time, each a range of the index up to `now`. Ordered by priority
    # first in one query, the scan could not stop at the first row not yet due, and read
    # on through every row that is being sent (claimed until its lease ends): at 200
    # replies a second, 12,000 of them, for each claim.
    for priority in priorities:
        wanted = limit - len(claimed) - len(unreachable)
        if wanted <= 0:
            break
        due = (
            select(OutboxMessage, Identity.unreachable_at, Person.language, Identity.last_seen_at)
            .join(Identity, Identity.identity == OutboxMessage.identity)
            .join(Person, Person.id == Identity.person_id)
            .where(
                OutboxMessage.channel == channel,
                _claimable(),
                OutboxMessage.priority == priority,
                OutboxMessage.due_at <= now,
            )
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(wanted)
            .with_for_update(of=OutboxMessage, skip_locked=True)
        )
        if alone:
            due = due.where(~_held_by_another(worker, now))
        for message, unreachable_at, language, last_seen_at in (await session.execute(due)).all():
            if unreachable_at is not None:
                unreachable.append(message.id)
            else:
                claimed.append(Claimed(message, language, last_seen_at))
    if unreachable:
        await _set(session, unreachable, status=UNREACHABLE, last_error="unreachable")
    if claimed:
        await _set(
            session,
            [c.message.id for c in claimed],
            status=SENDING,
            claimed_by=worker,
            due_at=now + lease,
        )
    return claimed


def _held_by_another(worker: str, now: datetime) -> ColumnElement[bool]:
    """The row's chat has a row that another sender holds, its claim not lapsed (read through
    `ix_outbox_sending`)."""
    held = aliased(OutboxMessage, name="held")
    return (
        select(held.id)
        .where(
            held.identity == OutboxMessage.identity,
            text("held.status = 'sending'"),
            held.claimed_by != worker,
            held.due_at > now,
        )
        .exists()
    )


async def claim_holders(session: AsyncSession, channel: str, prefix: str) -> list[str]:
    """The workers whose id starts with `prefix` that hold rows of `channel` now (read
    through the claim's partial index, hence its condition as well)."""
    holders = await session.execute(
        select(OutboxMessage.claimed_by)
        .where(
            OutboxMessage.channel == channel,
            _claimable(),
            OutboxMessage.status == SENDING,
            OutboxMessage.claimed_by.startswith(prefix, autoescape=True),
        )
        .distinct()
    )
    return [worker for (worker,) in holders if worker is not None]


async def give_back_claims(
    session: AsyncSession, channel: str, workers: list[str], now: datetime
) -> int:
    """Makes the rows these (gone) workers of `channel` hold due again at once."""
    given = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            _claimable(),
            OutboxMessage.status == SENDING,
            OutboxMessage.claimed_by.in_(workers),
        )
        .values(status=PENDING, due_at=now, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return given.rowcount  # type: ignore[attr-defined]


@dataclass
class Outcomes:
    """What a sender learnt about the rows it claimed, recorded in one transaction."""

    sent: list[int]
    # (row id, when to try again, why, whether it counts as a failed attempt)
    retry: list[tuple[int, datetime, str, bool]]
    failed: list[tuple[int, str]]
    # (row id, identity, why)
    unreachable: list[tuple[int, str, str]]
    # Claimed but not sent because the sender is stopping: due again at once.
    released: list[int]
    # (row id, why): not attempted, the platform would take only a template (NEEDS_TEMPLATE)
    needs_template: list[tuple[int, str]] = field(default_factory=list)
    # Paid sends made, by broadcast; the broadcasts of which Telegram refused a paid send.
    paid: Counter[int] = field(default_factory=Counter)
    paid_refused: set[int] = field(default_factory=set)

    @classmethod
    def empty(cls) -> Outcomes:
        return cls([], [], [], [], [])

    def __len__(self) -> int:
        return (
            len(self.sent)
            + len(self.retry)
            + len(self.failed)
            + len(self.unreachable)
            + len(self.released)
            + len(self.needs_template)
            + len(self.paid)
            + len(self.paid_refused)
        )

    def extend(self, other: Outcomes) -> None:
        """Adds `other`'s outcomes to these (e.g. ones whose recording failed, to try again)."""
        self.sent += other.sent
        self.retry += other.retry
        self.failed += other.failed
        self.unreachable += other.unreachable
        self.released += other.released
        self.needs_template += other.needs_template
        self.paid.update(other.paid)
        self.paid_refused |= other.paid_refused


async def record_outcomes(
    session: AsyncSession, outcomes: Outcomes, worker: str, now: datetime
) -> None:
    """Writes the outcomes of rows this worker still holds (a lapsed, re-claimed row is not
    overwritten by the worker that lost it). Rows with the same outcome share a statement."""
    if outcomes.sent:
        await _set(session, outcomes.sent, worker, status=SENT, sent_at=now, claimed_by=None)
    retries: dict[tuple[datetime, str, bool], list[int]] = defaultdict(list)
    for row_id, due_at, error, counts in outcomes.retry:
        retries[due_at, error[:500], counts].append(row_id)
    for (due_at, error, counts), row_ids in retries.items():
        await _set(
            session,
            row_ids,
            worker,
            status=PENDING,
            due_at=due_at,
            last_error=error,
            attempts=OutboxMessage.attempts + (1 if counts else 0),
            claimed_by=None,
        )
    failures: dict[str, list[int]] = defaultdict(list)
    for row_id, error in outcomes.failed:
        failures[error[:500]].append(row_id)
    for error, row_ids in failures.items():
        await _set(
            session,
            row_ids,
            worker,
            status=FAILED,
            last_error=error,
            attempts=OutboxMessage.attempts + 1,
            claimed_by=None,
        )
    for row_id, identity, error in outcomes.unreachable:
        await _set(session, [row_id], worker, status=UNREACHABLE, last_error=error[:500])
        await session.execute(
            update(Identity)
            .where(Identity.identity == identity, Identity.unreachable_at.is_(None))
            .values(unreachable_at=now)
        )
    if outcomes.released:
        await _set(session, outcomes.released, worker, status=PENDING, due_at=now, claimed_by=None)
    for row_id, error in outcomes.needs_template:
        await _set(
            session,
            [row_id],
            worker,
            status=NEEDS_TEMPLATE,
            last_error=error[:500],
            claimed_by=None,
        )


async def _set(
    session: AsyncSession, row_ids: list[int], worker: str | None = None, **values: Any
) -> None:
    # In slices, under the drivers' limits on bound parameters (SQLite's 32,766, asyncpg's).
    for start in range(0, len(row_ids), _IDS_PER_STATEMENT):
        query = update(OutboxMessage).where(
            OutboxMessage.id.in_(row_ids[start : start + _IDS_PER_STATEMENT])
        )
        if worker is not None:
            query = query.where(OutboxMessage.status == SENDING, OutboxMessage.claimed_by == worker)
        await session.execute(query.values(**values).execution_options(synchronize_session=False))


# Ended rows are kept this long: what a chat was sent, and a broadcast's figures (its
# progress counts its rows), stay for a month of Fridays. A broadcast writes 840,000 rows to
# a million subscribers, so without this the table grows by that every week.
KEEP_OUTBOX = timedelta(days=35)
# The rows that will never be sent again.
ENDED = (SENT, UNREACHABLE, FAILED, CANCELLED, NEEDS_TEMPLATE)


async def prune_outbox(session: AsyncSession, now: datetime, batch: int) -> int:
    """Deletes up to `batch` ended rows older than `KEEP_OUTBOX`, the oldest first.

    Ids grow with `created_at`, so the rows to go are those below the first one kept: the
    delete walks the primary key from the start instead of reading the whole table.
    """
    cutoff = now - KEEP_OUTBOX
    first_kept = await session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.created_at >= cutoff)
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    doomed = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(ENDED), OutboxMessage.created_at < cutoff)
        .order_by(OutboxMessage.id)
        .limit(batch)
    )
    if first_kept is not None:
        doomed = doomed.where(OutboxMessage.id < first_kept)
    pruned = await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(doomed))
        .execution_options(synchronize_session=False)
    )
    return pruned.rowcount  # type: ignore[attr-defined]


async def oldest_due(
    session: AsyncSession, channels: Sequence[str], now: datetime
) -> dict[tuple[str, int], datetime]:
    """The `due_at` of the oldest row due now, by channel and priority (none: nothing due).

    One statement of a lookup per channel and priority, each the first entry of its range of
    the claim's partial index: cheap however many rows a broadcast queued.
    """
    keys = [(channel, priority) for channel in channels for priority in PRIORITIES]
    if not keys:
        return {}
    firsts = [
        select(func.min(OutboxMessage.due_at))
        .where(
            OutboxMessage.channel == channel,
            _claimable(),
            OutboxMessage.priority == priority,
        )
        .scalar_subquery()
        for channel, priority in keys
    ]
    row = (await session.execute(select(*firsts))).one()
    return {
        key: due_at
        for key, due_at in zip(keys, row, strict=True)
        if due_at is not None and due_at <= now
    }


# What waits in the outbox, besides its status: due now, or not yet (claimed by a sender, or
# waiting for a retry or its chat's turn).
DUE = "due"
LATER = "later"


async def waiting_rows(
    session: AsyncSession, now: datetime
) -> dict[tuple[str | None, int, str], int]:
    """How many rows wait, by channel, priority and state: claimable rows `DUE` now or due
    `LATER`, and rows `HELD` for a merchant without an operator. (A paused broadcast's rows
    are counted with its progress, `models.broadcasts.progress_of_live`.)

    The claimable rows are counted from the claim's partial index alone (an index-only scan):
    while a broadcast is out they are its hundreds of thousands, so callers read this seldom
    (bot.metrics caches it).
    """
    claimable = (
        select(
            OutboxMessage.channel,
            OutboxMessage.priority,
            func.count().filter(OutboxMessage.due_at <= now),
            func.count(),
        )
        .where(_claimable())
        .group_by(OutboxMessage.channel, OutboxMessage.priority)
    )
    counts: dict[tuple[str | None, int, str], int] = {}
    for channel, priority, due, count in (await session.execute(claimable)).all():
        counts[channel, priority, DUE] = due
        counts[channel, priority, LATER] = count - due
    # Held rows belong to no broadcast: a range of the broadcast index finds them.
    held = (
        select(OutboxMessage.channel, OutboxMessage.priority, func.count())
        .where(OutboxMessage.broadcast_id.is_(None), OutboxMessage.status == HELD)
        .group_by(OutboxMessage.channel, OutboxMessage.priority)
    )
    for channel, priority, count in (await session.execute(held)).all():
        counts[channel, priority, HELD] = count
    return counts
