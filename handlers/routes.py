"""Which handler answers which command, button payload and step: the whole map, in one place."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from handlers import (
    broadcast,
    cart,
    catalog,
    checkout,
    claims,
    curation,
    links,
    menu,
    merchant,
    nearby,
    orders,
    payloads,
    payment_details,
    payments,
    ratings,
    results,
    search,
    shop,
    sign_in,
    subscriptions,
)
from handlers.payloads import Payload
from models.base import NO_ID

if TYPE_CHECKING:
    from handlers.context import Chat
    from handlers.messages import Reply

Handler = Callable[["Chat"], Awaitable[list["Reply"]]]


def _search(chat: Chat, args: str) -> Awaitable[list[Reply]]:
    return search.search(chat, args) if args else search.ask_query(chat)


# What a link to the bot may carry for /start (a deep link's start parameter): a product, a
# merchant (ids read as a payload's are), a merchant invite, or a shop's claim by phone (any
# shop of the person's number, or the one named).
_START_LINK = re.compile(rf"([pm])_({payloads.ID.regex})")
_JOIN_LINK = re.compile(r"join_([A-Za-z0-9]{4,20})")
_CLAIM_LINK = re.compile(rf"klaim(?:_({payloads.ID.regex}))?")
_CLAIM_ARGS = re.compile(rf"({payloads.ID.regex})?")


def start_link(kind: str, id: int) -> str:
    """The /start argument that opens a product (`p`) or a merchant's products (`m`)."""
    return f"{kind}_{id}"


def join_link(code: str) -> str:
    """The /start argument that uses a merchant invite."""
    return f"join_{code}"


def claim_link(merchant_id: int) -> str:
    """The /start argument that starts the claim of a shop by phone."""
    return f"klaim_{merchant_id}"


def claim_command(merchant_id: int) -> str:
    """The message that starts the claim of a shop by phone where a link can only fill in
    what the person sends (WhatsApp's wa.me)."""
    return f"/klaim {merchant_id}"


async def _start(chat: Chat, args: str) -> list[Reply]:
    invite = _JOIN_LINK.fullmatch(args)
    if invite is not None:
        return await merchant.join(chat, invite[1])
    claim = _CLAIM_LINK.fullmatch(args)
    if claim is not None:
        return await claims.start(chat, payloads.ID.read(claim[1]) if claim[1] else None)
    link = _START_LINK.fullmatch(args)
    if link is None:
        return await claims.greet(chat)
    kind, id = link[1], payloads.ID.read(link[2])
    if kind == "p":
        chat.keep(back=payloads.CATALOG())
        return await catalog.product_card(chat, id)
    return await catalog.merchant_page(chat, id)


async def _claim(chat: Chat, args: str) -> list[Reply]:
    """`/klaim [ID]`: a shop's id that is no number is no shop, not any shop."""
    shop = _CLAIM_ARGS.fullmatch(args)
    if shop is None:
        return await claims.start(chat, NO_ID)
    return await claims.start(chat, payloads.ID.read(shop[1]) if shop[1] else None)


# Commands by their Indonesian and English names; `args` is the text after the command.
_COMMANDS: tuple[tuple[tuple[str, ...], Callable[[Chat, str], Awaitable[list[Reply]]]], ...] = (
    (("start",), _start),
    (("menu", "batal", "cancel"), lambda chat, args: menu.main_menu(chat)),
    (("bantuan", "help"), lambda chat, args: menu.help_text(chat)),
    (("bahasa", "language"), lambda chat, args: menu.choose_language(chat)),
    (("katalog", "catalog"), lambda chat, args: catalog.catalog(chat)),
    (("cari", "search"), _search),
    (("dekat", "nearby"), lambda chat, args: nearby.nearby(chat)),
    (("keranjang", "cart"), lambda chat, args: cart.show_cart(chat)),
    (("checkout",), lambda chat, args: checkout.start(chat)),
    (("pesanan", "orders"), lambda chat, args: orders.list_orders(chat)),
    (("pesanan_toko", "shop_orders"), lambda chat, args: merchant.shop_orders(chat)),
    (("toko", "shop"), lambda chat, args: merchant.dashboard(chat)),
    (("stok", "stock"), lambda chat, args: shop.products(chat)),
    (("produk", "product"), lambda chat, args: shop.new_product(chat)),
    (("pembayaran", "payment"), lambda chat, args: payment_details.start(chat)),
    (("gabung", "join"), merchant.join),
    (("klaim", "claim"), _claim),
    (("langganan", "subscribe"), lambda chat, args: subscriptions.start(chat)),
    (("berhenti", "unsubscribe"), lambda chat, args: subscriptions.stop(chat)),
    (("tautkan", "link"), links.command),
    (("lepas", "unlink"), lambda chat, args: links.ask_unlink(chat)),
    # Staff only; anyone else is told the command is unknown.
    (("siaran", "broadcast"), lambda chat, args: broadcast.menu(chat)),
    (("jadwal", "schedule"), lambda chat, args: broadcast.calendar(chat)),
    (("laporan", "report"), lambda chat, args: results.menu(chat)),
    (("kurasi", "curate"), lambda chat, args: curation.queue(chat)),
    (("masuk", "login"), lambda chat, args: sign_in.link(chat)),
    (("persetujuan", "approvals"), lambda chat, args: claims.waiting(chat)),
)
COMMANDS = {name: handle for names, handle in _COMMANDS for name in names}

