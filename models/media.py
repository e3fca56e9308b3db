"""Photos and proofs people send in chat, kept by jbl for good, and the expiring links to them.

A stored file is named by a key, `<48 hex digits>.<extension>`, and referred to from the
database as `media:<key>` (e.g. `products.photo_url`). The bytes live in a `MediaStore`: a
directory (`DirectoryMedia`) or S3-compatible object storage (`models.media_s3.S3Media`). They
are durable; what expires is a link to them (`media_links`), the only way in from outside
(`GET /media/<token>`), for a platform that fetches media by URL (WhatsApp, through Twilio).
See docs/decisions/0035-media-store.md.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, delete_some
from models.files import TOKEN_LENGTH, new_token

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MEDIA_PREFIX = "media:"
# What jbl takes from a chat, checked on the bytes: WhatsApp's own limit for an image is 5 MB,
# Telegram's for a photo 10 MB; a phone's photo is well under either.
MAX_MEDIA_BYTES = 10 * 1024 * 1024
JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
PICTURES = frozenset({JPEG, PNG, WEBP})
# A payment proof may be a PDF (a bank's receipt), a product photo may not.
PROOFS = PICTURES | {PDF}
_EXTENSIONS = {JPEG: "jpg", PNG: "png", WEBP: "webp", PDF: "pdf"}
_TYPES = {extension: media_type for media_type, extension in _EXTENSIONS.items()}
_KEY = re.compile(r"[0-9a-f]{48}\.(jpg|png|webp|pdf)")
# A link lasts this long; the one handed out is reused while it has more than half of that
# left, so a broadcast of one photo to many people makes one link, not one per message.
LINK_LIFETIME = timedelta(days=2)


def sniff(content: bytes) -> str | None:
    """The media type the bytes are, by their first bytes (never a name or a platform's
    word), among JPEG, PNG, WebP and PDF; None for anything else."""
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"%PDF-"):
        return PDF
    return None


def new_key(media_type: str) -> str:
    return f"{secrets.token_hex(24)}.{_EXTENSIONS[media_type]}"


def key_of(reference: str | None) -> str | None:
    """The key of a `media:<key>` reference, or None for any other photo (an https:// address,
    a platform's reference) or a malformed one."""
    if reference is None or not reference.startswith(MEDIA_PREFIX):
        return None
    key = reference.removeprefix(MEDIA_PREFIX)
    return key if _KEY.fullmatch(key) else None


def media_type_of(key: str) -> str:
    return _TYPES[key.rsplit(".", 1)[1]]


class MediaUnusable(Exception):
    """The store cannot be used (a directory not writable, a bucket not there or refused);
    the message says which and why, in a line."""


class MediaStore(Protocol):
    """Where the bytes live. Saving happens in the handler's transaction but outside the
    database: a handler that rolls back leaves an object nothing refers to, which is harmless."""

    async def save(self, key: str, content: bytes) -> None: ...

    async def load(self, key: str) -> bytes | None:
        """The bytes of `key`, or None when there are none."""
        ...

    def where(self, key: str) -> str:
        """Where the object is, for a person at this machine (the console)."""
        ...

    async def check(self) -> None:
        """Raises `MediaUnusable` unless files can be saved (checked when `jbl run` starts)."""
        ...


class DirectoryMedia:
    """A `MediaStore` in a directory, one file per key, written under a temporary name and
    renamed so that a half-written file is never served."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def save(self, key: str, content: bytes) -> None:
        await asyncio.to_thread(self._write, key, content)

    def _write(self, key: str, content: bytes) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        partial = self.path / f".{key}.partial"
        partial.write_bytes(content)
        partial.replace(self.path / key)

    async def load(self, key: str) -> bytes | None:
        if not _KEY.fullmatch(key):
            return None
        try:
            return await asyncio.to_thread((self.path / key).read_bytes)
        except FileNotFoundError:
            return None

    def where(self, key: str) -> str:
        return str(self.path / key)

    async def check(self) -> None:
        await asyncio.to_thread(self._check)

    def _check(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / f".check-{secrets.token_hex(8)}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise MediaUnusable(
                f"media: the directory {self.path} cannot be written: {error.strerror}"
            ) from error


class MemoryMedia:
    """A `MediaStore` in this process's memory, for a conversation built without settings."""

    def __init__(self) -> None:
        self._objects: dict[str, bytes] = {}

    async def save(self, key: str, content: bytes) -> None:
        self._objects[key] = content

    async def load(self, key: str) -> bytes | None:
        return self._objects.get(key)

    def where(self, key: str) -> str:
        return f"{MEDIA_PREFIX}{key}"

    async def check(self) -> None:
        return None


class MediaLink(Base):
    """An expiring token under which a stored file can be fetched by URL."""

    __tablename__ = "media_links"
    __table_args__ = (
        Index("ix_media_links_media_key", "media_key", "expires_at"),
        Index("ix_media_links_expires_at", "expires_at"),
    )

    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    media_key: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def link_to(session: AsyncSession, key: str, now: datetime) -> str:
    """A token for `key` that lasts at least half of LINK_LIFETIME from `now`."""
    token = (
        await session.execute(
            select(MediaLink.token)
            .where(MediaLink.media_key == key, MediaLink.expires_at > now + LINK_LIFETIME / 2)
            .limit(1)
        )
    ).scalar()
    if token is not None:
        return token
    token = new_token()
    session.add(
        MediaLink(token=token, media_key=key, created_at=now, expires_at=now + LINK_LIFETIME)
    )
    await session.flush()
    return token


async def linked_key(session: AsyncSession, token: str, now: datetime) -> str | None:
    """The key a live link leads to, or None (never was, expired, malformed)."""
    if not token or len(token) > TOKEN_LENGTH:
        return None
    return (
        await session.execute(
            select(MediaLink.media_key).where(MediaLink.token == token, MediaLink.expires_at > now)
        )
    ).scalar()


async def prune_media_links(session: AsyncSession, now: datetime, batch: int) -> int:
    """Deletes up to `batch` expired links (never the files they led to); returns how many."""
    return await delete_some(
        session, MediaLink.token, MediaLink.expires_at <= now, batch, MediaLink.expires_at
    )
