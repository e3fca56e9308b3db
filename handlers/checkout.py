"""Checkout: name, phone, delivery or pickup, payment, summary, then one order per merchant."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from handlers import payloads
from handlers.cart import cart_text
from handlers.cleaning import clean_text
from handlers.delivery_addresses import is_phone_number, names_a_place
from handlers.formatting import handover_lines, shorten
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from handlers.nearby import area_text, remember_from_address
from handlers.phones import display_phone, normalize_phone
from models.carts import CartGroup, cart_groups
from models.errors import Refusal
from models.ordering import (
    CASH,
    DELIVERY,
    PICKUP,
    TRANSFER,
    CheckoutDetails,
    orders_of_checkout,
    place_orders,
)
from models.payments import merchants_without_details

if TYPE_CHECKING:
    from handlers.context import Chat
    from models.ordering import Order

FIELDS = ("co_name", "co_phone", "co_delivery", "co_address", "co_payment", "co_token", "co_cart")
REQUIRED = ("co_name", "co_phone", "co_delivery", "co_payment", "co_token", "co_cart")
NAME_LIMITS = (2, 80)
ADDRESS_LIMITS = (10, 300)


def _cancel(chat: Chat) -> Button:
    return Button(chat.t("btn_cancel_checkout"), payloads.CHECKOUT_CANCEL())


def _reset(chat: Chat, **values: str | None) -> None:
    chat.state.data = {
        **{k: v for k, v in chat.state.data.items() if k not in FIELDS},
        **{k: v for k, v in values.items() if v is not None},
    }


async def start(chat: Chat) -> list[Reply]:
    """Begins checkout; with details remembered from the last order it goes to the summary."""
    if not await cart_groups(chat.session, chat.person.id):
        raise Refusal("cart_empty")
    person = chat.person
    name, address = _remembered(chat, "name"), _remembered(chat, "address")
    remembered = name and person.phone and person.delivery and person.payment
    if remembered and (person.delivery == PICKUP or address):
        _reset(
            chat,
            co_name=name,
            co_phone=person.phone,
            co_delivery=person.delivery,
            co_address=address,
            co_payment=person.payment,
        )
    else:
        _reset(chat)
    return await _next(chat)


async def edit(chat: Chat) -> list[Reply]:
    """Enters the details again, offering the remembered ones as buttons."""
    _reset(chat)
    return await _next(chat)


async def _next(chat: Chat) -> list[Reply]:
    """Asks for the first missing detail, or shows the summary when none is missing."""
    data, person = chat.state.data, chat.person
    if "co_name" not in data:
        chat.begin_step("co_name")
        buttons = [_cancel(chat)]
        name = _remembered(chat, "name")
        if name:
            buttons.insert(0, Button(chat.t("btn_use", value=name), payloads.CHECKOUT_USE("name")))
        return [Reply(chat.t("ask_name"), tuple(buttons))]
    if "co_phone" not in data:
        chat.begin_step("co_phone")
        buttons = []
        own = _own_phone(chat)
        if own:
            label = chat.t("btn_use_own_number", value=display_phone(own))
            buttons.append(Button(label, payloads.CHECKOUT_USE("own")))
        if person.phone and person.phone != own:
            label = chat.t("btn_use", value=display_phone(person.phone))
            buttons.append(Button(label, payloads.CHECKOUT_USE("phone")))
        buttons.append(_cancel(chat))
        return [Reply(chat.t("ask_phone"), tuple(buttons), ask_phone=chat.t("btn_share_phone"))]
    if "co_delivery" not in data:
        chat.end_step()
        buttons = (
            Button(chat.t("btn_delivery"), payloads.CHECKOUT_DELIVERY(DELIVERY)),
            Button(chat.t("btn_pickup"), payloads.CHECKOUT_DELIVERY(PICKUP)),
            _cancel(chat),
        )
        return [Reply(chat.t("ask_delivery"), buttons)]
    if data["co_delivery"] == DELIVERY and "co_address" not in data:
        chat.begin_step("co_address")
        buttons = [_cancel(chat)]
        address = _remembered(chat, "address")
        if address:
            label = chat.t("btn_use", value=shorten(address, 30))
            buttons.insert(0, Button(label, payloads.CHECKOUT_USE("address")))
        return [Reply(chat.t("ask_address"), tuple(buttons))]
    cannot_transfer = await _without_transfer(chat)
    if data.get("co_payment") == TRANSFER and cannot_transfer:
        # Remembered from an order at other shops, or a forged press: asked again.
        _reset(chat, **{k: v for k, v in data.items() if k in FIELDS and k != "co_payment"})
    if "co_payment" not in chat.state.data:
        chat.end_step()
        cash = Button(chat.t("btn_pay_cash"), payloads.CHECKOUT_PAYMENT(CASH))
        if cannot_transfer:
            said = chat.t("ask_payment_cash_only", merchants=", ".join(cannot_transfer))
            return [Reply(said, (cash, _cancel(chat)))]
        transfer = Button(chat.t("btn_pay_transfer"), payloads.CHECKOUT_PAYMENT(TRANSFER))
        return [Reply(chat.t("ask_payment"), (cash, transfer, _cancel(chat)))]
    return await _summary(chat)


async def _without_transfer(chat: Chat) -> list[str]:
    """The names of the cart's merchants that have set no payment details, so cannot be paid
    by transfer/QRIS."""
    groups = await cart_groups(chat.session, chat.person.id)
    missing = await merchants_without_details(chat.session, [g.merchant.id for g in groups])
    return [g.merchant.name for g in groups if g.merchant.id in missing]


async def _summary(chat: Chat) -> list[Reply]:
    chat.end_step()
    groups = await cart_groups(chat.session, chat.person.id)
    if not groups:
        raise Refusal("cart_empty")
    # A fresh token per summary, and the cart it showed: confirming an older summary, or a
    # summary whose cart or prices changed since, shows the current summary instead.
    token = secrets.token_hex(8)
    chat.keep(co_token=token, co_cart=_fingerprint(groups))
    data = chat.state.data
    handover = handover_lines(
        chat.language,
        data["co_name"],
        data["co_phone"],
        data["co_delivery"],
        data.get("co_address"),
        data["co_payment"],
    )
    text = "\n".join([chat.t("summary_heading"), "", cart_text(chat, groups), "", *handover])
    buttons = (
        Button(chat.t("btn_confirm_order"), payloads.CHECKOUT_CONFIRM(token)),
        Button(chat.t("btn_edit_details"), payloads.CHECKOUT_EDIT()),
        _cancel(chat),
    )
    return [Reply(text, buttons)]


def _fingerprint(groups: list[CartGroup]) -> list[list[int]]:
    return [[i.product_id, i.quantity, i.product.price] for g in groups for i in g.items]


def taken_text(text: str, limits: tuple[int, int]) -> str | None:
    """A typed name or address as it is kept: cleaned, on one line, within `limits` and with
    a letter in it; None when it is refused."""
    value = " ".join(clean_text(text).split())
    low, high = limits
    return value if low <= len(value) <= high and any(c.isalpha() for c in value) else None


def taken_name(text: str) -> str | None:
    """The recipient's name as it is kept, or None when it is refused."""
    return taken_text(text, NAME_LIMITS)


