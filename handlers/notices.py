"""Messages to people other than the sender, rendered from outbox rows in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from handlers.phones import display_phone
from handlers.texts import text
from models.ordering import Order

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from models.outbox import OutboxMessage


async def render_notice(session: AsyncSession, message: OutboxMessage, language: str) -> Reply:
    order = await session.get(Order, message.payload["order_id"])
    if order is None:
        raise LookupError(f"outbox {message.id}: order is gone")
    if message.kind == "order_new":
        items = "\n".join(
            text(
                language,
                "cart_line",
                product=item.name,
                quantity=item.quantity,
                price=format_rupiah(item.unit_price),
                subtotal=format_rupiah(item.subtotal),
            )
            for item in order.items
        )
        where = (
            text(language, "summary_delivery", address=order.address)
            if order.address
            else text(language, "summary_pickup")
        )
        body = text(
            language,
            "notice_order_new",
            order=order.id,
            name=order.contact_name,
            phone=display_phone(order.phone),
            items=items,
            total=format_rupiah(order.total),
        )
        payment = text(language, f"summary_payment_{order.payment}")
        return Reply(f"{body}\n{where}\n{payment}", (Button(text(language, "btn_menu"), "menu"),))
    return Reply(text(language, f"notice_{message.kind}", order=order.id))
