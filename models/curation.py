"""Staff's review of products before they are listed: the queue, oldest first, and the
decisions on it. A decision is a conditional UPDATE on the review the card was shown in, so of
two staff members deciding on the same card one wins and the other is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product, Review
from models.outbox import notify_merchant
from models.staff import record

# The outbox kind of the notice that tells a merchant's operators how staff decided.
NOTICE = "review"
MAX_NOTE = 500
_TICK = timedelta(microseconds=1)


class Decision(StrEnum):
    """What staff decide on a product; the value is also the action's name in `staff_actions`
    (prefixed `curate_`) and in the merchant's notice."""

    APPROVE = "approve"
    CHANGES = "changes"
    REJECT = "reject"
    PIN = "pin"
    UNPIN = "unpin"


# The review state each decision leaves; UNPIN leaves it as it is.
_STATE = {
    Decision.APPROVE: Review.LISTED,
    Decision.CHANGES: Review.CHANGES_ASKED,
    Decision.REJECT: Review.REJECTED,
    Decision.PIN: Review.LISTED,
}
# Decisions that need a note for the merchant.
NEEDS_NOTE = frozenset({Decision.CHANGES, Decision.REJECT})


@dataclass(frozen=True)
class Shown:
    """The review a card showed staff: a decision applies only while the product is still in
    it (a merchant's edit meanwhile asks for review again, at a new time)."""

    state: str
    requested_at: datetime | None


async def next_in_queue(session: AsyncSession) -> tuple[Product | None, int]:
    """The product waiting longest for review, and how many wait in all."""
    waiting = Product.review_state == Review.WAITING
    left = await session.scalar(select(func.count()).select_from(Product).where(waiting))
    product = await session.scalar(
        select(Product).where(waiting).order_by(Product.review_requested_at, Product.id).limit(1)
    )
    return product, left or 0


async def waiting_products(session: AsyncSession, limit: int, offset: int = 0) -> list[Product]:
    """The queue, oldest first, up to `limit` products after the first `offset`."""
    rows = await session.scalars(
        select(Product)
        .where(Product.review_state == Review.WAITING)
        .order_by(Product.review_requested_at, Product.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def waiting_count(session: AsyncSession) -> int:
    waiting = Product.review_state == Review.WAITING
    return await session.scalar(select(func.count()).select_from(Product).where(waiting)) or 0


async def pinned_products(session: AsyncSession, limit: int, offset: int = 0) -> list[Product]:
    """Curator's picks, by name, up to `limit` after the first `offset`."""
    rows = await session.scalars(
        select(Product)
        .where(Product.curated.is_(True), Product.active.is_(True))
        .order_by(Product.name, Product.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def decide(
    session: AsyncSession,
    product_id: int,
    decision: Decision,
    now: datetime,
    *,
    actor: str,
    person_id: int | None = None,
    note: str | None = None,
    shown: Shown | None = None,
) -> Product | None:
    """Applies the decision, records it and queues the merchant's notice; None when the
    product is gone or no longer in the review `shown` (someone decided first)."""
    conditions = [Product.id == product_id]
    if shown is not None:
        conditions.append(Product.review_state == shown.state)
        conditions.append(
            Product.review_requested_at.is_(None)
            if shown.requested_at is None
            else Product.review_requested_at == shown.requested_at
        )
    values: dict[str, object] = {}
    if decision in _STATE:
        values |= {"review_state": _STATE[decision], "review_note": note}
    if decision == Decision.PIN:
        # A pin ranks it first in its category and lifts a demotion.
        values |= {"curated": True, "demoted": False, "demoted_on": None}
    elif decision == Decision.UNPIN:
        values["curated"] = False
    changed = await session.execute(
        update(Product)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return None
    product = await session.get_one(Product, product_id, populate_existing=True)
    await record(
        session,
        actor,
        f"curate_{decision.value}",
        now,
        person_id=person_id,
        product_id=product.id,
        note=note,
    )
    if decision != Decision.UNPIN:
        payload = {"product_id": product.id, "name": product.name, "decision": decision.value}
        await notify_merchant(session, product.merchant_id, NOTICE, payload | {"note": note}, now)
    return product


def ask_review(product: Product, now: datetime, *, required: bool) -> None:
    """After a merchant changes what staff review (name, description, photo): a product whose
    changes staff asked for waits for them again, and so does any other when review is
    `required`; a rejected product stays out."""
    if product.review_state == Review.REJECTED:
        return
    if product.review_state == Review.CHANGES_ASKED or required:
        before = product.review_requested_at
        product.review_state = Review.WAITING
        # Always later than before: a card shown before this change then no longer applies.
        product.review_requested_at = max(now, before + _TICK) if before else now
