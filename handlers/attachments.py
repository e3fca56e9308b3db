"""Files a handler makes and sends with its reply: stored in the handler's transaction, named
in the reply by their token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.messages import Attachment
from models.files import FileContent

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.context import Chat
    from models.files import FileStore


async def attach(chat: Chat, kind: str, name: str, media_type: str, content: bytes) -> Attachment:
    """Stores the file (`kind` is `messages.PHOTO` or `DOCUMENT`) until its link expires; a
    reply carries what this returns."""
    return await attach_to(chat.session, chat.files, chat.now, kind, name, media_type, content)


async def attach_to(
    session: AsyncSession,
    files: FileStore,
    now: datetime,
    kind: str,
    name: str,
    media_type: str,
    content: bytes,
) -> Attachment:
    """`attach` outside a conversation: for replies a job writes (the Saturday report)."""
    token = await files.save(session, FileContent(name, media_type, content), now)
    return Attachment(kind, token, name, media_type, len(content))
