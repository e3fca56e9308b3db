"""Merchants who take over their imported shop by the phone in the import, and staff's decision
when the shop already has someone else running it.

A claim is one person's answer about one shop, kept whatever it was: asked and not answered
yet, declined ("not my shop", never asked again unless they ask), taken (they run it now),
or with staff, and staff's decision. The phone it names is the one the platform vouched for
when it was asked; it must still be the shop's when the person confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.catalog import Merchant
from models.errors import Refusal
from models.invites import make_operator
from models.outbox import notify_person
from models.people import Identity, Person, Role, operators_of
from models.staff import record, staff_members

# A claim's life: offered → declined | claimed | pending → approved | refused. Declined is
# offered again only when the person asks (`again`); the others are final.
OFFERED = "offered"
DECLINED = "declined"
CLAIMED = "claimed"
PENDING = "pending"
APPROVED = "approved"
REFUSED = "refused"

# Outbox kinds: to each staff member, a claim waiting for them; to the claimant, the outcome.
CLAIM_PENDING = "claim_pending"
CLAIM_APPROVED = "claim_approved"
CLAIM_REFUSED = "claim_refused"
KINDS = frozenset({CLAIM_PENDING, CLAIM_APPROVED, CLAIM_REFUSED})


class ShopClaim(Base):
    __tablename__ = "shop_claims"
    __table_args__ = (
        # One answer per person and shop: asking again updates it.
        UniqueConstraint("person_id", "merchant_id"),
        # Staff's list of pending claims.
        Index("ix_shop_claims_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    # The phone the platform vouched for as the person's, +62….
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Offer:
    """The shops imported with a person's phone, by what can be done about each."""

    # Claims to ask about now, shop by shop in id order.
    asked: list[tuple[ShopClaim, Merchant]]
    # With staff.
    waiting: list[Merchant]
    # Run by the person already.
    running: list[Merchant]
    # Decided (refused, or claimed before and since taken back by staff): an invite now.
    closed: list[Merchant]

    @property
    def empty(self) -> bool:
        return not (self.asked or self.waiting or self.running or self.closed)


async def offer(
    session: AsyncSession,
    person_id: int,
    phone: str,
    now: datetime,
    *,
    again: bool,
    merchant_id: int | None = None,
) -> Offer:
    """The shops whose imported phone is `phone` (only `merchant_id`, if given), each offered
    to the person unless they run it or answered already. A declined shop is offered again
    only when the person asked (`again`)."""
    query = select(Merchant).where(Merchant.contact_phone == phone).order_by(Merchant.id)
    if merchant_id is not None:
        query = query.where(Merchant.id == merchant_id)
    merchants = list(await session.scalars(query))
    found = Offer([], [], [], [])
    if not merchants:
        return found
    ids = [merchant.id for merchant in merchants]
    running = set(
        await session.scalars(
            select(Role.merchant_id).where(
                Role.person_id == person_id, Role.role == "merchant", Role.merchant_id.in_(ids)
            )
        )
    )
    answered = {
        claim.merchant_id: claim
        for claim in await session.scalars(
            select(ShopClaim).where(
                ShopClaim.person_id == person_id, ShopClaim.merchant_id.in_(ids)
            )
        )
    }
    for merchant in merchants:
        claim = answered.get(merchant.id)
        if merchant.id in running:
            found.running.append(merchant)
        elif claim is None:
            claim = ShopClaim(
                person_id=person_id,
                merchant_id=merchant.id,
                phone=phone,
                status=OFFERED,
                asked_at=now,
            )
            session.add(claim)
            found.asked.append((claim, merchant))
        elif claim.status == OFFERED or (again and claim.status == DECLINED):
            claim.status, claim.phone, claim.asked_at = OFFERED, phone, now
            found.asked.append((claim, merchant))
        elif claim.status == PENDING:
            found.waiting.append(merchant)
        elif claim.status != DECLINED:
            found.closed.append(merchant)
    await session.flush()
    return found


async def still_offered(session: AsyncSession, person_id: int) -> list[tuple[ShopClaim, Merchant]]:
    """The person's claims not answered yet, to ask about in turn; not one whose shop has
    another phone since (staff imported it again)."""
    rows = await session.execute(
        select(ShopClaim, Merchant)
        .join(Merchant, Merchant.id == ShopClaim.merchant_id)
        .where(
            ShopClaim.person_id == person_id,
            ShopClaim.status == OFFERED,
            Merchant.contact_phone == ShopClaim.phone,
        )
        .order_by(ShopClaim.merchant_id)
    )
    return [(claim, merchant) for claim, merchant in rows.tuples()]


async def _offered(session: AsyncSession, person_id: int, claim_id: int) -> ShopClaim:
    """The person's claim, still to answer; a forged id, or someone else's, is stale."""
    claim = await session.get(ShopClaim, claim_id)
    if claim is None or claim.person_id != person_id:
        raise Refusal("stale_button")
    if claim.status != OFFERED:
        raise Refusal("claim_answered")
    return claim


