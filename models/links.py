"""One person on several channels: the codes of `/tautkan`, joining two persons into one, and
`/lepas`, which parts them again (decision record 0034).

A person's identities are already many to one (`Identity.person_id`), and every message is
handled for the person behind its identity (`models.chats.open_chat`). Linking points the
identities of the person who types the code at the person who asked for it, and moves what the
other person had (cart, orders, ratings, subscription, roles) onto them, so every per-person
query sees both chats' things. The person who typed the code keeps their row, without
identities, for unlinking to give back to.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import ForeignKey, Index, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, delete_some
from models.carts import MAX_QUANTITY, CartItem
from models.claims import ShopClaim
from models.errors import Refusal
from models.ordering import Order
from models.people import Identity, Person, Role
from models.ratings import Rating
from models.subscriptions import EVERY_CATEGORY, Subscription

CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=10)
# Wrong codes an identity may type in `TRIES_PER`; the next is refused without looking.
WRONG_TRIES = 5
TRIES_PER = timedelta(hours=1)
# Codes are kept this long after they end, to tell a late typist "expired" or "used".
KEEP_CODES = timedelta(days=1)
MERCHANT = "merchant"


class LinkCode(Base):
    """A code `/tautkan` gave, kept as its hash only: typed on another channel within
    `CODE_VALID`, it joins the typist to `person_id`; it works once."""

    __tablename__ = "link_codes"
    __table_args__ = (Index("ix_link_codes_code_hash", "code_hash", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # The identity that asked for it (whose person was `person_id` then); the code works only
    # from another channel.
    identity: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[str | None] = mapped_column(String(80))


class LinkAttempt(Base):
    """A wrong code typed from an identity: the last hour's count limits guessing."""

    __tablename__ = "link_attempts"
    __table_args__ = (Index("ix_link_attempts_identity", "identity", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outcome(Enum):
    """What typing a code did; all but LINKED and ALREADY count as a wrong try."""

    LINKED = "linked"
    ALREADY = "already"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    SAME_CHANNEL = "same_channel"


@dataclass(frozen=True)
class Linked:
    outcome: Outcome
    # The person both identities are now (LINKED, ALREADY).
    person: Person | None = None
    # Both were subscribed to the Friday broadcast: the channels to choose one from.
    choose_broadcast: tuple[str, ...] = ()


def channel_of(identity: str) -> str:
    return identity.split(":", 1)[0]


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _live(hashed: str, now: datetime) -> object:
    return (LinkCode.code_hash == hashed) & LinkCode.used_at.is_(None) & (LinkCode.expires_at > now)


async def new_code(session: AsyncSession, person_id: int, identity: str, now: datetime) -> str:
    """A fresh code for the person on `identity`; the identity's earlier codes stop working."""
    await session.execute(
        update(LinkCode)
        .where(LinkCode.identity == identity, LinkCode.used_at.is_(None), LinkCode.expires_at > now)
        .values(expires_at=now)
    )
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        # Two live codes alike would be ambiguous: draw again (rare, with a few live codes).
        taken = await session.scalar(select(LinkCode.id).where(_live(code_hash(code), now)))
        if taken is None:
            break
    session.add(
        LinkCode(
            code_hash=code_hash(code),
            person_id=person_id,
            identity=identity,
            created_at=now,
            expires_at=now + CODE_VALID,
        )
    )
    await session.flush()
    return code


async def _wrong(session: AsyncSession, identity: str, outcome: Outcome, now: datetime) -> Linked:
    # The identity's tries older than the window are of no more use.
    await session.execute(
        delete(LinkAttempt).where(
            LinkAttempt.identity == identity, LinkAttempt.at <= now - TRIES_PER
        )
    )
    session.add(LinkAttempt(identity=identity, at=now))
    await session.flush()
    return Linked(outcome)


async def use_code(
    session: AsyncSession, person: Person, identity: str, code: str, now: datetime
) -> Linked:
    """`person`, typing `code` on `identity`, becomes the person who asked for it.

    Refuses (`Refusal`) after `WRONG_TRIES` wrong tries in the last `TRIES_PER`, and when
    both persons run shops and not the same ones. A wrong, expired or used code, or one typed
    on the channel that asked for it, is recorded as a wrong try (and returned, not raised,
    so that the try is committed).
    """
    tries = await session.scalar(
        select(func.count())
        .select_from(LinkAttempt)
        .where(LinkAttempt.identity == identity, LinkAttempt.at > now - TRIES_PER)
    )
    if (tries or 0) >= WRONG_TRIES:
        raise Refusal("link_too_many")
    hashed = code_hash(code)
    found = await session.scalar(
        select(LinkCode).where(_live(hashed, now)).order_by(LinkCode.id).limit(1)
    )
    if found is None:
        latest = await session.scalar(
            select(LinkCode)
            .where(LinkCode.code_hash == hashed)
            .order_by(LinkCode.id.desc())
            .limit(1)
        )
        if latest is None:
            return await _wrong(session, identity, Outcome.WRONG, now)
        used = latest.used_at is not None
        return await _wrong(session, identity, Outcome.USED if used else Outcome.EXPIRED, now)
    if channel_of(found.identity) == channel_of(identity):
        return await _wrong(session, identity, Outcome.SAME_CHANNEL, now)
    # The person the asking chat is now: it may have been linked elsewhere since it asked.
    keeper_id = await session.scalar(
        select(Identity.person_id).where(Identity.identity == found.identity)
    )
    if keeper_id is None:
        return await _wrong(session, identity, Outcome.WRONG, now)
    if keeper_id == person.id:
        return Linked(Outcome.ALREADY, person)
    await _check_shops(session, keeper_id, person.id)
    # Conditional, so that of two messages typing the code at once only one links; the other
    # waits for this one's commit (PostgreSQL's row lock, SQLite's one writer) and updates none.
    claimed = await session.execute(
        update(LinkCode)
        .where(LinkCode.id == found.id, LinkCode.used_at.is_(None))
        .values(used_at=now, used_by=identity)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return await _wrong(session, identity, Outcome.USED, now)
    keeper = await session.get(Person, keeper_id)
    assert keeper is not None
    both_subscribed = await _merge(session, keeper, person)
    choose = ()
    if both_subscribed:
        choose = tuple(sorted({channel_of(i) for i in await identities_of(session, keeper.id)}))
    return Linked(Outcome.LINKED, keeper, choose)


async def _shops(session: AsyncSession, person_id: int) -> set[int]:
    found = await session.scalars(
        select(Role.merchant_id).where(Role.person_id == person_id, Role.role == MERCHANT)
    )
    return {merchant_id for merchant_id in found if merchant_id is not None}


async def _check_shops(session: AsyncSession, keeper_id: int, joining_id: int) -> None:
    """Two persons who each run shops, not the same ones, are kept apart: one person would
    get both shops' orders and act for both, which is a merge of shops no one asked staff for."""
    kept, joining = await _shops(session, keeper_id), await _shops(session, joining_id)
    if kept and joining and kept != joining:
        raise Refusal("link_two_shops")


async def identities_of(session: AsyncSession, person_id: int) -> list[str]:
    found = await session.scalars(
        select(Identity.identity).where(Identity.person_id == person_id).order_by(Identity.identity)
    )
    return list(found)


async def _merge(session: AsyncSession, keeper: Person, joining: Person) -> bool:
    """Moves `joining`'s identities and things onto `keeper`; True if both were subscribed."""
    old, new = joining.id, keeper.id
    # The typist's language is the newer choice; their remembered checkout details fill gaps.
    keeper.language = joining.language
    for field in ("contact_name", "phone", "delivery", "address", "payment"):
        if getattr(keeper, field) is None:
            setattr(keeper, field, getattr(joining, field))
    # The area for "Dekat saya" goes as one: a kelurahan belongs to its kecamatan.
    if keeper.area_kecamatan is None:
        keeper.area_kecamatan = joining.area_kecamatan
        keeper.area_kelurahan = joining.area_kelurahan
    await session.execute(
        update(Identity)
        .where(Identity.person_id == old)
        .values(linked_from=func.coalesce(Identity.linked_from, Identity.person_id), person_id=new)
        .execution_options(synchronize_session=False)
    )
    await _merge_carts(session, keeper.id, joining.id)
    for table in (Order, Rating):
        await session.execute(
            update(table)
            .where(table.person_id == old)
            .values(person_id=new)
            .execution_options(synchronize_session=False)
        )
    # A shop claim waiting for an answer or for staff is answered to the person who claims now
    # (one a claim of the keeper's for the same shop already answers stays behind).
    await session.execute(
        update(ShopClaim)
        .where(
            ShopClaim.person_id == old,
            ShopClaim.merchant_id.not_in(
                select(ShopClaim.merchant_id).where(ShopClaim.person_id == new)
            ),
        )
        .values(person_id=new)
        .execution_options(synchronize_session=False)
    )
    kept = await session.scalars(select(Role).where(Role.person_id == new))
    held = {(role.role, role.merchant_id) for role in kept}
    for role in list(await session.scalars(select(Role).where(Role.person_id == old))):
        if (role.role, role.merchant_id) in held:
            # The keeper has it already: one row is enough (see decision record 0034).
            await session.delete(role)
        else:
            role.person_id = new
            role.linked_from = role.linked_from if role.linked_from is not None else old
    return await _merge_subscriptions(session, new, old)


async def _merge_carts(session: AsyncSession, keeper_id: int, joining_id: int) -> None:
    kept = {
        item.product_id: item
        for item in await session.scalars(select(CartItem).where(CartItem.person_id == keeper_id))
    }
    joining = list(await session.scalars(select(CartItem).where(CartItem.person_id == joining_id)))
    for item in joining:
        same = kept.get(item.product_id)
        if same is not None:
            same.quantity = min(same.quantity + item.quantity, MAX_QUANTITY)
            await session.delete(item)
    await session.flush()
    await session.execute(
        update(CartItem)
        .where(CartItem.person_id == joining_id)
        .values(person_id=keeper_id)
        .execution_options(synchronize_session=False)
    )


async def _merge_subscriptions(session: AsyncSession, keeper_id: int, joining_id: int) -> bool:
    kept = await session.get(Subscription, keeper_id)
    joining = await session.get(Subscription, joining_id)
    if joining is None:
        return False
    if kept is None:
        await session.delete(joining)
        await session.flush()
        session.add(
            Subscription(
                person_id=keeper_id,
                identity=joining.identity,
                channel=joining.channel,
                categories=joining.categories,
                since=joining.since,
            )
        )
        await session.flush()
        return False
    # One broadcast a Friday: the categories of both, and every category if either had all.
    if EVERY_CATEGORY in (kept.categories, joining.categories):
        kept.categories = EVERY_CATEGORY
    else:
        kept.categories |= joining.categories
    kept.since = min(kept.since, joining.since)
    await session.delete(joining)
    await session.flush()
    return True


async def broadcast_on(session: AsyncSession, person_id: int, channel: str) -> str | None:
    """Sends the person's Friday broadcast to their chat on `channel`; the identity, or None
    when they have no subscription or no chat there."""
    subscription = await session.get(Subscription, person_id)
    if subscription is None:
        return None
    identity = await session.scalar(
        select(Identity.identity)
        .where(Identity.person_id == person_id, Identity.identity.startswith(f"{channel}:"))
        .order_by(Identity.last_seen_at.desc())
        .limit(1)
    )
    if identity is None:
        return None
    subscription.identity, subscription.channel = identity, channel
    await session.flush()
    return identity


async def linked_identities(session: AsyncSession, person_id: int) -> list[str]:
    """The person's identities that linking joined to them."""
    found = await session.scalars(
        select(Identity.identity)
        .where(Identity.person_id == person_id, Identity.linked_from.is_not(None))
        .order_by(Identity.identity)
    )
    return list(found)


async def unlink(session: AsyncSession, person: Person) -> list[str]:
    """Every identity linking joined to `person` becomes its own person again, with the roles
    it brought and the Friday broadcast if it goes to that chat; orders, cart and ratings stay.
    Returns the identities parted."""
    parted = list(
        await session.scalars(
            select(Identity).where(
                Identity.person_id == person.id, Identity.linked_from.is_not(None)
            )
        )
    )
    subscription = await session.get(Subscription, person.id)
    for identity in parted:
        own = identity.linked_from
        assert own is not None
        former = await session.get(Person, own)
        assert former is not None
        former.language = person.language
        identity.person_id, identity.linked_from = own, None
        await session.execute(
            update(Role)
            .where(Role.person_id == person.id, Role.linked_from == own)
            .values(person_id=own, linked_from=None)
            .execution_options(synchronize_session=False)
        )
        if subscription is not None and subscription.identity == identity.identity:
            await session.delete(subscription)
            await session.flush()
            session.add(
                Subscription(
                    person_id=own,
                    identity=subscription.identity,
                    channel=subscription.channel,
                    categories=subscription.categories,
                    since=subscription.since,
                )
            )
            subscription = None
    await session.flush()
    return [identity.identity for identity in parted]


async def prune_link_codes(session: AsyncSession, now: datetime, batch: int) -> int:
    """Forgets up to `batch` codes that ended more than `KEEP_CODES` ago (nightly)."""
    return await delete_some(session, LinkCode.id, LinkCode.expires_at < now - KEEP_CODES, batch)


async def prune_link_attempts(session: AsyncSession, now: datetime, batch: int) -> int:
    """Forgets up to `batch` wrong tries older than the limit's window (nightly)."""
    return await delete_some(session, LinkAttempt.id, LinkAttempt.at <= now - TRIES_PER, batch)
