"""Persons, the chat identities they write from, and their roles."""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime

LAST_SEEN_PRECISION = timedelta(minutes=10)
WHATSAPP = "whatsapp"
TELEGRAM = "telegram"


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str] = mapped_column(String(2), default="id")
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Checkout details, remembered for the next order.
    contact_name: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20))
    delivery: Mapped[str | None] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(300))
    payment: Mapped[str | None] = mapped_column(String(10))
    # Where the resident shops near ("Dekat saya"): a kecamatan of models/data, and one of its
    # kelurahan or none (the whole kecamatan). Chosen in chat or read from a delivery address.
    area_kecamatan: Mapped[str | None] = mapped_column(String(60))
    area_kelurahan: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    identities: Mapped[list[Identity]] = relationship(back_populates="person")


class Identity(Base):
    """`console:<name>`, `telegram:<user id>` or `whatsapp:+62…`: one chat account of a person."""

    __tablename__ = "identities"

    identity: Mapped[str] = mapped_column(String(80), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the platform said this chat cannot receive (bot blocked, account gone); nothing is
    # sent to it until the person writes again.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The person (a persons.id) this identity was before `/tautkan` joined it to another
    # (models/links.py); None while it is its own. Unlinking makes it that person again. No
    # foreign key: a second one to persons would make every join of the two tables ambiguous.
    linked_from: Mapped[int | None] = mapped_column(Integer)

    person: Mapped[Person] = relationship(back_populates="identities")


STAFF = "staff"


class Role(Base):
    """`staff`, or `merchant` with the merchant the person operates."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "role", "merchant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    # The person (a persons.id) whose role linking carried over to this one; unlinking gives
    # it back. No foreign key, for the same reason as `Identity.linked_from`.
    linked_from: Mapped[int | None] = mapped_column(Integer)


def canonical_identity(identity: str) -> str:
    """The one spelling of an identity: a WhatsApp number in E.164, however it was written.

    `whatsapp:+62 812-3456-7890`, `whatsapp:081234567890` and a bare `+62 812 3456 7890`
    are all `whatsapp:+6281234567890` (a number without a country code is Indonesian).
    Anything else is returned as given; a WhatsApp identity that is no phone number raises
    ValueError.
    """
    channel, colon, rest = identity.partition(":")
    if colon and channel != WHATSAPP:
        return identity
    number = rest if colon else identity
    if not colon and not number.lstrip().startswith(("+", "0")):
        return identity
    try:
        parsed = phonenumbers.parse(number, "ID")
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"{identity!r} is not a phone number") from error
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"{identity!r} is not a phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return f"{WHATSAPP}:{e164}"


async def new_person(
    session: AsyncSession, identity: str, display_name: str, language: str, now: datetime
) -> tuple[Person, Identity]:
    """The person writing from an identity for the first time."""
    person = Person(display_name=display_name[:120], language=language, created_at=now)
    session.add(person)
    await session.flush()
    row = Identity(identity=identity, person_id=person.id, last_seen_at=now)
    session.add(row)
    await session.flush()
    return person, row


async def person_of(session: AsyncSession, identity: str) -> Person | None:
    """The person who writes from `identity`, if they have written."""
    return await session.scalar(select(Person).join(Identity).where(Identity.identity == identity))


async def preferred_identity(session: AsyncSession, person_id: int) -> str | None:
    """The identity the person wrote from most recently: where messages to them go."""
    return await session.scalar(
        select(Identity.identity)
        .where(Identity.person_id == person_id)
        .order_by(Identity.last_seen_at.desc())
        .limit(1)
    )


async def person_language(session: AsyncSession, person_id: int) -> str | None:
    return await session.scalar(select(Person.language).where(Person.id == person_id))


async def operators_of(session: AsyncSession, merchant_id: int) -> list[int]:
    rows = await session.scalars(
        select(Role.person_id).where(Role.role == "merchant", Role.merchant_id == merchant_id)
    )
    return list(rows)


async def is_staff(session: AsyncSession, person_id: int) -> bool:
    found = await session.scalar(
        select(Role.id).where(Role.person_id == person_id, Role.role == STAFF).limit(1)
    )
    return found is not None
