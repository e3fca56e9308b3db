"""Files a handler makes and sends with its reply: stored in the handler's transaction, named
in the reply by their token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.messages import Attachment
from models.files import FileContent

if TYPE_CHECKING:
    from handlers.context import Chat


async def attach(chat: Chat, kind: str, name: str, media_type: str, content: bytes) -> Attachment:
    """Stores the file (`kind` is `messages.PHOTO` or `DOCUMENT`) until its link expires; a
    reply carries what this returns."""
    token = await chat.files.save(chat.session, FileContent(name, media_type, content), chat.now)
    return Attachment(kind, token, name, media_type, len(content))
