"""Replies kept as outbox rows, for a channel whose sender delivers all it sends (WhatsApp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.notices import REPLY
from models.outbox import Claimed, save_chat_and_notify

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.delivery import OutboxSender
    from handlers.messages import Reply
    from handlers.reply_writers import AfterCommit
    from models.chats import OpenedChat
    from models.people import Person


class QueuedReplies:
    """A `ReplyWriter` that writes the replies as outbox rows with the chat, so that the
    sender's rate limit and the platform's status callbacks cover every message.

    While a sender of this process is handed them (`hand_to`), the rows are written already
    claimed by it and given to it once they commit, ahead of the rows it claims: a claim of
    their own was a transaction for every message. A crash after the commit loses no reply:
    its claim lapses, and another sender sends it once.
    """

    def __init__(self) -> None:
        self._sender: OutboxSender | None = None

    def hand_to(self, sender: OutboxSender | None) -> None:
        """Hands the replies written from now on to `sender` (None: it is stopping, and they
        wait to be claimed)."""
        self._sender = sender

    async def write(
        self,
        session: AsyncSession,
        person: Person,
        chat: OpenedChat,
        replies: list[Reply],
        now: datetime,
    ) -> AfterCommit | None:
        sender = self._sender
        lease = sender.lease(now) if sender is not None else None
        payloads = [reply.to_json() for reply in replies]
        rows = await save_chat_and_notify(session, chat, person.id, REPLY, payloads, now, lease)
        if sender is None or not rows:
            return None
        # The person wrote just now, so their chat's window is open from now.
        claimed = [Claimed(row, person.language, now) for row in rows]
        return lambda: sender.adopt(claimed)
