"""Orders: checkout of a cart into one order per merchant, stock reservation, state changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    case,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, raiseload, relationship, selectinload

from models.base import Base, UTCDateTime
from models.carts import cart_groups, empty_cart
from models.catalog import Merchant, Product, Review, listed
from models.errors import Refusal
from models.outbox import notify_merchant, notify_person
from models.payments import details_of
from models.people import Person, Role

PENDING = "pending"
CONFIRMED = "confirmed"
READY = "ready"
SHIPPED = "shipped"
COMPLETED = "completed"
REJECTED = "rejected"
CANCELLED = "cancelled"
EXPIRED = "expired"
STATUSES = (PENDING, CONFIRMED, READY, SHIPPED, COMPLETED, REJECTED, CANCELLED, EXPIRED)
# Ending in one of these returns the reserved stock.
UNFULFILLED = (REJECTED, CANCELLED, EXPIRED)
# As SQL with the statuses written out, not bound: the planners (SQLite's always, PostgreSQL's
# generic plans) use a partial index only for a query whose condition is its own, literally.
_SOLD_SQL = "status NOT IN ('rejected', 'cancelled', 'expired')"

DELIVERY = "delivery"
PICKUP = "pickup"
CASH = "cash"
TRANSFER = "transfer"

# Where a transfer/QRIS order's payment stands once its merchant accepted it (`orders.
# payment_state`; none for cash): waiting for the money, a proof sent for the merchant to
# check, or paid.
AWAITING = "awaiting"
PROOF_SENT = "proof_sent"
PAID = "paid"
PAYMENT_STATES = (AWAITING, PROOF_SENT, PAID)
# The length of a proof's reference, as of `products.photo_url`.
MAX_PROOF = 500


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # One checkout yields at most one order per merchant, however often it is confirmed.
        UniqueConstraint("checkout_id", "merchant_id"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status_known"),
        Index("ix_orders_person", "person_id", "id"),
        Index("ix_orders_merchant_status", "merchant_id", "status"),
        Index("ix_orders_status_created", "status", "created_at"),
        # The results of a period (models.results) read its orders by when they were placed.
        Index("ix_orders_created", "created_at"),
        # Whether a buyer is new in a period: their sold orders before it (models.results).
        Index(
            "ix_orders_person_sold",
            "person_id",
            "created_at",
            sqlite_where=text(_SOLD_SQL),
            postgresql_where=text(_SOLD_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_id: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    contact_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(20))
    delivery: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(300))
    payment: Mapped[str] = mapped_column(String(10))
    total: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the merchant was reminded of it still waiting; at most once.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The channel of the chat it was placed from (telegram, whatsapp, console); orders placed
    # before it was recorded have their buyer's, or none when the buyer used several.
    channel: Mapped[str | None] = mapped_column(String(20))
    # A transfer/QRIS order's payment (`PAYMENT_STATES`), from its merchant's acceptance; when
    # the buyer was asked to pay (again, after a proof the merchant did not find), when they
    # were reminded (once per asking), and the latest proof, kept as `products.photo_url` is.
    payment_state: Mapped[str | None] = mapped_column(String(20))
    payment_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_proof: Mapped[str | None] = mapped_column(String(MAX_PROOF))

    merchant: Mapped[Merchant] = relationship(lazy="joined", innerjoin=True)
    items: Mapped[list[OrderItem]] = relationship(lazy="selectin", order_by="OrderItem.id")


class OrderItem(Base):
    """A line of an order, with the product's name and price as they were when ordered."""

    __tablename__ = "order_items"
    __table_args__ = (Index("ix_order_items_product", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    name: Mapped[str] = mapped_column(String(120))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


def sold(status: ColumnElement[str]) -> ColumnElement[bool]:
    """The order did not end rejected, cancelled or expired: `status NOT IN (...)` with the
    statuses rendered into the SQL, so that the planners match it to `ix_orders_person_sold`."""
    return status.not_in(
        bindparam("unfulfilled", UNFULFILLED, expanding=True, literal_execute=True)
    )


class OrderEvent(Base):
    """Every change of an order's state, with who made it and when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    note: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A change of a transfer/QRIS payment (`PAYMENT_STATES`), and the proof the buyer sent;
    # such an event leaves the order's status as it was (from and to the same).
    payment_state: Mapped[str | None] = mapped_column(String(20))
    proof: Mapped[str | None] = mapped_column(String(MAX_PROOF))


@dataclass(frozen=True)
class CheckoutDetails:
    contact_name: str
    phone: str
    delivery: str
    address: str | None
    payment: str


async def orders_by_id(
    session: AsyncSession, order_ids: Iterable[int], *, with_items: bool = True
) -> dict[int, Order]:
    """The orders with these ids and their merchants, in one query however many; their items
    too, unless `with_items` is false (then reading them raises: loading them is most of the
    cost)."""
    wanted = set(order_ids)
    if not wanted:
        return {}
    query = select(Order).where(Order.id.in_(wanted))
    if not with_items:
        query = query.options(raiseload(Order.items))
    return {order.id: order for order in await session.scalars(query)}


async def orders_of_checkout(session: AsyncSession, checkout_id: str) -> list[Order]:
    rows = await session.scalars(
        select(Order).where(Order.checkout_id == checkout_id).order_by(Order.id)
    )
    return list(rows)


async def place_orders(
    session: AsyncSession,
    person: Person,
    checkout_id: str,
    details: CheckoutDetails,
    now: datetime,
    channel: str | None = None,
) -> list[Order]:
    """Turns the person's cart into one pending order per merchant, reserving the stock;
    `channel` is the one the person checks out from.

    All or nothing: when any product lacks stock, `Refusal` is raised and everything this
    call wrote is rolled back to a savepoint, so the caller may go on with its transaction.
    """
    async with session.begin_nested():
        return await _reserve_and_create(session, person, checkout_id, details, now, channel)


async def _reserve_and_create(
    session: AsyncSession,
    person: Person,
    checkout_id: str,
    details: CheckoutDetails,
    now: datetime,
    channel: str | None,
) -> list[Order]:
    groups = await cart_groups(session, person.id)
    if not groups:
        raise Refusal("cart_empty")
    items = sorted((item for group in groups for item in group.items), key=lambda i: i.product_id)
    # One conditional UPDATE per product, in id order so concurrent checkouts never deadlock:
    # the row lock (PostgreSQL) or the write lock (SQLite) makes check and take one step.
    for item in items:
        reserved = await session.execute(
            update(Product)
            .where(
                Product.id == item.product_id,
                listed(Product),
                Product.stock >= item.quantity,
            )
            .values(
                stock=Product.stock - item.quantity,
                recent_sold=Product.recent_sold + item.quantity,
                # A sale lifts a demotion (models.demotion).
                demoted=False,
                demoted_on=None,
            )
            .execution_options(synchronize_session=False)
        )
        if reserved.rowcount != 1:  # type: ignore[attr-defined]
            product = item.product
            await session.refresh(product)
            if not product.active or product.review_state != Review.LISTED:
                raise Refusal("product_gone_named", product=product.name)
            raise Refusal("not_enough_stock", product=product.name, left=product.stock)
    orders = []
    for group in groups:
        order = Order(
            checkout_id=checkout_id,
            person_id=person.id,
            merchant=group.merchant,
            status=PENDING,
            contact_name=details.contact_name,
            phone=details.phone,
            delivery=details.delivery,
            address=details.address if details.delivery == DELIVERY else None,
            payment=details.payment,
            total=group.total,
            channel=channel,
            created_at=now,
            updated_at=now,
            items=[
                OrderItem(
                    product_id=item.product_id,
                    name=item.product.name,
                    unit_price=item.product.price,
                    quantity=item.quantity,
                )
                for item in group.items
            ],
        )
        session.add(order)
        await session.flush()
        session.add(
            OrderEvent(order_id=order.id, to_status=PENDING, actor_person_id=person.id, at=now)
        )
        await notify_merchant(session, group.merchant.id, "order_new", {"order_id": order.id}, now)
        orders.append(order)
    await empty_cart(session, person.id)
    # The reservation changed stock behind the ORM's back.
    for item in items:
        session.expire(item.product)
    await session.flush()
    return orders


async def transition(
    session: AsyncSession,
    order: Order,
    allowed_from: tuple[str, ...],
    to_status: str,
    actor_person_id: int | None,
    now: datetime,
    note: str | None = None,
    also: ColumnElement[bool] | None = None,
) -> None:
    """Moves the order only if it is still in an allowed state (and `also` holds); of racing
    moves one wins."""
    condition = Order.status.in_(allowed_from)
    if also is not None:
        condition = condition & also
    moved = await session.execute(
        update(Order)
        .where(Order.id == order.id, condition)
        .values(status=to_status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        await session.refresh(order)
        raise Refusal("order_not_in_state", order=order.id, status=order.status)
    previous = order.status
    await session.refresh(order)
    session.add(
        OrderEvent(
            order_id=order.id,
            from_status=previous,
            to_status=to_status,
            actor_person_id=actor_person_id,
            note=note,
            at=now,
        )
    )
    if to_status in UNFULFILLED:
        for item in order.items:
            await session.execute(
                update(Product)
                .where(Product.id == item.product_id)
                .values(
                    stock=Product.stock + item.quantity,
                    recent_sold=case(
                        (Product.recent_sold > item.quantity, Product.recent_sold - item.quantity),
                        else_=0,
                    ),
                )
                .execution_options(synchronize_session=False)
            )
            product = await session.get(Product, item.product_id)
            if product is not None:
                session.expire(product)
    await session.flush()


async def order_of_person(session: AsyncSession, person_id: int, order_id: int) -> Order:
    """The person's own order; someone else's is refused exactly like one that doesn't exist."""
    order = await session.get(Order, order_id)
    if order is None or order.person_id != person_id:
        raise Refusal("order_not_found")
    return order


async def cancel_order(
    session: AsyncSession, person: Person, order_id: int, now: datetime
) -> Order:
    order = await order_of_person(session, person.id, order_id)
    await transition(session, order, (PENDING,), CANCELLED, person.id, now)
    await notify_merchant(
        session, order.merchant_id, "order_cancelled", {"order_id": order.id}, now
    )
    return order


async def orders_of_person(session: AsyncSession, person_id: int, limit: int = 10) -> list[Order]:
    rows = await session.scalars(
        select(Order)
        .where(Order.person_id == person_id)
        .order_by(Order.id.desc())
        .limit(limit)
        .options(selectinload(Order.items))
    )
    return list(rows)


@dataclass(frozen=True)
class Move:
    """A step a merchant operator takes on an order."""

    allowed_from: tuple[str, ...]
    to_status: str
    # Only for orders handed over this way (pickup or delivery), if it matters.
    delivery: str | None = None


MOVES: dict[str, Move] = {
    "confirm": Move((PENDING,), CONFIRMED),
    "reject": Move((PENDING,), REJECTED),
    "ready": Move((CONFIRMED,), READY, delivery=PICKUP),
    "ship": Move((CONFIRMED,), SHIPPED, delivery=DELIVERY),
    "complete": Move((READY, SHIPPED), COMPLETED),
}
OPEN = (PENDING, CONFIRMED, READY, SHIPPED)


async def operated_merchants(session: AsyncSession, person_id: int) -> list[int]:
    rows = await session.scalars(
        select(Role.merchant_id).where(
            Role.person_id == person_id, Role.role == "merchant", Role.merchant_id.is_not(None)
        )
    )
    return [merchant_id for merchant_id in rows if merchant_id is not None]


async def order_for_operator(session: AsyncSession, person_id: int, order_id: int) -> Order:
    """An order of a merchant the person operates; any other is refused as not found, so a
    forged number tells nothing about other shops."""
    order = await session.get(Order, order_id)
    if order is None or order.merchant_id not in await operated_merchants(session, person_id):
        raise Refusal("merchant_order_not_found")
    return order


async def move_order(
    session: AsyncSession,
    operator: Person,
    order_id: int,
    move_name: str,
    now: datetime,
    note: str | None = None,
) -> Order:
    """The operator's move; the buyer is told in the same transaction. Of two racing moves
    (another operator, the buyer cancelling) exactly one wins; the other is refused with the
    state the order is in now."""
    order = await order_for_operator(session, operator.id, order_id)
    move = MOVES[move_name]
    if move.delivery is not None and order.delivery != move.delivery:
        raise Refusal("order_wrong_handover", order=order.id)
    # A transfer/QRIS order is handed over once paid; the merchant says so (models.paying).
    settled = Order.payment_state.is_(None) | (Order.payment_state == PAID)
    if move.to_status in (READY, SHIPPED) and order.payment_state in (AWAITING, PROOF_SENT):
        raise Refusal("order_awaiting_payment", order=order.id)
    also = settled if move.to_status in (READY, SHIPPED) else None
    await transition(
        session, order, move.allowed_from, move.to_status, operator.id, now, note, also
    )
    payload: dict[str, object] = {"order_id": order.id}
    if note:
        payload["reason"] = note
    await notify_person(session, order.person_id, f"order_{move.to_status}", payload, now)
    if move.to_status == CONFIRMED and order.payment == TRANSFER:
        await _ask_payment(session, order, operator.id, now)
    return order


async def _ask_payment(
    session: AsyncSession, order: Order, actor_person_id: int | None, now: datetime
) -> None:
    """Asks the buyer of an accepted transfer/QRIS order to pay, with the merchant's details
    as they are now (the notice keeps them, so a later change does not alter what was said)."""
    order.payment_state, order.payment_asked_at = AWAITING, now
    order.payment_reminded_at = None
    session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status,
            to_status=order.status,
            actor_person_id=actor_person_id,
            payment_state=AWAITING,
            at=now,
        )
    )
    details = await details_of(session, order.merchant_id)
    payload = {"order_id": order.id, "details": details.to_json() if details else {}}
    await notify_person(session, order.person_id, "payment_due", payload, now)
    await session.flush()


