"""A channel's way of keeping the replies to a message, given to the conversation per channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from models.chats import save_chat

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.messages import Reply
    from models.chats import OpenedChat
    from models.people import Person

# What a writer does once the transaction it wrote in has committed.
AfterCommit = Callable[[], None]


class ReplyWriter(Protocol):
    """Called in the transaction that handled a message, with its replies and the chat as the
    handling left it (its menu and step), which it saves with them."""

    async def write(
        self,
        session: AsyncSession,
        person: Person,
        chat: OpenedChat,
        replies: list[Reply],
        now: datetime,
    ) -> AfterCommit | None:
        """Saves the chat and keeps the replies; returns what to do after the commit, if
        anything."""
        ...


class ReturnedReplies:
    """Saves the chat only: `Conversation.handle` returns the replies, and the channel sends
    them once the transaction has committed."""

    async def write(
        self,
        session: AsyncSession,
        person: Person,
        chat: OpenedChat,
        replies: list[Reply],
        now: datetime,
    ) -> AfterCommit | None:
        await save_chat(session, chat, now)
        return None
