"""Files that handlers make for people (a chart, a spreadsheet), kept until their link expires.

A reply names a file by its token, never carries its bytes: replies can be outbox rows (JSON),
and WhatsApp fetches media from a URL. `FileStore` is all the rest of jbl knows of where the
bytes live; `DatabaseFiles` keeps them in the `files` table, and a store on S3-compatible
storage would implement the same three operations.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Index, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, delete_some

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# How long a file can be fetched: long enough to read a Saturday's report on Monday or forward
# it within the week, short enough that a forwarded link does not stay open for good.
KEEP_FILES = timedelta(days=7)
# 48 hex digits: 192 random bits, beyond guessing. Letters and digits only, because WhatsApp
# reads `-_x_-` in a link as italics and shows the link without its underscores.
TOKEN_BYTES = 24
TOKEN_LENGTH = 64


@dataclass(frozen=True)
class FileContent:
    """A file: the name it is offered under, its media type and its bytes."""

    name: str
    media_type: str
    content: bytes


class FileStore(Protocol):
    """Where files live between the handler that made them and the channel that sends them.

    Every call runs in the caller's unit of work, so a file saved by a handler whose
    transaction rolls back is gone with it (a store outside the database leaves an orphan
    that `prune` never finds: such a store expires its objects itself)."""

    async def save(self, session: AsyncSession, file: FileContent, now: datetime) -> str:
        """Keeps the file until `now + KEEP_FILES`; returns its token, unguessable."""
        ...

    async def open(self, session: AsyncSession, token: str, now: datetime) -> FileContent | None:
        """The file of `token`, or None when no file has it or it has expired."""
        ...

    async def prune(self, session: AsyncSession, now: datetime, batch: int) -> int:
        """Deletes up to `batch` expired files; returns how many."""
        ...


class StoredFile(Base):
    __tablename__ = "files"
    __table_args__ = (Index("ix_files_expires_at", "expires_at"),)

    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


class DatabaseFiles:
    """A `FileStore` in the `files` table of jbl's own database."""

    async def save(self, session: AsyncSession, file: FileContent, now: datetime) -> str:
        token = new_token()
        session.add(
            StoredFile(
                token=token,
                name=file.name,
                media_type=file.media_type,
                size=len(file.content),
                content=file.content,
                created_at=now,
                expires_at=now + KEEP_FILES,
            )
        )
        await session.flush()
        return token

    async def open(self, session: AsyncSession, token: str, now: datetime) -> FileContent | None:
        if not token or len(token) > TOKEN_LENGTH:
            return None
        row = (
            await session.execute(
                select(StoredFile.name, StoredFile.media_type, StoredFile.content).where(
                    StoredFile.token == token, StoredFile.expires_at > now
                )
            )
        ).first()
        return None if row is None else FileContent(row.name, row.media_type, row.content)

    async def prune(self, session: AsyncSession, now: datetime, batch: int) -> int:
        return await delete_some(
            session, StoredFile.token, StoredFile.expires_at <= now, batch, StoredFile.expires_at
        )
