"""The bytes of a file a reply carries, for the channel that sends it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.files import FileContent
from models.media import link_to, linked_key, media_type_of
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from handlers.dispatch import Conversation
    from handlers.messages import Attachment

# Where the HTTP server serves files by link (`bot.file_links`).
MEDIA_PATH = "/media"


async def open_attachment(conversation: Conversation, attachment: Attachment) -> FileContent | None:
    """The stored file, or None once its link has expired (a notice sent late)."""
    async with UnitOfWork(conversation.sessions) as uow:
        return await conversation.files.open(uow.session, attachment.token, conversation.clock())


async def open_linked_media(conversation: Conversation, token: str) -> FileContent | None:
    """The stored photo or proof a live media link leads to, or None."""
    async with UnitOfWork(conversation.sessions) as uow:
        key = await linked_key(uow.session, token, conversation.clock())
    if key is None:
        return None
    content = await conversation.media.load(key)
    return None if content is None else FileContent(key, media_type_of(key), content)


async def media_link(conversation: Conversation, public_url: str, key: str) -> str:
    """A URL under `public_url` at which the stored file `key` can be fetched for a while
    (`models.media.LINK_LIFETIME`), for a platform that takes media by URL."""
    async with UnitOfWork(conversation.sessions) as uow:
        token = await link_to(uow.session, key, conversation.clock())
        await uow.commit()
    return f"{public_url.rstrip('/')}{MEDIA_PATH}/{token}"


def size_text(size: int) -> str:
    """A file's size as a person reads it: bytes, KB or MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
