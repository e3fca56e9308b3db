"""What must survive a restart of a conversation: the last menu, the current step, seen ids."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    Insert,
    Select,
    String,
    TextClause,
    Update,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.durability import note_relaxed, relaxed_commit
from models.people import LAST_SEEN_PRECISION, Identity, Person, new_person


class ChatState(Base):
    """One per chat identity, so a person on two channels has a menu on each."""

    __tablename__ = "chat_states"

    identity: Mapped[str] = mapped_column(String(80), primary_key=True)
    # Payloads of the last menu's buttons, in order: typing "3" presses the third.
    menu: Mapped[list[str]] = mapped_column(JSON, default=list)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The step waiting for typed text (search query, quantity, checkout field), if any.
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedMessage(Base):
    """Message ids already handled, per channel and per bot of ours they came to (a platform
    numbers messages per bot): a redelivered message is ignored.

    Kept for `KEEP_PROCESSED`: platforms redeliver within a day (Telegram) or minutes
    (Twilio), and one row per message would otherwise grow without end.
    """

    __tablename__ = "processed_messages"
    __table_args__ = (Index("ix_processed_messages_at", "at"),)

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    # `Incoming.bot`: "" where a channel has one account only (the console).
    bot: Mapped[str] = mapped_column(String(40), primary_key=True, server_default="")
    message_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


_CLAIM_SQL = (
    "INSERT INTO processed_messages (channel, bot, message_id, at)"
    " VALUES (:channel, :bot, :message_id, :at) ON CONFLICT DO NOTHING"
)


@functools.cache
def _claim_statement() -> TextClause:
    # Text, because the dialects' INSERT … ON CONFLICT constructs are never statement-cached
    # and were compiled again for every message; SQLite and PostgreSQL share this syntax.
    return text(_CLAIM_SQL).bindparams(bindparam("at", type_=UTCDateTime()))


async def _claim_message(
    session: AsyncSession, channel: str, bot: str, message_id: str, now: datetime
) -> bool:
    """True the first time a message id is seen (see `open_chat`)."""
    # Core on the connection: the count of inserted rows is known, and the ORM's execute cost
    # as much again for a statement that loads nothing.
    connection = await session.connection()
    claimed = await connection.execute(
        _claim_statement(), {"channel": channel, "bot": bot, "message_id": message_id, "at": now}
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined]


@dataclass
class OpenedChat:
    """A chat's state as `open_chat` read it and a handler changes it; `save_chat` writes it
    back in one statement (the ORM's change tracking cost more than the rest of a simple
    message)."""

    identity: str
    menu: list[str]
    labels: list[str]
    step: str | None
    data: dict[str, Any]
    stored: bool


def _chat_columns(identity: Any) -> tuple[Any, ...]:
    """What `_opened` takes of a chat, joined to the locked identity row `identity`."""
    return (
        Person,
        identity.last_seen_at,
        identity.unreachable_at,
        ChatState.identity,
        ChatState.menu,
        ChatState.labels,
        ChatState.step,
        ChatState.data,
    )


@functools.cache
def _chat_statement() -> Select[Any]:
    # Built once: every message runs it, and building it was a third of its cost.
    return (
        select(*_chat_columns(Identity))
        .join(Identity, Identity.person_id == Person.id)
        .outerjoin(ChatState, ChatState.identity == Identity.identity)
        .where(Identity.identity == bindparam("identity"))
        .with_for_update(of=Identity)
    )


@functools.cache
def _claim_and_chat_statement() -> Select[Any]:
    """PostgreSQL: the claim and the chat in one statement, always one row: whether the
    claim inserted, then the chat's columns (all NULL for an identity not seen before)."""
    claim = (
        text(f"{_CLAIM_SQL} RETURNING 1")
        .bindparams(bindparam("at", type_=UTCDateTime()))
        .columns(column("inserted"))
        .cte("claim")
    )
    counted = select(func.count().label("claimed")).select_from(claim).subquery("counted")
    # Locked in a CTE of its own: FOR UPDATE cannot lock the nullable side of an outer join.
    locked = (
        select(
            Identity.identity, Identity.person_id, Identity.last_seen_at, Identity.unreachable_at
        )
        .where(Identity.identity == bindparam("identity"))
        .with_for_update()
        .cte("locked")
    )
    return (
        select(counted.c.claimed, *_chat_columns(locked.c), relaxed_commit())
        .select_from(counted)
        .outerjoin(locked, true())
        .outerjoin(Person, Person.id == locked.c.person_id)
        .outerjoin(ChatState, ChatState.identity == locked.c.identity)
    )


async def open_chat(
    session: AsyncSession,
    channel: str,
    bot: str,
    message_id: str,
    identity: str,
    display_name: str,
    language: str,
    now: datetime,
) -> tuple[Person, OpenedChat] | None:
    """Claims the message id (of `bot`, the account of ours it came to) and opens the chat:
    the person behind the identity and the chat's state, created on a first message. None
    if the message id was claimed before (a redelivery); the claim commits with the handling,
    and a delivery racing another of the same id waits on the key until that one commits,
    then gets None.

    The identity row is locked until commit, so one chat's messages are handled one at a
    time even by several processes (SQLite serialises every write transaction anyway). On
    PostgreSQL the commit need not wait for the disk unless the handling records a decision
    (`models.durability`).
    """
    if session.get_bind().dialect.name == "postgresql":
        # One round trip, not two, for every message (SQLite has no INSERT inside WITH).
        params = {
            "channel": channel,
            "bot": bot,
            "message_id": message_id,
            "at": now,
            "identity": identity,
        }
        claimed, *found, _ = (await session.execute(_claim_and_chat_statement(), params)).one()
        note_relaxed((await session.connection()).info)
        if not claimed:
            return None
        return await _opened(session, identity, display_name, language, now, found)
    if not await _claim_message(session, channel, bot, message_id, now):
        return None
    found = (await session.execute(_chat_statement(), {"identity": identity})).first()
    return await _opened(session, identity, display_name, language, now, found)