def taken_address(text: str) -> str | None:
    """The delivery address as it is kept, or None when it is refused: it must also name a
    street or a place, so that a phone number typed in its place is asked again."""
    value = taken_text(text, ADDRESS_LIMITS)
    return value if value is not None and names_a_place(value) else None


# The details a person types, each as it is taken.
TYPED: dict[str, Callable[[str], str | None]] = {
    "co_name": taken_name,
    "co_address": taken_address,
}


def _asked_again(chat: Chat, text: str) -> Reply:
    """The reply to a refused detail: what it needs, and the way out of checkout."""
    return Reply(text, (_cancel(chat),))


async def typed_name(chat: Chat, text: str) -> list[Reply]:
    """Takes the recipient's name."""
    value = taken_name(text)
    if value is None:
        low, high = NAME_LIMITS
        return [_asked_again(chat, chat.t("name_invalid", low=low, high=high))]
    chat.keep(co_name=value)
    return await _next(chat)


async def typed_phone(chat: Chat, text: str) -> list[Reply]:
    """Takes a phone number, typed or shared, and normalises it to +62…."""
    phone = normalize_phone(text)
    if phone is None:
        chat.begin_step("co_phone")
        share = chat.t("btn_share_phone")
        return [Reply(chat.t("phone_invalid"), (_cancel(chat),), ask_phone=share)]
    chat.keep(co_phone=phone)
    return await _next(chat)


async def typed_address(chat: Chat, text: str) -> list[Reply]:
    """Takes the delivery address; one refused is asked again, saying why."""
    value = taken_address(text)
    if value is None:
        return [_asked_again(chat, _address_refused(chat, text))]
    chat.keep(co_address=value)
    return await _next(chat)


def _address_refused(chat: Chat, text: str) -> str:
    """Why a typed address is refused: a phone number, the wrong length, or no street or
    place named."""
    typed = " ".join(clean_text(text).split())
    if is_phone_number(typed):
        return chat.t("address_is_phone")
    if taken_text(typed, ADDRESS_LIMITS) is None:
        low, high = ADDRESS_LIMITS
        return chat.t("address_invalid", low=low, high=high)
    return chat.t("address_no_place")


async def use_remembered(chat: Chat, field: str) -> list[Reply]:
    """Takes a remembered detail (name, phone or address), or the number the person writes
    from (`own`), instead of typing it again."""
    value = _remembered(chat, field)
    if value is None:
        raise Refusal("stale_button")
    chat.keep(**{"co_phone" if field == "own" else f"co_{field}": value})
    return await _next(chat)


