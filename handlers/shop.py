"""A merchant keeps their products in chat: stock, price, shown or hidden, and new ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.formatting import long_date, priced_label, shorten
from handlers.media import Refused, sent_media
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.money import format_rupiah, parse_rupiah
from handlers.photo_addresses import MAX_PHOTO_ADDRESS, photo_address
from models.catalog import Review, categories_in_rotation
from models.errors import Refusal
from models.media import PICTURES
from models.ordering import operated_merchants
from models.shop import (
    MAX_STOCK,
    add_product,
    check_price,
    check_stock,
    product_for_operator,
    set_price,
    set_reviewed,
    set_shown,
    set_stock,
    shop_products,
)

if TYPE_CHECKING:
    from handlers.context import Chat
    from models.catalog import Product

MAX_NAME = 120
MAX_DESCRIPTION = 600


async def _merchants(chat: Chat) -> list[int]:
    merchants = await operated_merchants(chat.session, chat.person.id)
    if not merchants:
        raise Refusal("not_an_operator")
    return merchants


async def products(chat: Chat, after_id: int = 0) -> list[Reply]:
    """`/stok`: the shop's products with their stock, a page at a time."""
    chat.end_step()
    size = chat.config.page_size
    rows = await shop_products(chat.session, await _merchants(chat), after_id, size)
    lines = [chat.t("stock_list")]
    buttons = []
    for product in rows[:size]:
        lines.append(
            chat.t(
                "stock_line",
                name=shorten(product.name, 40),
                stock=product.stock,
                price=format_rupiah(product.price),
                state=product_state(chat, product),
            )
        )
        if product.demoted and product.demoted_on is not None:
            since = long_date(product.demoted_on, chat.language)
            fridays = chat.config.demote_after_fridays
            lines.append(chat.t("stock_demoted", since=since, fridays=fridays))
        buttons.append(
            Button(priced_label(product.name, product.price), payloads.SHOP_PRODUCT(product.id))
        )
    if len(rows) > size:
        buttons.append(Button(chat.t("btn_next"), payloads.SHOP_PRODUCTS(rows[size - 1].id)))
    buttons += [Button(chat.t("btn_new_product"), payloads.NEW_PRODUCT()), menu_button(chat)]
    return [Reply("\n".join(lines), tuple(buttons))]


def product_state(chat: Chat, product: Product) -> str:
    """Where the product stands, as its merchant sees it in `/stok`: shown or hidden, and
    staff's review with its note (a demotion has a line of its own, with why)."""
    if product.review_state == Review.LISTED:
        return chat.t("shown") if product.active else chat.t("hidden")
    review = chat.t(f"review_{product.review_state}", note=product.review_note or "")
    return review if product.active else f"{review} · {chat.t('hidden')}"


def _product_menu(chat: Chat, product: Product, said: str) -> Reply:
    shown = (
        Button(chat.t("btn_hide"), payloads.SHOP_SHOWN(product.id, False))
        if product.active
        else Button(chat.t("btn_show"), payloads.SHOP_SHOWN(product.id, True))
    )
    buttons = (
        Button(chat.t("btn_set_stock"), payloads.SHOP_STOCK(product.id)),
        Button(chat.t("btn_set_price"), payloads.SHOP_PRICE(product.id)),
        shown,
        Button(chat.t("btn_edit_name"), payloads.SHOP_NAME(product.id)),
        Button(chat.t("btn_edit_description"), payloads.SHOP_DESCRIPTION(product.id)),
        Button(chat.t("btn_edit_photo"), payloads.SHOP_PHOTO(product.id)),
        Button(chat.t("btn_my_products"), payloads.SHOP_PRODUCTS(0)),
    )
    summary = chat.t(
        "shop_product",
        name=product.name,
        price=format_rupiah(product.price),
        stock=product.stock,
        state=product_state(chat, product),
    )
    return Reply("\n".join(part for part in (said, summary) if part), buttons)


async def product_menu(chat: Chat, product_id: int) -> list[Reply]:
    chat.end_step()
    product = await product_for_operator(chat.session, chat.person.id, product_id)
    return [_product_menu(chat, product, "")]


async def ask_stock(chat: Chat, product_id: int) -> list[Reply]:
    product = await product_for_operator(chat.session, chat.person.id, product_id)
    chat.begin_step("shop_stock", product=product.id)
    cancel = Button(chat.t("btn_cancel"), payloads.SHOP_PRODUCT(product.id))
    return [Reply(chat.t("ask_stock", name=product.name, stock=product.stock), (cancel,))]


async def typed_stock(chat: Chat, typed: str) -> list[Reply]:
    product_id = int(chat.state.data.get("product", 0))
    stock = _whole_number(typed)
    if stock is None or not 0 <= stock <= MAX_STOCK:
        cancel = Button(chat.t("btn_cancel"), payloads.SHOP_PRODUCT(product_id))
        return [Reply(chat.t("stock_out_of_range", high=MAX_STOCK), (cancel,))]
    chat.end_step()
    product = await set_stock(chat.session, chat.person.id, product_id, stock)
    return [_product_menu(chat, product, chat.t("stock_set", stock=stock))]


