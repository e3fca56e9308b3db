"""Which commits wait for the disk on PostgreSQL: every one that records a decision, not a
resident's browsing (docs/decisions/0042).

A message's handling starts with `relaxed_commit()` in its first statement: its commit then
returns without waiting for the WAL flush, which was the larger part of a simple message's
time. Should the database server itself crash within a moment of that commit, the message's
chat state, cart or reply could be lost; a crash of jbl loses nothing. A transaction that also
writes anything outside `RELAXABLE` (an order, a payment, stock, a subscription, a staff
action, …) turns the flush back on before it commits (`before_commit`), so those are as
durable as ever. SQLite is unaffected: its WAL already commits without a flush.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

# A message's bookkeeping, which a crash of the database server may lose: the message id,
# the chat's menu and step, the person first seen and when last seen, the cart, the replies.
RELAXABLE = frozenset(
    {"processed_messages", "chat_states", "persons", "identities", "cart_items", "outbox"}
)

_RELAXED = "jbl_relaxed_commit"
_DURABLE = "jbl_durable_write"
_DML = ("INSERT", "UPDATE", "DELETE")


def relaxed_commit() -> ColumnElement[Any]:
    """A column for a transaction's first statement: its commit need not wait for the disk
    (the setting lasts to the end of the transaction)."""
    return func.set_config("synchronous_commit", "off", True).label("relaxed")


def note_relaxed(connection_info: dict[str, Any]) -> None:
    """Marks the transaction on this connection as started with `relaxed_commit`."""
    connection_info[_RELAXED] = True


def watch_writes(engine: AsyncEngine) -> None:
    """Notes on each connection whether its transaction wrote outside `RELAXABLE`."""
    if engine.dialect.name != "postgresql":
        return
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "begin")
    def _begun(connection: Any) -> None:
        connection.info.pop(_RELAXED, None)
        connection.info.pop(_DURABLE, None)

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _executing(
        connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if _DURABLE in connection.info or not connection.info.get(_RELAXED):
            return
        compiled = getattr(context, "compiled", None)
        table = getattr(getattr(compiled, "statement", None), "table", None)
        if context is not None and (context.isinsert or context.isupdate or context.isdelete):
            durable = getattr(table, "name", None) not in RELAXABLE
        else:
            # Text: a write of its own, unless it is a message id's claim (`models.chats`).
            head = statement.lstrip()[:40].upper()
            durable = head.startswith(_DML) and not head.startswith("INSERT INTO PROCESSED_")
        if durable:
            connection.info[_DURABLE] = True


async def before_commit(session: AsyncSession) -> None:
    """Turns the flush back on for a relaxed transaction that wrote a decision."""
    if not session.in_transaction():
        return
    connection = await session.connection()
    info = connection.info
    if info.get(_RELAXED) and info.get(_DURABLE):
        await connection.execute(select(func.set_config("synchronous_commit", "on", True)))
