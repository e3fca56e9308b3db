"""A resident's orders: the list with states, one order's details, cancelling a pending one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.formatting import handover_lines, item_line
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from handlers.texts import text
from models.ordering import (
    AWAITING,
    PENDING,
    cancel_order,
    order_of_person,
    orders_of_person,
)

if TYPE_CHECKING:
    from handlers.context import Chat
    from models.ordering import Order


def order_state(language: str, order: Order) -> str:
    """The order's status, and where its transfer/QRIS payment stands once one is asked."""
    status = text(language, f"status_{order.status}")
    if order.payment_state is None:
        return status
    return f"{status} · {text(language, f'payment_{order.payment_state}')}"


async def list_orders(chat: Chat) -> list[Reply]:
    """The person's latest orders, each a button to its details."""
    chat.end_step()
    orders = await orders_of_person(chat.session, chat.person.id)
    if not orders:
        buttons = (Button(chat.t("btn_catalog"), payloads.CATALOG()), menu_button(chat))
        return [Reply(chat.t("orders_none"), buttons)]
    lines = [chat.t("orders_heading")]
    lines += [
        chat.t(
            "order_line",
            order=o.id,
            merchant=o.merchant.name,
            total=format_rupiah(o.total),
            status=order_state(chat.language, o),
        )
        for o in orders
    ]
    buttons = [Button(chat.t("btn_order", order=o.id), payloads.ORDER(o.id)) for o in orders]
    buttons.append(menu_button(chat))
    return [Reply("\n".join(lines), tuple(buttons))]


def order_text(chat: Chat, order: Order) -> str:
    lines = [
        chat.t("order_heading", order=order.id, merchant=order.merchant.name),
        chat.t("order_status", status=order_state(chat.language, order)),
        "",
    ]
    lines += order_item_lines(chat.language, order)
    lines += [chat.t("order_total", total=format_rupiah(order.total)), ""]
    lines += order_handover_lines(chat.language, order)
    return "\n".join(lines)


def order_item_lines(language: str, order: Order) -> list[str]:
    return [item_line(language, i.name, i.quantity, i.unit_price) for i in order.items]


def order_handover_lines(language: str, order: Order) -> list[str]:
    return handover_lines(
        language, order.contact_name, order.phone, order.delivery, order.address, order.payment
    )


async def show_order(chat: Chat, order_id: int) -> list[Reply]:
    """One order's items, state and details; a pending one can be cancelled."""
    chat.end_step()
    order = await order_of_person(chat.session, chat.person.id, order_id)
    buttons = []
    if order.status == PENDING:
        buttons.append(Button(chat.t("btn_cancel_order"), payloads.ORDER_CANCEL(order.id)))
    if order.payment_state == AWAITING:
        buttons.append(Button(chat.t("btn_send_proof"), payloads.PAY_PROOF(order.id)))
    buttons += [Button(chat.t("btn_orders"), payloads.ORDERS()), menu_button(chat)]
    return [Reply(order_text(chat, order), tuple(buttons))]


async def ask_cancel(chat: Chat, order_id: int) -> list[Reply]:
    """Asks before cancelling: a cancelled order cannot be taken back."""
    order = await order_of_person(chat.session, chat.person.id, order_id)
    buttons = (
        Button(chat.t("btn_yes_cancel"), payloads.ORDER_CANCEL_YES(order.id)),
        Button(chat.t("btn_no_keep"), payloads.ORDER(order.id)),
    )
    return [Reply(chat.t("confirm_cancel", order=order.id), buttons)]


async def cancel(chat: Chat, order_id: int) -> list[Reply]:
    """Cancels a pending order and returns its stock."""
    order = await cancel_order(chat.session, chat.person, order_id, chat.now)
    buttons = (Button(chat.t("btn_orders"), payloads.ORDERS()), menu_button(chat))
    return [Reply(chat.t("order_cancelled", order=order.id), buttons)]
