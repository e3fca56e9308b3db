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
    menu,
    merchant,
    orders,
    ratings,
    search,
    shop,
    subscriptions,
)
from models.catalog import RankKey
from models.ordering import CASH, DELIVERY, PICKUP, TRANSFER

if TYPE_CHECKING:
    from handlers.context import Chat
    from handlers.messages import Reply

Handler = Callable[["Chat"], Awaitable[list["Reply"]]]


def _search(chat: Chat, args: str) -> Awaitable[list[Reply]]:
    return search.search(chat, args) if args else search.ask_query(chat)


# What a link to the bot may carry for /start (Telegram's `?start=`): a product, a merchant,
# or a merchant invite.
_START_LINK = re.compile(r"([pm])_(\d{1,12})")
_JOIN_LINK = re.compile(r"join_([A-Za-z0-9]{4,20})")


def start_link(kind: str, id: int) -> str:
    """The /start argument that opens a product (`p`) or a merchant's products (`m`)."""
    return f"{kind}_{id}"


def join_link(code: str) -> str:
    """The /start argument that uses a merchant invite."""
    return f"join_{code}"


async def _start(chat: Chat, args: str) -> list[Reply]:
    invite = _JOIN_LINK.fullmatch(args)
    if invite is not None:
        return await merchant.join(chat, invite[1])
    link = _START_LINK.fullmatch(args)
    if link is None:
        return await menu.start(chat)
    kind, id = link[1], int(link[2])
    if kind == "p":
        chat.keep(back="cat")
        return await catalog.product_card(chat, id)
    return await catalog.merchant_page(chat, id)


# Commands by their Indonesian and English names; `args` is the text after the command.
_COMMANDS: tuple[tuple[tuple[str, ...], Callable[[Chat, str], Awaitable[list[Reply]]]], ...] = (
    (("start",), _start),
    (("menu", "batal", "cancel"), lambda chat, args: menu.main_menu(chat)),
    (("bantuan", "help"), lambda chat, args: menu.help_text(chat)),
    (("bahasa", "language"), lambda chat, args: menu.choose_language(chat)),
    (("katalog", "catalog"), lambda chat, args: catalog.catalog(chat)),
    (("cari", "search"), _search),
    (("keranjang", "cart"), lambda chat, args: cart.show_cart(chat)),
    (("checkout",), lambda chat, args: checkout.start(chat)),
    (("pesanan", "orders"), lambda chat, args: orders.list_orders(chat)),
    (("pesanan_toko", "shop_orders"), lambda chat, args: merchant.shop_orders(chat)),
    (("toko", "shop"), lambda chat, args: merchant.dashboard(chat)),
    (("stok", "stock"), lambda chat, args: shop.products(chat)),
    (("produk", "product"), lambda chat, args: shop.new_product(chat)),
    (("gabung", "join"), merchant.join),
    (("langganan", "subscribe"), lambda chat, args: subscriptions.start(chat)),
    (("berhenti", "unsubscribe"), lambda chat, args: subscriptions.stop(chat)),
    # Staff only; anyone else is told the command is unknown.
    (("siaran", "broadcast"), lambda chat, args: broadcast.menu(chat)),
    (("jadwal", "schedule"), lambda chat, args: broadcast.calendar(chat)),
)
COMMANDS = {name: handle for names, handle in _COMMANDS for name in names}

# The command menu a platform shows, per language: (command, text key of its description).
COMMAND_MENU: dict[str, tuple[tuple[str, str], ...]] = {
    "id": (
        ("start", "cmd_start"),
        ("katalog", "cmd_catalog"),
        ("cari", "cmd_search"),
        ("keranjang", "cmd_cart"),
        ("pesanan", "cmd_orders"),
        ("langganan", "cmd_subscribe"),
        ("bahasa", "cmd_language"),
        ("bantuan", "cmd_help"),
    ),
    "en": (
        ("start", "cmd_start"),
        ("catalog", "cmd_catalog"),
        ("search", "cmd_search"),
        ("cart", "cmd_cart"),
        ("orders", "cmd_orders"),
        ("subscribe", "cmd_subscribe"),
        ("language", "cmd_language"),
        ("help", "cmd_help"),
    ),
}


def _key(curated: str, sold: str, product_id: str) -> RankKey:
    return RankKey(curated == "1", int(sold), int(product_id))


@dataclass(frozen=True)
class PayloadRoute:
    pattern: re.Pattern[str]
    handle: Callable[..., Awaitable[list[Reply]]]


def _route(pattern: str, handle: Callable[..., Awaitable[list[Reply]]]) -> PayloadRoute:
    return PayloadRoute(re.compile(pattern), handle)