def _remembered(chat: Chat, field: str) -> str | None:
    """A detail remembered from the last order (`name`, `phone`, `address`) or the number the
    person writes from (`own`), as it would be taken if typed now. One kept from before texts
    were cleaned is offered cleaned, or not at all when it would now be refused."""
    person = chat.person
    if field == "own":
        return _own_phone(chat)
    if field == "phone":
        return person.phone
    remembered = person.contact_name if field == "name" else person.address
    return TYPED[f"co_{field}"](remembered) if remembered else None


def _own_phone(chat: Chat) -> str | None:
    """The Indonesian number the platform says the person writes from, if it says one."""
    sender = chat.incoming.sender_phone
    return normalize_phone(sender) if sender else None


async def choose_delivery(chat: Chat, delivery: str) -> list[Reply]:
    """Delivery to an address, or pickup at the merchant."""
    if "co_phone" not in chat.state.data:
        return await _next(chat)
    chat.keep(co_delivery=delivery)
    return await _next(chat)


async def choose_payment(chat: Chat, payment: str) -> list[Reply]:
    """Cash on delivery/pickup, or transfer/QRIS to the merchant."""
    if "co_delivery" not in chat.state.data:
        return await _next(chat)
    chat.keep(co_payment=payment)
    return await _next(chat)


async def cancel(chat: Chat) -> list[Reply]:
    """Leaves checkout; the cart stays as it was."""
    chat.end_step()
    _reset(chat)
    buttons = (Button(chat.t("btn_view_cart"), payloads.CART()), menu_button(chat))
    return [Reply(chat.t("checkout_cancelled"), buttons)]


async def confirm(chat: Chat, token: str) -> list[Reply]:
    """Places the orders of the summary the person saw, once, however often they press."""
    placed = await orders_of_checkout(chat.session, token)
    if placed:
        return [_placed_reply(chat, placed, again=True)]
    if _retake_typed(chat):
        return [Reply(chat.t("summary_outdated")), *await _next(chat)]
    data = chat.state.data
    current = _fingerprint(await cart_groups(chat.session, chat.person.id))
    if (
        any(field not in data for field in REQUIRED)
        or data["co_token"] != token
        or data["co_cart"] != current
    ):
        return [Reply(chat.t("summary_outdated")), *await _next(chat)]
    details = CheckoutDetails(
        contact_name=data["co_name"],
        phone=data["co_phone"],
        delivery=data["co_delivery"],
        address=data.get("co_address"),
        payment=data["co_payment"],
    )
    try:
        orders = await place_orders(
            chat.session, chat.person, token, details, chat.now, chat.incoming.channel
        )
    except Refusal as refusal:
        buttons = (Button(chat.t("btn_view_cart"), payloads.CART()), menu_button(chat))
        return [Reply(chat.t(refusal.key, **refusal.params), buttons)]
    person = chat.person
    person.contact_name, person.phone = details.contact_name, details.phone
    person.delivery, person.payment = details.delivery, details.payment
    placed = _placed_reply(chat, orders, again=False)
    if details.address:
        person.address = details.address
        # A resident who has not chosen an area yet lives, most likely, where they have
        # things delivered.
        area = remember_from_address(person, details.address)
        if area is not None:
            told = chat.t("area_from_address", area=area_text(chat, *area))
            placed = replace(placed, text=f"{placed.text}\n\n{told}")
    _reset(chat)
    return [placed]


def _retake_typed(chat: Chat) -> bool:
    """Takes the typed details kept in the chat again, as they would be taken now; True when
    one changed. A summary kept from before texts were cleaned may hold what is now refused
    (a NUL, which PostgreSQL cannot store): that detail is asked again, and one only cleaned
    shows a fresh summary, so the person still confirms what they were shown."""
    kept = chat.state.data
    taken = {field: take(str(kept[field])) for field, take in TYPED.items() if field in kept}
    if all(kept[field] == value for field, value in taken.items()):
        return False
    _reset(
        chat,
        **{k: v for k, v in kept.items() if k in FIELDS and k not in TYPED and k != "co_token"},
        **taken,
    )
    return True


def _placed_reply(chat: Chat, orders: list[Order], *, again: bool) -> Reply:
    lines = [chat.t("orders_already_placed" if again else "orders_placed"), ""]
    lines += [
        chat.t("placed_line", order=o.id, merchant=o.merchant.name, total=format_rupiah(o.total))
        for o in orders
    ]
    if not again:
        lines += ["", chat.t("orders_placed_next")]
    buttons = (Button(chat.t("btn_orders"), payloads.ORDERS()), menu_button(chat))
    return Reply("\n".join(lines), buttons)
