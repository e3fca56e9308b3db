"""The merchant operator's side: joining a shop, its open orders, and moving each order on."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from handlers import claims, payloads
from handlers.formatting import long_date
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from handlers.orders import order_handover_lines, order_item_lines, order_state
from handlers.texts import text
from models.catalog import merchants_named
from models.errors import Refusal
from models.friday import day_bounds, edition_date, last_friday
from models.invites import join_with
from models.ordering import (
    AWAITING,
    CONFIRMED,
    DELIVERY,
    PENDING,
    PICKUP,
    PROOF_SENT,
    READY,
    SHIPPED,
    Order,
    move_order,
    open_orders_of,
    operated_merchants,
    order_for_operator,
)
from models.reports import shop_figures

if TYPE_CHECKING:
    from handlers.context import Chat

MAX_REASON = 200


def merchant_order_text(language: str, order: Order) -> str:
    lines = [
        text(language, "merchant_order_heading", order=order.id, merchant=order.merchant.name),
        text(language, "order_status", status=order_state(language, order)),
        "",
        *order_item_lines(language, order),
        text(language, "order_total", total=format_rupiah(order.total)),
        "",
        *order_handover_lines(language, order),
    ]
    return "\n".join(lines)


def order_actions(language: str, order: Order) -> tuple[Button, ...]:
    """The moves the order allows now, as buttons."""
    moves: list[tuple[str, str]] = []
    if order.status == PENDING:
        moves = [
            ("btn_accept", payloads.SHOP_ORDER_MOVE(order.id, "confirm")),
            ("btn_reject", payloads.SHOP_ORDER_REJECT(order.id)),
        ]
    elif order.status == CONFIRMED and order.payment_state in (AWAITING, PROOF_SENT):
        return payment_buttons(language, order)
    elif order.status == CONFIRMED and order.delivery == PICKUP:
        moves = [("btn_ready", payloads.SHOP_ORDER_MOVE(order.id, "ready"))]
    elif order.status == CONFIRMED and order.delivery == DELIVERY:
        moves = [("btn_ship", payloads.SHOP_ORDER_MOVE(order.id, "ship"))]
    elif order.status in (READY, SHIPPED):
        moves = [("btn_complete", payloads.SHOP_ORDER_MOVE(order.id, "complete"))]
    return tuple(Button(text(language, key), payload) for key, payload in moves)


def payment_buttons(language: str, order: Order) -> tuple[Button, ...]:
    """The merchant's answers to a payment: ✅ Lunas at any time, ❌ Belum masuk to a proof."""
    buttons = [Button(text(language, "btn_paid"), payloads.PAY_DECIDE(order.id, "paid"))]
    if order.payment_state == PROOF_SENT:
        label = text(language, "btn_not_received")
        buttons.append(Button(label, payloads.PAY_DECIDE(order.id, "unpaid")))
    return tuple(buttons)


def _back_buttons(chat: Chat) -> tuple[Button, ...]:
    return (Button(chat.t("btn_shop_orders"), payloads.SHOP_ORDERS()), menu_button(chat))


async def show_order(chat: Chat, order_id: int) -> list[Reply]:
    """An order of the operator's shop, with the moves it allows now."""
    chat.end_step()
    order = await order_for_operator(chat.session, chat.person.id, order_id)
    buttons = order_actions(chat.language, order) + _back_buttons(chat)
    return [Reply(merchant_order_text(chat.language, order), buttons)]


async def move(chat: Chat, order_id: int, move_name: str) -> list[Reply]:
    """Accept, ready, shipped or completed; the buyer hears of it through the outbox."""
    chat.end_step()
    order = await move_order(chat.session, chat.person, order_id, move_name, chat.now)
    return [_moved(chat, order)]


def _moved(chat: Chat, order: Order) -> Reply:
    said = chat.t(f"merchant_moved_{order.status}", order=order.id)
    buttons = order_actions(chat.language, order) + _back_buttons(chat)
    return Reply(said, buttons)


async def ask_reject_reason(chat: Chat, order_id: int) -> list[Reply]:
    """Rejecting asks why, so the buyer is told more than "no"."""
    order = await order_for_operator(chat.session, chat.person.id, order_id)
    if order.status != PENDING:
        raise Refusal("order_not_in_state", order=order.id, status=order.status)
    chat.begin_step("reject_reason", order=order.id)
    buttons = tuple(
        Button(chat.t(f"reason_{code}"), payloads.SHOP_ORDER_REJECT_WITH(order.id, code))
        for code in payloads.REJECT_REASONS
    )
    cancel = Button(chat.t("btn_cancel"), payloads.SHOP_ORDER(order.id))
    return [Reply(chat.t("ask_reject_reason", order=order.id), (*buttons, cancel))]