_ID = r"(\d{1,12})"
# Button payloads, read top to bottom; a payload that matches none is stale or forged.
PAYLOADS: tuple[PayloadRoute, ...] = (
    _route(r"menu", lambda chat: menu.main_menu(chat)),
    _route(r"help", lambda chat: menu.help_text(chat)),
    _route(r"lang", lambda chat: menu.choose_language(chat)),
    _route(r"lang:(id|en)", lambda chat, code: menu.set_language(chat, code)),
    _route(r"cat", lambda chat: catalog.catalog(chat)),
    _route(rf"c:{_ID}", lambda chat, c: catalog.category_page(chat, int(c))),
    _route(
        rf"c:{_ID}:([np]):([01]):(\d{{1,9}}):{_ID}",
        lambda chat, c, d, cu, s, p: catalog.category_page(chat, int(c), d, _key(cu, s, p)),
    ),
    _route(rf"m:{_ID}", lambda chat, m: catalog.merchant_page(chat, int(m))),
    _route(
        rf"m:{_ID}:([np]):([01]):(\d{{1,9}}):{_ID}",
        lambda chat, m, d, cu, s, p: catalog.merchant_page(chat, int(m), d, _key(cu, s, p)),
    ),
    _route(rf"p:{_ID}", lambda chat, p: catalog.product_card(chat, int(p))),
    _route(r"find", lambda chat: search.ask_query(chat)),
    _route(r"s:(\d{1,6})", lambda chat, offset: search.search_page(chat, int(offset))),
    _route(rf"a:{_ID}:(\d{{1,6}})", lambda chat, p, q: cart.add(chat, int(p), int(q))),
    _route(rf"q:{_ID}", lambda chat, p: cart.ask_quantity(chat, int(p), "add")),
    _route(rf"qs:{_ID}", lambda chat, p: cart.ask_quantity(chat, int(p), "set")),
    _route(r"cart", lambda chat: cart.show_cart(chat)),
    _route(r"cart:clear", lambda chat: cart.clear(chat)),
    _route(rf"ci:{_ID}", lambda chat, p: cart.item_menu(chat, int(p))),
    _route(rf"ci:{_ID}:(\d{{1,6}})", lambda chat, p, q: cart.change(chat, int(p), int(q))),
    _route(r"co", lambda chat: checkout.start(chat)),
    _route(r"co:edit", lambda chat: checkout.edit(chat)),
    _route(r"co:x", lambda chat: checkout.cancel(chat)),
    _route(r"co:use:(name|phone|own|address)", lambda chat, f: checkout.use_remembered(chat, f)),
    _route(rf"co:d:({DELIVERY}|{PICKUP})", lambda chat, d: checkout.choose_delivery(chat, d)),
    _route(rf"co:pay:({CASH}|{TRANSFER})", lambda chat, p: checkout.choose_payment(chat, p)),
    _route(r"co:ok:([0-9a-f]{16})", lambda chat, token: checkout.confirm(chat, token)),
    _route(r"o", lambda chat: orders.list_orders(chat)),
    _route(rf"o:{_ID}", lambda chat, o: orders.show_order(chat, int(o))),
    _route(rf"ox:{_ID}", lambda chat, o: orders.ask_cancel(chat, int(o))),
    _route(rf"ox:{_ID}:y", lambda chat, o: orders.cancel(chat, int(o))),
    # The merchant's side: their shop's orders and the moves on them.
    _route(r"mso", lambda chat: merchant.shop_orders(chat)),
    _route(rf"mo:{_ID}", lambda chat, o: merchant.show_order(chat, int(o))),
    _route(
        rf"mv:{_ID}:(confirm|ready|ship|complete)",
        lambda chat, o, m: merchant.move(chat, int(o), m),
    ),
    _route(rf"mr:{_ID}", lambda chat, o: merchant.ask_reject_reason(chat, int(o))),
    _route(
        rf"mr:{_ID}:({'|'.join(merchant.REJECT_REASONS)})",
        lambda chat, o, r: merchant.reject_with(chat, int(o), r),
    ),
    # The merchant's products: stock, price, shown or hidden, new ones.
    _route(r"sk:(\d{1,12})", lambda chat, after: shop.products(chat, int(after))),
    _route(rf"sp:{_ID}", lambda chat, p: shop.product_menu(chat, int(p))),
    _route(rf"ss:{_ID}", lambda chat, p: shop.ask_stock(chat, int(p))),
    _route(rf"sr:{_ID}", lambda chat, p: shop.ask_price(chat, int(p))),
    _route(rf"sv:{_ID}:([01])", lambda chat, p, v: shop.show_or_hide(chat, int(p), v == "1")),
    _route(r"np", lambda chat: shop.new_product(chat)),
    _route(rf"np:c:{_ID}", lambda chat, c: shop.chose_new_category(chat, int(c))),
    _route(r"np:skip", lambda chat: shop.skipped(chat)),
    _route(rf"rt:{_ID}:([1-5])", lambda chat, o, n: ratings.rate(chat, int(o), int(n))),
    # The Friday broadcast: subscribing, and staff's /siaran.
    _route(r"sub", lambda chat: subscriptions.start(chat)),
    _route(r"unsub", lambda chat: subscriptions.stop(chat)),
    _route(r"sub:c", lambda chat: subscriptions.choose_categories(chat)),
    _route(rf"sub:c:{_ID}", lambda chat, c: subscriptions.choose_categories(chat, int(c))),
    _route(r"bc", lambda chat: broadcast.menu(chat)),
    _route(
        r"bc:(\d{8}):(test|now|now!|time|x|x!|pause|resume)",
        lambda chat, key, action: broadcast.act(chat, key, action),
    ),
)

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
    "np_name": shop.typed_new_name,
    "np_price": shop.typed_new_price,
    "np_stock": shop.typed_new_stock,
    "np_description": shop.typed_new_description,
    "np_photo": shop.typed_new_photo,
    "rating_comment": ratings.typed_comment,
    "bc_time": broadcast.typed_time,
}
# In these steps a typed number is the answer, not the choice of a menu button.
NUMERIC_STEPS = frozenset({"quantity", "shop_stock", "shop_price", "np_price", "np_stock"})


def route_payload(payload: str) -> Callable[[Chat], Awaitable[list[Reply]]] | None:
    for route in PAYLOADS:
        match = route.pattern.fullmatch(payload)
        if match:
            return lambda chat, m=match, r=route: r.handle(chat, *m.groups())
    return None
