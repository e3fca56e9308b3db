"""The cart: add, change quantities, remove, empty, totals per merchant."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from handlers import payloads
from handlers.formatting import item_line, shorten
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from models.carts import MAX_QUANTITY, CartGroup, add_to_cart, cart_groups, empty_cart, set_quantity
from models.catalog import listed_product
from models.errors import Refusal

if TYPE_CHECKING:
    from handlers.context import Chat

_QUANTITY = re.compile(r"^[+-]?\d+$")


def parse_quantity(text: str) -> int | None:
    """A typed whole number, sign included, so that -3 and 10^9 get the rule they break."""
    cleaned = text.strip()
    return int(cleaned) if _QUANTITY.match(cleaned) else None


def _back(chat: Chat) -> Button:
    return Button(chat.t("btn_continue_shopping"), chat.state.data.get("back", payloads.CATALOG()))


async def add(chat: Chat, product_id: int, quantity: int) -> list[Reply]:
    """Adds a product to the cart."""
    chat.end_step()
    item = await add_to_cart(chat.session, chat.person.id, product_id, quantity, chat.now)
    text = chat.t(
        "added_to_cart", quantity=quantity, product=item.product.name, in_cart=item.quantity
    )
    buttons = (Button(chat.t("btn_view_cart"), payloads.CART()), _back(chat))
    return [Reply(text, buttons, toast=chat.t("toast_added"))]


async def ask_quantity(chat: Chat, product_id: int, mode: str) -> list[Reply]:
    """Asks how many to add (from a product card) or to keep (from the cart)."""
    product = await listed_product(chat.session, product_id)
    if product is None:
        raise Refusal("product_gone")
    chat.begin_step("quantity", product_id=product_id, mode=mode)
    limit = min(product.stock, MAX_QUANTITY)
    text = chat.t("ask_quantity", product=product.name, limit=limit, unit=product.unit)
    return [Reply(text, (Button(chat.t("btn_cancel"), payloads.PRODUCT(product_id)),))]


async def typed_quantity(chat: Chat, text: str) -> list[Reply]:
    """Takes a typed quantity for the product the person chose."""
    quantity = parse_quantity(text)
    product_id = int(chat.state.data["product_id"])
    if quantity is None:
        buttons = (Button(chat.t("btn_cancel"), payloads.PRODUCT(product_id)),)
        return [Reply(chat.t("quantity_not_number", limit=MAX_QUANTITY), buttons)]
    if chat.state.data.get("mode") == "set":
        chat.end_step()
        return await change(chat, product_id, quantity)
    return await add(chat, product_id, quantity)


def cart_text(chat: Chat, groups: list[CartGroup]) -> str:
    lines = [chat.t("cart_heading")]
    for group in groups:
        lines += ["", chat.t("cart_merchant", merchant=group.merchant.name)]
        lines += [
            item_line(chat.language, item.product.name, item.quantity, item.product.price)
            for item in group.items
        ]
        lines.append(chat.t("cart_subtotal", subtotal=format_rupiah(group.total)))
    total = sum(group.total for group in groups)
    lines += ["", chat.t("cart_total", total=format_rupiah(total), orders=len(groups))]
    return "\n".join(lines)


async def show_cart(chat: Chat) -> list[Reply]:
    """The cart grouped per merchant, with totals."""
    chat.end_step()
    groups = await cart_groups(chat.session, chat.person.id)
    if not groups:
        buttons = (Button(chat.t("btn_catalog"), payloads.CATALOG()), menu_button(chat))
        return [Reply(chat.t("cart_empty"), buttons)]
    buttons = [
        Button(
            chat.t("btn_edit_item", product=shorten(item.product.name, 36)),
            payloads.CART_ITEM(item.product_id),
        )
        for group in groups
        for item in group.items
    ]
    buttons += [
        Button(chat.t("btn_checkout"), payloads.CHECKOUT()),
        Button(chat.t("btn_empty_cart"), payloads.EMPTY_CART()),
        _back(chat),
    ]
    return [Reply(cart_text(chat, groups), tuple(buttons))]


async def item_menu(chat: Chat, product_id: int) -> list[Reply]:
    """One cart line: one more, one less, remove, or type a quantity."""
    chat.end_step()
    groups = await cart_groups(chat.session, chat.person.id)
    item = next((i for g in groups for i in g.items if i.product_id == product_id), None)
    if item is None:
        raise Refusal("cart_item_gone")
    text = chat.t(
        "cart_item",
        product=item.product.name,
        quantity=item.quantity,
        price=format_rupiah(item.product.price),
    )
    # Payloads carry the target quantity, so a double press does not count twice.
    buttons = (
        Button(chat.t("btn_plus_one"), payloads.SET_QUANTITY(product_id, item.quantity + 1)),
        Button(chat.t("btn_minus_one"), payloads.SET_QUANTITY(product_id, item.quantity - 1)),
        Button(chat.t("btn_type_quantity"), payloads.TYPE_QUANTITY(product_id)),
        Button(chat.t("btn_remove"), payloads.SET_QUANTITY(product_id, 0)),
        Button(chat.t("btn_view_cart"), payloads.CART()),
    )
    return [Reply(text, buttons)]


async def change(chat: Chat, product_id: int, quantity: int) -> list[Reply]:
    """Sets a cart line's quantity; zero removes it."""
    item = await set_quantity(chat.session, chat.person.id, product_id, quantity)
    if item is None:
        return [Reply(chat.t("item_removed")), *await show_cart(chat)]
    return await show_cart(chat)


async def clear(chat: Chat) -> list[Reply]:
    """Empties the cart."""
    await empty_cart(chat.session, chat.person.id)
    return [
        Reply(
            chat.t("cart_cleared"),
            (Button(chat.t("btn_catalog"), payloads.CATALOG()), menu_button(chat)),
        )
    ]
