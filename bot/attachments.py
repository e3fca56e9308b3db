"""The bytes of a file a reply carries, for the channel that sends it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.uow import UnitOfWork

if TYPE_CHECKING:
    from handlers.dispatch import Conversation
    from handlers.messages import Attachment
    from models.files import FileContent


async def open_attachment(conversation: Conversation, attachment: Attachment) -> FileContent | None:
    """The stored file, or None once its link has expired (a notice sent late)."""
    async with UnitOfWork(conversation.sessions) as uow:
        return await conversation.files.open(uow.session, attachment.token, conversation.clock())


def size_text(size: int) -> str:
    """A file's size as a person reads it: bytes, KB or MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
