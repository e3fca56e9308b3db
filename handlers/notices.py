"""Messages to people other than the sender, rendered from outbox rows in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from handlers import payloads
from handlers.broadcast import broadcast_reply
from handlers.claims import claim_notice
from handlers.formatting import count_text, long_date
from handlers.merchant import order_actions
from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from handlers.orders import order_handover_lines, order_item_lines
from handlers.payment_details import details_lines
from handlers.phones import display_phone
from handlers.ratings import star_buttons
from handlers.texts import text
from models import broadcasts, claims, curation
from models.ordering import Order, orders_by_id
from models.outbox import notify_identity
from models.payments import Details

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from models.outbox import OutboxMessage

# The kind of an outbox row that is a reply to the sender, as the conversation made it.
REPLY = "reply"


async def queue_replies(
    session: AsyncSession, person_id: int, identity: str, replies: Sequence[Reply], now: datetime
) -> None:
    """The replies as outbox rows to the chat they answer, one row each, in order."""
    payloads = [reply.to_json() for reply in replies]
    await notify_identity(session, person_id, identity, REPLY, payloads, now)


# The notices whose text lists the order's items; the others load orders without them.
ITEMIZED = frozenset({"order_new"})


@dataclass(frozen=True)
class Subjects:
    """What a batch of rows is about: their orders, the broadcasts they deliver (by id, or by
    Friday for a staff member's test), and the claims of shops by phone."""

    orders: Mapping[int, Order]
    broadcasts: Mapping[int, broadcasts.Content]
    tests: Mapping[str, broadcasts.Content]
    shop_claims: Mapping[int, claims.ClaimView]


# For rows that need nothing looked up: the replies the conversation wrote.
NO_SUBJECTS = Subjects({}, {}, {}, {})


async def subjects_of(session: AsyncSession, messages: Iterable[OutboxMessage]) -> Subjects:
    """One query per kind for a whole claim of rows, not one per row (orders: two, when some
    notices list their items and others do not)."""
    rows = list(messages)
    itemized: set[int] = set()
    plain: set[int] = set()
    for message in rows:
        if "order_id" in message.payload:
            (itemized if message.kind in ITEMIZED else plain).add(message.payload["order_id"])
    orders = await orders_by_id(session, itemized)
    orders |= await orders_by_id(session, plain - itemized, with_items=False)
    contents = await broadcasts.contents_by_id(
        session, {m.payload["broadcast_id"] for m in rows if m.kind == broadcasts.KIND}
    )
    tests = {}
    for friday in {m.payload["friday"] for m in rows if m.kind == broadcasts.TEST_KIND}:
        day = date.fromisoformat(friday)
        planned = await broadcasts.broadcast_for(session, day)
        # A test is no delivery of the broadcast: its button counts no press.
        content = await broadcasts.content_for(session, planned, day)
        tests[friday] = replace(content, broadcast_id=None)
    views = await claims.claim_views(
        session, sorted({m.payload["claim_id"] for m in rows if m.kind in claims.KINDS})
    )
    return Subjects(orders, contents, tests, views)


async def render_notice(session: AsyncSession, message: OutboxMessage, language: str) -> Reply:
    return notice(message, language, await subjects_of(session, [message]))


def notice(message: OutboxMessage, language: str, subjects: Subjects) -> Reply:
    """The row in the reader's language, what it is about taken from `subjects`."""
    if message.kind == REPLY:
        return Reply.from_json(message.payload)
    if message.kind in (broadcasts.KIND, broadcasts.TEST_KIND):
        content = (
            subjects.broadcasts.get(message.payload["broadcast_id"])
            if message.kind == broadcasts.KIND
            else subjects.tests.get(message.payload["friday"])
        )
        if content is None:
            raise LookupError(f"outbox {message.id}: broadcast is gone")
        return broadcast_reply(language, content)
    if message.kind == curation.NOTICE:
        return review_notice(message.payload, language)
    if message.kind == broadcasts.PAID_REFUSED_KIND:
        return paid_refused_notice(message.payload, language)
    if message.kind in claims.KINDS:
        view = subjects.shop_claims.get(message.payload["claim_id"])
        if view is None:
            raise LookupError(f"outbox {message.id}: claim is gone")
        return claim_notice(language, message.kind, view)
    order = subjects.orders.get(message.payload["order_id"])
    if order is None:
        raise LookupError(f"outbox {message.id}: order is gone")
    if message.kind == "order_new":
        body = text(
            language,
            "notice_order_new",
            order=order.id,
            name=order.contact_name,
            phone=display_phone(order.phone),
            items="\n".join(order_item_lines(language, order)),
            total=format_rupiah(order.total),
        )
        # The buyer's name and phone are already in the first line.
        where_and_payment = order_handover_lines(language, order)[1:]
        reply_text = "\n".join([body, *where_and_payment])
        # Buttons for the order as it is now: a notice read late offers no stale moves.
        buttons = order_actions(language, order)
        return Reply(
            reply_text,
            (*buttons, Button(text(language, "btn_shop_orders"), payloads.SHOP_ORDERS())),
        )
    if message.kind == "order_reminder":
        said = text(language, "notice_order_reminder", order=order.id)
        buttons = order_actions(language, order)
        return Reply(
            said, (*buttons, Button(text(language, "btn_shop_orders"), payloads.SHOP_ORDERS()))
        )
    if message.kind in PAYMENT_NOTICES:
        return payment_notice(message, language, order)
    if message.kind in ("order_cancelled", "order_expired_shop"):
        return Reply(text(language, f"notice_{message.kind}", order=order.id))
    said = text(
        language,
        f"notice_{message.kind}",
        order=order.id,
        merchant=order.merchant.name,
        reason=message.payload.get("reason", ""),
    )
    order_button = Button(text(language, "btn_order", order=order.id), payloads.ORDER(order.id))
    if message.kind == "order_completed":
        return Reply(said + "\n" + text(language, "ask_rating"), star_buttons(language, order.id))
    return Reply(said, (order_button,))


# The notices of a transfer/QRIS order's payment (models.paying).
PAYMENT_NOTICES = frozenset(
    {
        "payment_due",
        "payment_reminder",
        "payment_not_received",
        "payment_paid",
        "payment_expired",
        "payment_proof",
        "payment_expired_shop",
    }
)


def payment_notice(message: OutboxMessage, language: str, order: Order) -> Reply:
    """A payment's step, for the buyer (pay, with the button to send the proof) or the
    merchant's operators (the proof to check, with ✅ Lunas and ❌ Belum masuk)."""
    kind, total = message.kind, format_rupiah(order.total)
    said = text(
        language,
        f"notice_{kind}",
        order=order.id,
        merchant=order.merchant.name,
        total=total,
        name=order.contact_name,
        reason=message.payload.get("reason", ""),
    )
    order_button = Button(text(language, "btn_order", order=order.id), payloads.ORDER(order.id))
    proof = Button(text(language, "btn_send_proof"), payloads.PAY_PROOF(order.id))
    if kind == "payment_due":
        details = Details.from_json(message.payload.get("details") or {})
        lines = details_lines(language, details) or [text(language, "pay_no_details")]
        reply_text = "\n".join([said, *lines, "", text(language, "pay_send_proof_hint")])
        return Reply(reply_text, (proof, order_button), photo_url=details.qris_photo)
    if kind in ("payment_reminder", "payment_not_received"):
        return Reply(said, (proof, order_button))
    if kind == "payment_proof":
        # Buttons for the payment as it is now: a proof read late offers no stale answer.
        buttons = order_actions(language, order)
        shop = Button(text(language, "btn_shop_orders"), payloads.SHOP_ORDERS())
        return Reply(said, (*buttons, shop), photo_url=order.payment_proof)
    if kind == "payment_expired_shop":
        return Reply(said)
    return Reply(said, (order_button,))


def review_notice(payload: Mapping[str, Any], language: str) -> Reply:
    """How staff decided on a merchant's product, with their note, as of the decision."""
    said = text(
        language,
        f"notice_review_{payload['decision']}",
        product=payload["name"],
        note=payload.get("note") or "",
    )
    see = Button(text(language, "btn_see_product"), payloads.SHOP_PRODUCT(payload["product_id"]))
    return Reply(said, (see, Button(text(language, "btn_my_products"), payloads.SHOP_PRODUCTS(0))))


def paid_refused_notice(payload: Mapping[str, Any], language: str) -> Reply:
    """To the staff member who chose the paid broadcast: Telegram refused it, the rest goes
    free."""
    said = text(
        language,
        "notice_bc_paid_refused",
        date=long_date(date.fromisoformat(payload["friday"]), language),
        paid=count_text(payload["paid_sends"], language),
    )
    return Reply(said, (Button(text(language, "btn_bc_open"), payloads.BROADCAST()),))