async def ask_price(chat: Chat, product_id: int) -> list[Reply]:
    product = await product_for_operator(chat.session, chat.person.id, product_id)
    chat.begin_step("shop_price", product=product.id)
    cancel = Button(chat.t("btn_cancel"), payloads.SHOP_PRODUCT(product.id))
    price = format_rupiah(product.price)
    return [Reply(chat.t("ask_price", name=product.name, price=price), (cancel,))]


async def typed_price(chat: Chat, typed: str) -> list[Reply]:
    product_id = int(chat.state.data.get("product", 0))
    price = parse_rupiah(typed)
    try:
        if price is None:
            raise Refusal("price_not_understood")
        check_price(price)
    except Refusal as refusal:
        cancel = Button(chat.t("btn_cancel"), payloads.SHOP_PRODUCT(product_id))
        return [Reply(chat.t(refusal.key, **refusal.params), (cancel,))]
    chat.end_step()
    product = await set_price(chat.session, chat.person.id, product_id, price)
    return [_product_menu(chat, product, chat.t("price_set", price=format_rupiah(price)))]


async def show_or_hide(chat: Chat, product_id: int, shown: bool) -> list[Reply]:
    chat.end_step()
    product = await set_shown(chat.session, chat.person.id, product_id, shown)
    return [_product_menu(chat, product, chat.t("now_shown" if shown else "now_hidden"))]


# ---- what staff review: name, description, photo ------------------------------------------


async def ask_name(chat: Chat, product_id: int) -> list[Reply]:
    product = await product_for_operator(chat.session, chat.person.id, product_id)
    chat.begin_step("shop_name", product=product.id)
    return [Reply(chat.t("ask_product_name", name=product.name), _back_to(product.id, chat))]


async def typed_name(chat: Chat, typed: str) -> list[Reply]:
    product_id = int(chat.state.data.get("product", 0))
    name = _product_name(typed)
    if name is None:
        said = chat.t("np_name_length", low=3, high=MAX_NAME)
        return [Reply(said, _back_to(product_id, chat))]
    return await _edited(chat, product_id, "name", name, "name_set")


async def ask_description(chat: Chat, product_id: int) -> list[Reply]:
    product = await product_for_operator(chat.session, chat.person.id, product_id)
    chat.begin_step("shop_description", product=product.id)
    now = product.description or chat.t("no_description")
    return [Reply(chat.t("ask_product_description", description=now), _back_to(product.id, chat))]


async def typed_description(chat: Chat, typed: str) -> list[Reply]:
    product_id = int(chat.state.data.get("product", 0))
    description = typed.strip()
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        said = chat.t("description_length", high=MAX_DESCRIPTION)
        return [Reply(said, _back_to(product_id, chat))]
    return await _edited(chat, product_id, "description", description, "description_set")


async def ask_photo(chat: Chat, product_id: int) -> list[Reply]:
    product = await product_for_operator(chat.session, chat.person.id, product_id)
    chat.begin_step("shop_photo", product=product.id)
    return [Reply(chat.t("ask_product_photo", name=product.name), _back_to(product.id, chat))]


async def typed_photo(chat: Chat, typed: str) -> list[Reply]:
    product_id = int(chat.state.data.get("product", 0))
    try:
        photo = await sent_media(chat, PICTURES)
    except Refused as refused:
        return [Reply(chat.t(refused.key), _back_to(product_id, chat))]
    photo = photo or photo_address(typed)
    if photo is None or len(photo) > MAX_PHOTO_ADDRESS:
        address = typed.startswith("https://")
        said = chat.t("np_photo_address_invalid" if address else "np_photo_not_understood")
        return [Reply(said, _back_to(product_id, chat))]
    return await _edited(chat, product_id, "photo_url", photo, "photo_set")


async def _edited(chat: Chat, product_id: int, column: str, value: str, key: str) -> list[Reply]:
    """Saves a reviewed column the merchant typed and shows the product with what changed."""
    chat.end_step()
    review = chat.config.review_new_products
    product = await set_reviewed(
        chat.session, chat.person.id, product_id, column, value, chat.now, review=review
    )
    return [_product_menu(chat, product, _changed(chat, product, key))]


def _changed(chat: Chat, product: Product, key: str) -> str:
    """What the merchant is told of a change, and that it waits for staff if it does."""
    said = chat.t(key)
    if product.review_state == Review.WAITING:
        said += "\n" + chat.t("sent_for_review")
    return said


def _back_to(product_id: int, chat: Chat) -> tuple[Button, ...]:
    return (Button(chat.t("btn_cancel"), payloads.SHOP_PRODUCT(product_id)),)


def _product_name(typed: str) -> str | None:
    name = " ".join(typed.split())
    if not 3 <= len(name) <= MAX_NAME or not any(c.isalpha() for c in name):
        return None
    return name