async def open_orders_of(session: AsyncSession, merchant_ids: list[int]) -> list[Order]:
    rows = await session.scalars(
        select(Order)
        .where(Order.merchant_id.in_(merchant_ids), Order.status.in_(OPEN))
        .order_by(Order.id)
        .limit(50)
    )
    return list(rows)


SWEEP_BATCH = 500


async def remind_waiting(session: AsyncSession, now: datetime, after: timedelta) -> list[int]:
    """Reminds the merchants of orders pending longer than `after`, once per order (the
    conditional UPDATE marks it, so a second sweep, or a second process, skips it)."""
    due = list(
        await session.scalars(
            select(Order.id)
            .where(
                Order.status == PENDING,
                Order.created_at <= now - after,
                Order.reminded_at.is_(None),
            )
            .order_by(Order.created_at)
            .limit(SWEEP_BATCH)
        )
    )
    reminded = []
    for order_id in due:
        marked = await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == PENDING, Order.reminded_at.is_(None))
            .values(reminded_at=now)
            .returning(Order.merchant_id)
        )
        merchant_id = marked.scalar()
        if merchant_id is not None:
            payload = {"order_id": order_id}
            await notify_merchant(session, merchant_id, "order_reminder", payload, now)
            reminded.append(order_id)
    return reminded


async def expire_waiting(session: AsyncSession, now: datetime, after: timedelta) -> list[int]:
    """Orders nobody confirmed within `after` expire: stock back, buyer and merchant told.
    One the buyer cancelled or the merchant accepted meanwhile is left as it is."""
    due = list(
        await session.scalars(
            select(Order)
            .where(Order.status == PENDING, Order.created_at <= now - after)
            .order_by(Order.created_at)
            .limit(SWEEP_BATCH)
        )
    )
    expired = []
    for order in due:
        try:
            await transition(session, order, (PENDING,), EXPIRED, None, now)
        except Refusal:
            continue
        await notify_person(session, order.person_id, "order_expired", {"order_id": order.id}, now)
        await notify_merchant(
            session, order.merchant_id, "order_expired_shop", {"order_id": order.id}, now
        )
        expired.append(order.id)
    return expired