# The command menu a platform shows, per language: (command, text key of its description).
COMMAND_MENU: dict[str, tuple[tuple[str, str], ...]] = {
    "id": (
        ("start", "cmd_start"),
        ("katalog", "cmd_catalog"),
        ("cari", "cmd_search"),
        ("dekat", "cmd_nearby"),
        ("keranjang", "cmd_cart"),
        ("pesanan", "cmd_orders"),
        ("langganan", "cmd_subscribe"),
        ("tautkan", "cmd_link"),
        ("bahasa", "cmd_language"),
        ("bantuan", "cmd_help"),
    ),
    "en": (
        ("start", "cmd_start"),
        ("catalog", "cmd_catalog"),
        ("search", "cmd_search"),
        ("nearby", "cmd_nearby"),
        ("cart", "cmd_cart"),
        ("orders", "cmd_orders"),
        ("subscribe", "cmd_subscribe"),
        ("link", "cmd_link"),
        ("language", "cmd_language"),
        ("help", "cmd_help"),
    ),
}


@dataclass(frozen=True)
class PayloadRoute:
    payload: Payload
    handle: Callable[..., Awaitable[list[Reply]]]


# Button payloads, read top to bottom: each kind (`handlers/payloads.py`) and the handler that
# gets its values; a payload that matches none is stale or forged.
PAYLOADS: tuple[PayloadRoute, ...] = (
    PayloadRoute(payloads.MENU, menu.main_menu),
    PayloadRoute(payloads.HELP, menu.help_text),
    PayloadRoute(payloads.LANGUAGE_MENU, menu.choose_language),
    PayloadRoute(payloads.LANGUAGE, menu.set_language),
    PayloadRoute(payloads.CATALOG, catalog.catalog),
    PayloadRoute(payloads.CATEGORY, catalog.category_page),
    PayloadRoute(payloads.CATEGORY_PAGE, catalog.category_page),
    PayloadRoute(payloads.MERCHANT, catalog.merchant_page),
    PayloadRoute(payloads.MERCHANT_PAGE, catalog.merchant_page),
    PayloadRoute(payloads.PRODUCT, catalog.product_card),
    # "Dekat saya": shops by neighbourhood.
    PayloadRoute(payloads.NEARBY, nearby.nearby),
    PayloadRoute(payloads.NEARBY_CHANGE, nearby.choose_kota),
    PayloadRoute(payloads.NEARBY_KOTA, nearby.kota),
    PayloadRoute(payloads.NEARBY_KECAMATAN, nearby.kecamatan),
    PayloadRoute(payloads.NEARBY_AREA, nearby.choose_area),
    PayloadRoute(payloads.NEARBY_PAGE, nearby.area_page),
    PayloadRoute(payloads.SEARCH, search.ask_query),
    PayloadRoute(payloads.SEARCH_PAGE, search.search_page),
    PayloadRoute(payloads.ADD, cart.add),
    PayloadRoute(payloads.CHOOSE_QUANTITY, lambda chat, p: cart.ask_quantity(chat, p, "add")),
    PayloadRoute(payloads.TYPE_QUANTITY, lambda chat, p: cart.ask_quantity(chat, p, "set")),
    PayloadRoute(payloads.CART, cart.show_cart),
    PayloadRoute(payloads.EMPTY_CART, cart.clear),
    PayloadRoute(payloads.CART_ITEM, cart.item_menu),
    PayloadRoute(payloads.SET_QUANTITY, cart.change),
    PayloadRoute(payloads.CHECKOUT, checkout.start),
    PayloadRoute(payloads.CHECKOUT_EDIT, checkout.edit),
    PayloadRoute(payloads.CHECKOUT_CANCEL, checkout.cancel),
    PayloadRoute(payloads.CHECKOUT_USE, checkout.use_remembered),
    PayloadRoute(payloads.CHECKOUT_DELIVERY, checkout.choose_delivery),
    PayloadRoute(payloads.CHECKOUT_PAYMENT, checkout.choose_payment),
    PayloadRoute(payloads.CHECKOUT_CONFIRM, checkout.confirm),
    PayloadRoute(payloads.ORDERS, orders.list_orders),
    PayloadRoute(payloads.ORDER, orders.show_order),
    PayloadRoute(payloads.ORDER_CANCEL, orders.ask_cancel),
    PayloadRoute(payloads.ORDER_CANCEL_YES, orders.cancel),
    # The merchant's side: their shop's orders and the moves on them.
    PayloadRoute(payloads.SHOP_ORDERS, merchant.shop_orders),
    PayloadRoute(payloads.SHOP_ORDER, merchant.show_order),
    PayloadRoute(payloads.SHOP_ORDER_MOVE, merchant.move),
    PayloadRoute(payloads.SHOP_ORDER_REJECT, merchant.ask_reject_reason),
    PayloadRoute(payloads.SHOP_ORDER_REJECT_WITH, merchant.reject_with),
    # The merchant's products: stock, price, shown or hidden, new ones.
    PayloadRoute(payloads.SHOP_PRODUCTS, shop.products),
    PayloadRoute(payloads.SHOP_PRODUCT, shop.product_menu),
    PayloadRoute(payloads.SHOP_STOCK, shop.ask_stock),
    PayloadRoute(payloads.SHOP_PRICE, shop.ask_price),
    PayloadRoute(payloads.SHOP_SHOWN, shop.show_or_hide),
    PayloadRoute(payloads.SHOP_NAME, shop.ask_name),
    PayloadRoute(payloads.SHOP_DESCRIPTION, shop.ask_description),
    PayloadRoute(payloads.SHOP_PHOTO, shop.ask_photo),
    PayloadRoute(payloads.NEW_PRODUCT, shop.new_product),
    PayloadRoute(payloads.NEW_PRODUCT_CATEGORY, shop.chose_new_category),
    PayloadRoute(payloads.NEW_PRODUCT_SKIP, shop.skipped),
    # A merchant's payment details, and a transfer/QRIS order's payment.
    PayloadRoute(payloads.PAY_SETUP, payment_details.start),
    PayloadRoute(payloads.PAY_SETUP_SKIP, payment_details.skipped),
    PayloadRoute(payloads.PAY_SETUP_SAVE, payment_details.save),
    PayloadRoute(payloads.PAY_PROOF, payments.ask_proof),
    PayloadRoute(payloads.PAY_DECIDE, payments.decide),
    PayloadRoute(payloads.RATE, ratings.rate),
    # One account on several channels.
    PayloadRoute(payloads.LINK_BROADCAST, links.broadcast_channel),
    PayloadRoute(payloads.LINK_UNLINK_YES, links.unlink_yes),
    # The Friday broadcast: subscribing, and staff's /siaran.
    PayloadRoute(payloads.SUBSCRIBE, subscriptions.start),
    PayloadRoute(payloads.UNSUBSCRIBE, subscriptions.stop),
    PayloadRoute(payloads.SUBSCRIPTION_CATEGORIES, subscriptions.choose_categories),
    PayloadRoute(payloads.SUBSCRIPTION_CATEGORY, subscriptions.choose_categories),
    PayloadRoute(payloads.BROADCAST, broadcast.menu),
    PayloadRoute(payloads.BROADCAST_CATALOG, broadcast.open_catalog),
    PayloadRoute(payloads.BROADCAST_TEST, broadcast.send_test),
    PayloadRoute(payloads.BROADCAST_SEND, broadcast.ask_send_now),
    PayloadRoute(payloads.BROADCAST_SEND_YES, broadcast.send_now),
    PayloadRoute(payloads.BROADCAST_TIME, broadcast.ask_time),
    PayloadRoute(payloads.BROADCAST_CANCEL, broadcast.ask_cancel),
    PayloadRoute(payloads.BROADCAST_CANCEL_YES, broadcast.cancel),
    PayloadRoute(payloads.BROADCAST_PAUSE, broadcast.pause),
    PayloadRoute(payloads.BROADCAST_RESUME, broadcast.resume),
    PayloadRoute(payloads.BROADCAST_PAID, broadcast.ask_paid),
    PayloadRoute(payloads.BROADCAST_PAID_YES, broadcast.choose_paid),
    PayloadRoute(payloads.BROADCAST_FREE, broadcast.choose_free),
    PayloadRoute(payloads.CALENDAR_FILE, broadcast.calendar_file),
    # A shop claimed by phone: the claimant's answer, and staff's decision.
    PayloadRoute(payloads.CLAIM_YES, claims.yes),
    PayloadRoute(payloads.CLAIM_NO, claims.no),
    PayloadRoute(payloads.CLAIM_APPROVE, claims.approve),
    PayloadRoute(payloads.CLAIM_REFUSE, claims.refuse),
    # Staff's /laporan.
    PayloadRoute(payloads.REPORT, results.menu),
    PayloadRoute(payloads.REPORT_FRIDAYS, results.fridays),
    PayloadRoute(payloads.REPORT_KOTA, results.kota),
    PayloadRoute(payloads.REPORT_BEST, results.best),
    PayloadRoute(payloads.REPORT_UNSOLD, results.unsold),
    # Staff's /kurasi.
    PayloadRoute(payloads.CURATE, curation.queue),
    PayloadRoute(payloads.CURATE_DECIDE, curation.decided),
)

