"""An accepted transfer/QRIS order's payment: the buyer's proof, the merchant's decision, and
the sweep that reminds the buyer once and then expires an order left unpaid."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import Refusal
from models.ordering import (
    AWAITING,
    CONFIRMED,
    EXPIRED,
    PAID,
    PROOF_SENT,
    SWEEP_BATCH,
    Order,
    OrderEvent,
    order_for_operator,
    order_of_person,
    transition,
)
from models.outbox import notify_merchant, notify_person
from models.people import Person


async def _set_payment(
    session: AsyncSession,
    order: Order,
    allowed_from: tuple[str, ...],
    to_state: str,
    actor_person_id: int,
    now: datetime,
    *,
    proof: str | None = None,
    note: str | None = None,
) -> bool:
    """Moves the payment of a confirmed order with a conditional UPDATE, so that of two racing
    presses (two operators, a proof and a decision) one wins; records the event. False when
    the payment was no longer in an allowed state."""
    values: dict[str, object] = {"payment_state": to_state, "updated_at": now}
    if proof is not None:
        values["payment_proof"] = proof
    if to_state == AWAITING:
        # Asked again: a fresh time to pay, and a reminder of its own.
        values |= {"payment_asked_at": now, "payment_reminded_at": None}
    moved = await session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.status == CONFIRMED,
            Order.payment_state.in_(allowed_from),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(order)
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status,
            to_status=order.status,
            actor_person_id=actor_person_id,
            payment_state=to_state,
            proof=proof,
            note=note,
            at=now,
        )
    )
    await session.flush()
    return True


async def order_to_pay(session: AsyncSession, person: Person, order_id: int) -> Order:
    """The buyer's own order that waits for their payment; anything else is refused."""
    order = await order_of_person(session, person.id, order_id)
    if order.status != CONFIRMED or order.payment_state != AWAITING:
        raise Refusal("payment_not_awaited", order=order.id)
    return order


async def send_proof(
    session: AsyncSession, person: Person, order_id: int, proof: str, now: datetime
) -> Order:
    """The buyer's proof of payment: kept on the order and in its events, and sent to the
    merchant's operators to check."""
    order = await order_to_pay(session, person, order_id)
    if not await _set_payment(session, order, (AWAITING,), PROOF_SENT, person.id, now, proof=proof):
        raise Refusal("payment_not_awaited", order=order.id)
    await notify_merchant(session, order.merchant_id, "payment_proof", {"order_id": order.id}, now)
    return order


async def payment_to_check(session: AsyncSession, operator: Person, order_id: int) -> Order:
    """An order of the operator's shop whose payment they can still decide on."""
    order = await order_for_operator(session, operator.id, order_id)
    if order.status != CONFIRMED or order.payment_state not in (AWAITING, PROOF_SENT):
        raise Refusal("payment_decided", order=order.id)
    return order


async def mark_paid(session: AsyncSession, operator: Person, order_id: int, now: datetime) -> Order:
    """✅ Lunas: with a proof or without (the money may be seen before a proof comes)."""
    order = await payment_to_check(session, operator, order_id)
    if not await _set_payment(session, order, (AWAITING, PROOF_SENT), PAID, operator.id, now):
        raise Refusal("payment_decided", order=order.id)
    await notify_person(session, order.person_id, "payment_paid", {"order_id": order.id}, now)
    return order


async def mark_not_received(
    session: AsyncSession, operator: Person, order_id: int, note: str, now: datetime
) -> Order:
    """❌ Belum masuk, with the merchant's note: the buyer is asked to pay again."""
    order = await payment_to_check(session, operator, order_id)
    if order.payment_state != PROOF_SENT or not await _set_payment(
        session, order, (PROOF_SENT,), AWAITING, operator.id, now, note=note
    ):
        raise Refusal("payment_decided", order=order.id)
    payload = {"order_id": order.id, "reason": note}
    await notify_person(session, order.person_id, "payment_not_received", payload, now)
    return order


async def remind_unpaid(session: AsyncSession, now: datetime, after: timedelta) -> list[int]:
    """Reminds the buyers of orders waiting for their payment longer than `after`, once per
    asking (the conditional UPDATE marks it, so a second sweep or process skips it)."""
    due = list(
        await session.scalars(
            select(Order.id)
            .where(
                Order.status == CONFIRMED,
                Order.payment_state == AWAITING,
                Order.payment_asked_at <= now - after,
                Order.payment_reminded_at.is_(None),
            )
            .order_by(Order.payment_asked_at)
            .limit(SWEEP_BATCH)
        )
    )
    reminded = []
    for order_id in due:
        marked = await session.execute(
            update(Order)
            .where(
                Order.id == order_id,
                Order.status == CONFIRMED,
                Order.payment_state == AWAITING,
                Order.payment_reminded_at.is_(None),
            )
            .values(payment_reminded_at=now)
            .returning(Order.person_id)
        )
        person_id = marked.scalar()
        if person_id is not None:
            await notify_person(session, person_id, "payment_reminder", {"order_id": order_id}, now)
            reminded.append(order_id)
    return reminded


async def expire_unpaid(session: AsyncSession, now: datetime, within: timedelta) -> list[int]:
    """Orders not paid within `within` of being asked expire as unconfirmed ones do: stock
    back, buyer and merchant told. One with a proof waiting for the merchant is left alone."""
    due = list(
        await session.scalars(
            select(Order)
            .where(
                Order.status == CONFIRMED,
                Order.payment_state == AWAITING,
                Order.payment_asked_at <= now - within,
            )
            .order_by(Order.payment_asked_at)
            .limit(SWEEP_BATCH)
        )
    )
    expired = []
    for order in due:
        try:
            still_awaiting = Order.payment_state == AWAITING
            await transition(session, order, (CONFIRMED,), EXPIRED, None, now, also=still_awaiting)
        except Refusal:
            continue
        payload = {"order_id": order.id}
        await notify_person(session, order.person_id, "payment_expired", payload, now)
        await notify_merchant(session, order.merchant_id, "payment_expired_shop", payload, now)
        expired.append(order.id)
    return expired