def _whole_number(typed: str) -> int | None:
    cleaned = typed.strip().replace(".", "")
    # `isdigit` also takes superscripts such as "²", which int() refuses.
    return int(cleaned) if cleaned.isdecimal() and len(cleaned) <= 9 else None


# ---- a new product, step by step ---------------------------------------------------------


async def new_product(chat: Chat) -> list[Reply]:
    """`/produk`: name, category, price, stock, description, photo."""
    await _merchants(chat)
    chat.begin_step("np_name")
    return [Reply(chat.t("np_ask_name"), _cancel(chat))]


async def typed_new_name(chat: Chat, typed: str) -> list[Reply]:
    name = _product_name(typed)
    if name is None:
        return [Reply(chat.t("np_name_length", low=3, high=MAX_NAME), _cancel(chat))]
    chat.begin_step("np_category", np_name=name)
    categories = await categories_in_rotation(chat.session)
    buttons = tuple(
        Button(c.name(chat.language), payloads.NEW_PRODUCT_CATEGORY(c.id)) for c in categories
    )
    return [Reply(chat.t("np_ask_category"), buttons + _cancel(chat))]


async def chose_new_category(chat: Chat, category_id: int) -> list[Reply]:
    if chat.state.step != "np_category":
        raise Refusal("stale_button")
    chat.begin_step("np_price", np_category=category_id)
    return [Reply(chat.t("np_ask_price"), _cancel(chat))]


async def typed_new_price(chat: Chat, typed: str) -> list[Reply]:
    price = parse_rupiah(typed)
    if price is None:
        return [Reply(chat.t("price_not_understood"), _cancel(chat))]
    try:
        check_price(price)
    except Refusal as refusal:
        return [Reply(chat.t(refusal.key, **refusal.params), _cancel(chat))]
    chat.begin_step("np_stock", np_price=price)
    return [Reply(chat.t("np_ask_stock"), _cancel(chat))]


async def typed_new_stock(chat: Chat, typed: str) -> list[Reply]:
    stock = _whole_number(typed)
    try:
        check_stock(stock if stock is not None else -1)
    except Refusal as refusal:
        return [Reply(chat.t(refusal.key, **refusal.params), _cancel(chat))]
    chat.begin_step("np_description", np_stock=stock)
    skip = Button(chat.t("btn_skip"), payloads.NEW_PRODUCT_SKIP())
    return [Reply(chat.t("np_ask_description"), (skip, *_cancel(chat)))]


async def typed_new_description(chat: Chat, typed: str) -> list[Reply]:
    description = typed.strip()
    if len(description) > MAX_DESCRIPTION:
        return [Reply(chat.t("np_description_length", high=MAX_DESCRIPTION), _cancel(chat))]
    return _ask_photo(chat, description)


def _ask_photo(chat: Chat, description: str) -> list[Reply]:
    chat.begin_step("np_photo", np_description=description)
    skip = Button(chat.t("btn_skip"), payloads.NEW_PRODUCT_SKIP())
    return [Reply(chat.t("np_ask_photo"), (skip, *_cancel(chat)))]


async def skipped(chat: Chat) -> list[Reply]:
    if chat.state.step == "np_description":
        return _ask_photo(chat, "")
    if chat.state.step == "np_photo":
        return await _create(chat, None)
    raise Refusal("stale_button")


async def typed_new_photo(chat: Chat, typed: str) -> list[Reply]:
    """A photo sent in the chat (kept by jbl) or a typed https:// address."""
    skip = Button(chat.t("btn_skip"), payloads.NEW_PRODUCT_SKIP())
    # A platform's photo reference only ever comes from the platform, never typed.
    try:
        photo = await sent_media(chat, PICTURES)
    except Refused as refused:
        return [Reply(chat.t(refused.key), (skip, *_cancel(chat)))]
    photo = photo or photo_address(typed)
    if photo is None or len(photo) > MAX_PHOTO_ADDRESS:
        # An address that only starts right is told what is wrong with it.
        address = typed.startswith("https://")
        said = chat.t("np_photo_address_invalid" if address else "np_photo_not_understood")
        return [Reply(said, (skip, *_cancel(chat)))]
    return await _create(chat, photo)


async def _create(chat: Chat, photo: str | None) -> list[Reply]:
    data = chat.state.data
    merchant_id = (await _merchants(chat))[0]
    product = await add_product(
        chat.session,
        chat.person.id,
        merchant_id,
        name=str(data["np_name"]),
        category_id=int(data["np_category"]),
        price=int(data["np_price"]),
        stock=int(data["np_stock"]),
        description=str(data.get("np_description", "")),
        photo=photo,
        now=chat.now,
        review=chat.config.review_new_products,
    )
    chat.end_step()
    said = chat.t("np_created_waiting" if product.review_state == Review.WAITING else "np_created")
    return [_product_menu(chat, product, said)]


def _cancel(chat: Chat) -> tuple[Button, ...]:
    return (Button(chat.t("btn_cancel"), payloads.SHOP_PRODUCTS(0)),)