async def reject_with(chat: Chat, order_id: int, code: str) -> list[Reply]:
    return await _reject(chat, order_id, chat.t(f"reason_{code}"))


async def typed_reject_reason(chat: Chat, typed: str) -> list[Reply]:
    order_id = int(chat.state.data.get("order", 0))
    reason = " ".join(typed.split())
    if not 3 <= len(reason) <= MAX_REASON:
        cancel = Button(chat.t("btn_cancel"), payloads.SHOP_ORDER(order_id))
        return [Reply(chat.t("reason_length", low=3, high=MAX_REASON), (cancel,))]
    return await _reject(chat, order_id, reason)


async def _reject(chat: Chat, order_id: int, reason: str) -> list[Reply]:
    chat.end_step()
    order = await move_order(chat.session, chat.person, order_id, "reject", chat.now, reason)
    return [_moved(chat, order)]


async def shop_orders(chat: Chat) -> list[Reply]:
    """The open orders of every shop the person operates, oldest first."""
    chat.end_step()
    merchants = await operated_merchants(chat.session, chat.person.id)
    if not merchants:
        return [Reply(chat.t("not_an_operator"), (menu_button(chat),))]
    orders = await open_orders_of(chat.session, merchants)
    if not orders:
        return [Reply(chat.t("shop_orders_empty"), (menu_button(chat),))]
    lines = [chat.t("shop_orders")]
    buttons = []
    for order in orders:
        status = order_state(chat.language, order)
        lines.append(
            chat.t(
                "shop_order_line",
                order=order.id,
                name=order.contact_name,
                status=status,
                total=format_rupiah(order.total),
            )
        )
        buttons.append(Button(chat.t("btn_order", order=order.id), payloads.SHOP_ORDER(order.id)))
    return [Reply("\n".join(lines), (*buttons, menu_button(chat)))]


async def dashboard(chat: Chat) -> list[Reply]:
    """`/toko`: today's and this Friday's orders by state, units and omzet; for someone who
    runs no shop, the shop their number was imported with."""
    chat.end_step()
    merchants = await operated_merchants(chat.session, chat.person.id)
    if not merchants:
        return await claims.for_non_operator(chat)
    names = [m.name for m in await merchants_named(chat.session, merchants)]
    lines = [chat.t("dashboard_heading", shops=", ".join(names))]
    friday = edition_date(chat.today)
    days = [("dashboard_today", chat.today)]
    if friday != chat.today:
        days.append(("dashboard_friday", friday))
    for key, day in days:
        start, end = day_bounds(day, chat.config.timezone)
        figures = await shop_figures(chat.session, merchants, start, end)
        states = ", ".join(
            f"{chat.t(f'status_{status}')} {count}"
            for status, count in sorted(figures.orders_by_status.items())
        )
        lines.append(
            chat.t(
                key,
                date=long_date(day, chat.language),
                orders=figures.orders,
                states=states or "-",
                units=figures.units,
                omzet=format_rupiah(figures.omzet),
            )
        )
    lines.append(await _last_fridays(chat, merchants))
    return [Reply("\n\n".join(lines), _back_buttons(chat))]


async def _last_fridays(chat: Chat, merchants: list[int]) -> str:
    """The shop's last Friday that has ended beside the Friday before it: what sold, or not."""
    last = last_friday(chat.today)
    sold = []
    for day in (last, last - timedelta(weeks=1)):
        start, end = day_bounds(day, chat.config.timezone)
        figures = await shop_figures(chat.session, merchants, start, end)
        sold.append((day, figures))
    (last_day, last_figures), (before_day, before_figures) = sold
    return chat.t(
        "dashboard_last_fridays",
        last=long_date(last_day, chat.language),
        units=last_figures.units,
        omzet=format_rupiah(last_figures.omzet),
        before=long_date(before_day, chat.language),
        before_units=before_figures.units,
        before_omzet=format_rupiah(before_figures.omzet),
    )


async def join(chat: Chat, code: str) -> list[Reply]:
    """`/gabung KODE`: the person becomes an operator of the invite's shop."""
    chat.end_step()
    if not code.strip():
        chat.begin_step("join_code")
        return [Reply(chat.t("ask_invite_code"), (menu_button(chat),))]
    merchant = await join_with(chat.session, chat.person, code, chat.now)
    return [Reply(chat.t("joined", merchant=merchant.name), _back_buttons(chat))]


async def typed_join_code(chat: Chat, typed: str) -> list[Reply]:
    return await join(chat, typed)