# Steps that take a photo sent in the chat.
PHOTO_STEPS = frozenset({"np_photo", "shop_photo", "pm_qris", "pay_proof"})
# Six digits typed outside a step: the code `/tautkan` gave on another channel.
LINK_CODE = links.LINK_CODE
TYPED_LINK_CODE = links.typed_code
# A chat's first message (where a platform sends no /start first) is answered as /start is.
GREETING: Handler = claims.greet
# A contact the person shared outside checkout's phone step: a claim of their shop.
SHARED_CONTACT: Handler = claims.shared_contact

# Steps that wait for typed text, by the name the chat state keeps.
STEPS: dict[str, Callable[[Chat, str], Awaitable[list[Reply]]]] = {
    "search": search.search,
    "quantity": cart.typed_quantity,
    "co_name": checkout.typed_name,
    "co_phone": checkout.typed_phone,
    "co_address": checkout.typed_address,
    "reject_reason": merchant.typed_reject_reason,
    "join_code": merchant.typed_join_code,
    "shop_stock": shop.typed_stock,
    "shop_price": shop.typed_price,
    "shop_name": shop.typed_name,
    "shop_description": shop.typed_description,
    "shop_photo": shop.typed_photo,
    "np_name": shop.typed_new_name,
    "np_price": shop.typed_new_price,
    "np_stock": shop.typed_new_stock,
    "np_description": shop.typed_new_description,
    "np_photo": shop.typed_new_photo,
    "rating_comment": ratings.typed_comment,
    "bc_time": broadcast.typed_time,
    "cu_note": curation.typed_note,
    "pm_bank": payment_details.typed_bank,
    "pm_account": payment_details.typed_account,
    "pm_holder": payment_details.typed_holder,
    "pm_ewallet": payment_details.typed_ewallet,
    "pm_qris": payment_details.typed_qris,
    "pay_proof": payments.typed_proof,
    "pay_note": payments.typed_note,
}
# In these steps a typed number is the answer, not the choice of a menu button.
NUMERIC_STEPS = frozenset(
    {"quantity", "shop_stock", "shop_price", "np_price", "np_stock", "pm_account"}
)
# In these steps an empty text is an answer (no description, no comment), so a message with
# nothing visible in it is not taken for one; every other step answers it with its own check.
BLANK_ANSWERS = frozenset({"np_description", "rating_comment"})


def route_payload(payload: str) -> Callable[[Chat], Awaitable[list[Reply]]] | None:
    for route in PAYLOADS:
        values = route.payload.read(payload)
        if values is not None:
            return lambda chat, v=values, r=route: r.handle(chat, *v)
    return None
