"""Single-use invites that make a person an operator of a merchant, and who operates which."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.catalog import Merchant
from models.errors import Refusal
from models.outbox import HELD, OutboxMessage, notify_person
from models.people import Identity, Person, Role

# Letters and digits that cannot be mistaken for one another when read aloud or typed.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


class MerchantInvite(Base):
    __tablename__ = "merchant_invites"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))


def normal_code(typed: str) -> str:
    return "".join(typed.split()).upper().replace("-", "")


async def create_invite(
    session: AsyncSession, merchant_id: int, now: datetime, valid_for: timedelta
) -> MerchantInvite:
    if await session.get(Merchant, merchant_id) is None:
        raise LookupError(f"no merchant with id {merchant_id}")
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    invite = MerchantInvite(
        code=code, merchant_id=merchant_id, created_at=now, expires_at=now + valid_for
    )
    session.add(invite)
    await session.flush()
    return invite


async def join_with(session: AsyncSession, person: Person, typed: str, now: datetime) -> Merchant:
    """Uses the invite: the person operates its merchant from now on. Used, expired and
    unknown codes are refused and change nothing; of two people racing for one code, one
    wins (the conditional UPDATE)."""
    code = normal_code(typed)
    invite = await session.get(MerchantInvite, code) if code else None
    if invite is None:
        raise Refusal("invite_unknown")
    if invite.used_at is not None:
        raise Refusal("invite_used")
    if invite.expires_at <= now:
        raise Refusal("invite_expired")
    taken = await session.execute(
        update(MerchantInvite)
        .where(MerchantInvite.code == code, MerchantInvite.used_at.is_(None))
        .values(used_at=now, used_by=person.id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Refusal("invite_used")
    merchant = await session.get(Merchant, invite.merchant_id)
    assert merchant is not None
    await make_operator(session, person.id, merchant.id, now)
    return merchant


async def make_operator(
    session: AsyncSession, person_id: int, merchant_id: int, now: datetime
) -> None:
    """The person operates the merchant from now on (an invite used, a claim by phone), and
    gets what was held for it."""
    already = await session.scalar(
        select(Role.id).where(
            Role.person_id == person_id, Role.role == "merchant", Role.merchant_id == merchant_id
        )
    )
    if already is None:
        session.add(Role(person_id=person_id, role="merchant", merchant_id=merchant_id))
    await _hand_over_held(session, person_id, merchant_id, now)
    await session.flush()


async def _hand_over_held(
    session: AsyncSession, person_id: int, merchant_id: int, now: datetime
) -> None:
    """Notices kept for a merchant that had no operator go to the first one who joins."""
    held = list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.merchant_id == merchant_id, OutboxMessage.status == HELD)
            .order_by(OutboxMessage.id)
        )
    )
    for message in held:
        await notify_person(session, person_id, message.kind, message.payload, now)
        await session.delete(message)


async def remove_operator(session: AsyncSession, merchant_id: int, identity: str) -> bool:
    person_id = await session.scalar(
        select(Identity.person_id).where(Identity.identity == identity)
    )
    if person_id is None:
        return False
    role = await session.scalar(
        select(Role).where(
            Role.person_id == person_id, Role.role == "merchant", Role.merchant_id == merchant_id
        )
    )
    if role is None:
        return False
    await session.delete(role)
    await session.flush()
    return True


async def merchants_and_operators(
    session: AsyncSession, merchant_ids: list[int]
) -> list[tuple[Merchant, list[str]]]:
    """The merchants with these ids (all when none), by id, each with the identities of the
    people who operate it."""
    merchants = select(Merchant).order_by(Merchant.id)
    operators = (
        select(Role.merchant_id, Identity.identity)
        .join(Identity, Identity.person_id == Role.person_id)
        .where(Role.role == "merchant")
        .order_by(Role.merchant_id, Identity.identity)
    )
    if merchant_ids:
        merchants = merchants.where(Merchant.id.in_(merchant_ids))
        operators = operators.where(Role.merchant_id.in_(merchant_ids))
    by_merchant: dict[int, list[str]] = {}
    for merchant_id, identity in await session.execute(operators):
        by_merchant.setdefault(merchant_id, []).append(identity)
    return [
        (merchant, by_merchant.get(merchant.id, []))
        for merchant in await session.scalars(merchants)
    ]


async def find_merchants(
    session: AsyncSession,
    typed: str | None,
    kota: str | None,
    kecamatan: str | None,
    limit: int,
    offset: int = 0,
) -> list[Merchant]:
    """Merchants whose Jakpreneur id is `typed`, or whose name holds it, in a kota or
    kecamatan if given; by name."""
    query = select(Merchant).order_by(Merchant.name, Merchant.id).offset(offset).limit(limit)
    if typed:
        query = query.where(
            (Merchant.jakpreneur_id == typed)
            | func.lower(Merchant.name).contains(typed.lower(), autoescape=True)
        )
    if kota:
        query = query.where(Merchant.kota == kota)
    if kecamatan:
        query = query.where(Merchant.kecamatan == kecamatan)
    return list(await session.scalars(query))


async def operators_of_merchant(session: AsyncSession, merchant_id: int) -> list[tuple[str, str]]:
    """Who runs the merchant: each operator's name and identity."""
    rows = await session.execute(
        select(Person.display_name, Identity.identity)
        .join(Role, Role.person_id == Person.id)
        .join(Identity, Identity.person_id == Person.id)
        .where(Role.role == "merchant", Role.merchant_id == merchant_id)
        .order_by(Person.display_name, Identity.identity)
    )
    return [(name, identity) for name, identity in rows]