async def _answer(session: AsyncSession, claim: ShopClaim, status: str, now: datetime) -> None:
    """Records the answer unless another message of the person's answered first."""
    answered = await session.execute(
        update(ShopClaim)
        .where(ShopClaim.id == claim.id, ShopClaim.status == OFFERED)
        .values(status=status, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if answered.rowcount != 1:  # type: ignore[attr-defined]
        raise Refusal("claim_answered")
    claim.status, claim.answered_at = status, now


async def confirm(
    session: AsyncSession, person_id: int, claim_id: int, now: datetime
) -> tuple[ShopClaim, Merchant]:
    """ "Yes, my shop": the person runs it now if nobody does; if someone else does, the claim
    goes to staff (`PENDING`) and each staff member is told. Of two people confirming the
    same shop at once, one runs it and the other's claim goes to staff: the shop's row is
    locked while its operators are read (SQLite runs one writer at a time anyway)."""
    claim = await _offered(session, person_id, claim_id)
    merchant = await session.scalar(
        select(Merchant)
        .where(Merchant.id == claim.merchant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert merchant is not None  # merchants are never deleted
    if merchant.contact_phone != claim.phone:
        # Staff imported another number since the question was asked.
        raise Refusal("claim_phone_changed", merchant=merchant.name)
    others = [p for p in await operators_of(session, merchant.id) if p != person_id]
    if not others:
        await _answer(session, claim, CLAIMED, now)
        await make_operator(session, person_id, merchant.id, now)
        return claim, merchant
    await _answer(session, claim, PENDING, now)
    for staff_id, _ in await staff_members(session):
        await notify_person(session, staff_id, CLAIM_PENDING, {"claim_id": claim.id}, now)
    await session.flush()
    return claim, merchant


async def decline(
    session: AsyncSession, person_id: int, claim_id: int, now: datetime
) -> tuple[ShopClaim, Merchant]:
    """ "Not my shop": nothing changes, and the person is not asked about it again."""
    claim = await _offered(session, person_id, claim_id)
    await _answer(session, claim, DECLINED, now)
    merchant = await session.get(Merchant, claim.merchant_id)
    assert merchant is not None
    return claim, merchant


@dataclass(frozen=True)
class ClaimView:
    """A claim as staff and the claimant read it."""

    id: int
    status: str
    merchant_id: int
    merchant: str
    area: str
    phone: str
    claimant_id: int
    claimant: str
    asked_at: datetime
    answered_at: datetime | None
    # The names of the people who run the shop now.
    operators: list[str]
    # The identities the claimant writes from.
    identities: list[str]


async def claim_views(session: AsyncSession, claim_ids: list[int]) -> dict[int, ClaimView]:
    if not claim_ids:
        return {}
    rows = (
        await session.execute(
            select(ShopClaim, Merchant, Person.display_name)
            .join(Merchant, Merchant.id == ShopClaim.merchant_id)
            .join(Person, Person.id == ShopClaim.person_id)
            .where(ShopClaim.id.in_(claim_ids))
            .order_by(ShopClaim.id)
        )
    ).tuples()
    found = list(rows)
    merchant_ids = {merchant.id for _, merchant, _ in found}
    operators: dict[int, list[str]] = {}
    for merchant_id, name in await session.execute(
        select(Role.merchant_id, Person.display_name)
        .join(Person, Person.id == Role.person_id)
        .where(Role.role == "merchant", Role.merchant_id.in_(merchant_ids))
        .order_by(Role.merchant_id, Person.id)
    ):
        operators.setdefault(merchant_id, []).append(name)
    person_ids = {claim.person_id for claim, _, _ in found}
    identities: dict[int, list[str]] = {}
    for person_id, identity in await session.execute(
        select(Identity.person_id, Identity.identity)
        .where(Identity.person_id.in_(person_ids))
        .order_by(Identity.identity)
    ):
        identities.setdefault(person_id, []).append(identity)
    return {
        claim.id: ClaimView(
            id=claim.id,
            status=claim.status,
            merchant_id=merchant.id,
            merchant=merchant.name,
            area=merchant.area,
            phone=claim.phone,
            claimant_id=claim.person_id,
            claimant=name,
            asked_at=claim.asked_at,
            answered_at=claim.answered_at,
            operators=[o for o in operators.get(merchant.id, []) if o] or ["-"],
            identities=identities.get(claim.person_id, []),
        )
        for claim, merchant, name in found
    }


async def pending_claims(session: AsyncSession, limit: int | None = None) -> list[ClaimView]:
    """The claims waiting for staff, oldest first (the first `limit` of them)."""
    query = select(ShopClaim.id).where(ShopClaim.status == PENDING).order_by(ShopClaim.id)
    ids = list(await session.scalars(query.limit(limit)))
    views = await claim_views(session, ids)
    return [views[id] for id in ids]


async def count_pending(session: AsyncSession) -> int:
    found = await session.scalar(
        select(func.count()).select_from(ShopClaim).where(ShopClaim.status == PENDING)
    )
    return found or 0


async def decide(
    session: AsyncSession,
    claim_id: int,
    approve: bool,
    now: datetime,
    *,
    actor: str,
    staff_id: int | None = None,
) -> ClaimView:
    """Staff's decision on a pending claim: approved, the claimant runs the shop too; refused,
    nothing changes. The claimant is told either way, and `staff_actions` keeps who decided.
    Of two staff members deciding at once, the first wins; the second is refused with the
    outcome."""
    claim = await session.get(ShopClaim, claim_id)
    if claim is None or claim.status in (OFFERED, DECLINED, CLAIMED):
        raise Refusal("claim_unknown", claim=claim_id)
    status = APPROVED if approve else REFUSED
    decided = await session.execute(
        update(ShopClaim)
        .where(ShopClaim.id == claim_id, ShopClaim.status == PENDING)
        .values(status=status, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(claim)
        raise Refusal(f"claim_decided_{claim.status}", claim=claim_id)
    if approve:
        await make_operator(session, claim.person_id, claim.merchant_id, now)
    await record(
        session,
        actor,
        "claim_approve" if approve else "claim_refuse",
        now,
        person_id=staff_id,
        claim_id=claim_id,
        merchant_id=claim.merchant_id,
        claimant_id=claim.person_id,
        phone=claim.phone,
    )
    kind = CLAIM_APPROVED if approve else CLAIM_REFUSED
    await notify_person(session, claim.person_id, kind, {"claim_id": claim_id}, now)
    await session.flush()
    return (await claim_views(session, [claim_id]))[claim_id]