async def _opened(
    session: AsyncSession,
    identity: str,
    display_name: str,
    language: str,
    now: datetime,
    found: Sequence[Any] | None,
) -> tuple[Person, OpenedChat]:
    """The person and chat of `_chat_columns` as read (None or a NULL person: not yet)."""
    if found is None or found[0] is None:
        person, _ = await new_person(session, identity, display_name, language, now)
        return person, OpenedChat(identity, [], [], None, {}, stored=False)
    person, last_seen_at, unreachable_at, stored, menu, labels, step, data = found
    if now - last_seen_at > LAST_SEEN_PRECISION or unreachable_at is not None:
        # Recorded coarsely: it only decides which chat messages to the person go to. Writing
        # to the bot again means they unblocked it.
        await session.execute(_seen_statement(), {"key": identity, "now": now})
    if stored is None:
        return person, OpenedChat(identity, [], [], None, {}, stored=False)
    return person, OpenedChat(identity, menu or [], labels or [], step, data or {}, stored=True)


@functools.cache
def _seen_statement() -> Update:
    return (
        update(Identity)
        .where(Identity.identity == bindparam("key"))
        .values(last_seen_at=bindparam("now"), unreachable_at=None)
    )


@functools.cache
def _save_statements() -> tuple[Update, Insert]:
    columns = ("menu", "labels", "step", "data", "updated_at")
    values = {name: bindparam(name) for name in columns}
    return (
        update(ChatState).where(ChatState.identity == bindparam("key")).values(values),
        insert(ChatState).values(identity=bindparam("key"), **values),
    )


def save_chat_statement(chat: OpenedChat, now: datetime) -> tuple[Update | Insert, dict[str, Any]]:
    """The statement that writes the chat back, and its parameters, to run in the transaction
    that changed it (by `save_chat`, or within the reply's row: see
    `models.outbox.save_chat_and_notify`); the chat counts as stored from then."""
    changed, created = _save_statements()
    params = {
        "key": chat.identity,
        "menu": chat.menu,
        "labels": chat.labels,
        "step": chat.step,
        "data": chat.data,
        "updated_at": now,
    }
    statement = changed if chat.stored else created
    chat.stored = True
    return statement, params


async def save_chat(session: AsyncSession, chat: OpenedChat, now: datetime) -> None:
    """Writes the chat back (Core on the connection: one cached statement, no ORM)."""
    statement, params = save_chat_statement(chat, now)
    connection = await session.connection()
    await connection.execute(statement, params)


KEEP_PROCESSED = timedelta(days=7)


async def prune_processed(session: AsyncSession, now: datetime, batch: int) -> int:
    """Forgets up to `batch` message ids older than `KEEP_PROCESSED`."""
    oldest = (
        select(ProcessedMessage.channel, ProcessedMessage.bot, ProcessedMessage.message_id)
        .where(ProcessedMessage.at < now - KEEP_PROCESSED)
        .order_by(ProcessedMessage.at)
        .limit(batch)
    )
    pruned = await session.execute(
        delete(ProcessedMessage)
        .where(
            tuple_(ProcessedMessage.channel, ProcessedMessage.bot, ProcessedMessage.message_id).in_(
                oldest
            )
        )
        .execution_options(synchronize_session=False)
    )
    return pruned.rowcount  # type: ignore[attr-defined]


async def remember_menu(
    session: AsyncSession, identity: str, payloads: list[str], labels: list[str], now: datetime
) -> None:
    """Makes a menu shown outside a reply (a notice with buttons) the one that typing a
    number chooses from."""
    state = await _locked_state(session, identity)
    if state is None:
        session.add(
            ChatState(
                identity=identity, menu=payloads, labels=labels, step=None, data={}, updated_at=now
            )
        )
    else:
        state.menu, state.labels, state.updated_at = payloads, labels, now
    await session.flush()


async def swap_menu(
    session: AsyncSession,
    identity: str,
    menu: tuple[list[str], list[str]],
    only_if: tuple[list[str], list[str]] | None,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Makes `menu` (payloads, labels) the chat's, if it still shows `only_if` (None: whatever
    it shows); returns the one it had."""
    state = await _locked_state(session, identity)
    had = (list(state.menu), list(state.labels)) if state is not None else ([], [])
    if only_if is None or had == only_if:
        await remember_menu(session, identity, *menu, now)
    return had


async def _locked_state(session: AsyncSession, identity: str) -> ChatState | None:
    """The chat's state under the chat's lock, the identity row `open_chat` locks: a message
    being handled, in any process, commits first and its menu is read, not the one before."""
    await session.execute(
        select(Identity.identity).where(Identity.identity == identity).with_for_update()
    )
    return await session.get(ChatState, identity, populate_existing=True)
