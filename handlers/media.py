"""Keeping a file a person sent in chat: checked by its bytes, then stored for good."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.media import MAX_MEDIA_BYTES, MEDIA_PREFIX, new_key, sniff

if TYPE_CHECKING:
    from handlers.context import Chat
    from handlers.messages import Upload


class Refused(Exception):
    """The file is not kept; `key` names the text that tells the person why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def keep_upload(chat: Chat, upload: Upload, allowed: frozenset[str]) -> str:
    """Stores the file the person sent and returns its reference (`media:<key>`), for a
    column such as `products.photo_url`; raises `Refused` when it is too large, not of an
    `allowed` type by its content, or never arrived."""
    if upload.size > MAX_MEDIA_BYTES or (
        upload.content is not None and len(upload.content) > MAX_MEDIA_BYTES
    ):
        raise Refused("media_too_large")
    if upload.content is None:
        raise Refused("media_not_received")
    media_type = sniff(upload.content)
    if media_type not in allowed:
        raise Refused("media_not_picture")
    key = new_key(media_type)
    await chat.media.save(key, upload.content)
    return f"{MEDIA_PREFIX}{key}"


async def sent_media(chat: Chat, allowed: frozenset[str]) -> str | None:
    """What the person sent in this message, kept by jbl (`media:<key>`); the platform's
    reference where the channel gave no bytes; None when nothing was sent. Raises `Refused`."""
    if chat.incoming.upload is not None:
        return await keep_upload(chat, chat.incoming.upload, allowed)
    return chat.incoming.photo
