"""Staff's sign-in to the web console: single-use links asked for in chat or printed by the
operator, and the sessions they start.

Only a token's SHA-256 is stored: a copy of the database (a backup, a replica) holds nothing
that signs anyone in. A link is used by one conditional UPDATE, so of two requests racing with
the same link at most one starts a session. Every request checks that the session's person is
still staff, and taking the role away ends their sessions at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.people import STAFF, Identity, Person, Role, is_staff

LINK_VALID = timedelta(minutes=10)
# Bytes of randomness in a link's token and a session's: 256 bits, as URL-safe text.
TOKEN_BYTES = 32


class SignInLink(Base):
    __tablename__ = "web_sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    # Who asked: the chat identity, or `cli:<user>` for a link the operator printed.
    asked_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    # Sent back in every form and compared on every POST: a page of another site cannot read
    # it, so it cannot post as this person.
    csrf_token: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Signed:
    """A valid session: whose, in which language, and its form token."""

    person_id: int
    name: str
    language: str
    csrf_token: str
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def staff_person(session: AsyncSession, identity: str) -> int | None:
    """The person behind `identity` if they are staff."""
    return await session.scalar(
        select(Identity.person_id)
        .join(Role, Role.person_id == Identity.person_id)
        .where(Identity.identity == identity, Role.role == STAFF)
    )


async def create_link(
    session: AsyncSession, person_id: int, asked_by: str, now: datetime
) -> tuple[str, datetime]:
    """A new single-use sign-in token for a staff member, and when it expires."""
    token = new_token()
    expires = now + LINK_VALID
    session.add(
        SignInLink(
            token_hash=_hash(token),
            person_id=person_id,
            asked_by=asked_by,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return token, expires


async def use_link(
    session: AsyncSession, token: str, now: datetime, lasting: timedelta
) -> tuple[str, Signed] | None:
    """Starts a session with the link, using it up; None if the link is unknown, used,
    expired, or its person is no longer staff. Returns the session's token (the cookie)."""
    if not token or len(token) > 100:
        return None
    used = await session.execute(
        update(SignInLink)
        .where(
            SignInLink.token_hash == _hash(token),
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInLink.person_id)
    )
    person_id = used.scalar_one_or_none()
    if person_id is None or not await is_staff(session, person_id):
        return None  # a link whose person lost the role meanwhile is used up all the same
    session_token = new_token()
    session.add(
        WebSession(
            token_hash=_hash(session_token),
            person_id=person_id,
            csrf_token=new_token(),
            started_at=now,
            expires_at=now + lasting,
        )
    )
    await session.flush()
    signed = await signed_in(session, session_token, now)
    assert signed is not None
    return session_token, signed


async def signed_in(session: AsyncSession, token: str | None, now: datetime) -> Signed | None:
    """The session of this cookie if it is valid now and its person is still staff."""
    if not token or len(token) > 100:
        return None
    found = await session.execute(
        select(
            WebSession.person_id,
            Person.display_name,
            Person.language,
            WebSession.csrf_token,
            WebSession.expires_at,
        )
        .join(Person, Person.id == WebSession.person_id)
        .join(Role, (Role.person_id == WebSession.person_id) & (Role.role == STAFF))
        .where(
            WebSession.token_hash == _hash(token),
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
        )
    )
    row = found.first()
    return None if row is None else Signed(*row)


async def end_session(session: AsyncSession, token: str, now: datetime) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.token_hash == _hash(token), WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def end_sessions_of(session: AsyncSession, person_id: int, now: datetime) -> int:
    """Ends every session of the person, and voids their unused links; how many sessions."""
    ended = await session.execute(
        update(WebSession)
        .where(WebSession.person_id == person_id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    await session.execute(
        update(SignInLink)
        .where(SignInLink.person_id == person_id, SignInLink.used_at.is_(None))
        .values(used_at=now)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]
