"""The Friday catalog: categories with this week's featured one first, pages, product cards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.formatting import long_date, priced_label
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from handlers.ratings import rating_line
from models.catalog import (
    Category,
    Merchant,
    Product,
    RankKey,
    Shelf,
    catalog_page,
    listed_product,
)
from models.errors import Refusal
from models.friday import edition_date, this_weeks_categories
from models.nearby import products_from

if TYPE_CHECKING:
    from handlers.context import Chat
    from handlers.payloads import Payload


# Before a product of the resident's own kecamatan in a category's list.
NEAR_MARK = "📍 "


async def catalog(chat: Chat) -> list[Reply]:
    """This week's edition: the featured category first, then the others."""
    chat.end_step()
    chat.keep(area_shops=None)
    friday = edition_date(chat.today)
    featured, categories = await this_weeks_categories(chat.session, friday)
    others = [c for c in categories if c.id != featured.id]
    buttons = [
        Button(
            chat.t("featured_label", name=featured.name(chat.language)),
            payloads.CATEGORY(featured.id),
        )
    ]
    buttons += [Button(c.name(chat.language), payloads.CATEGORY(c.id)) for c in others]
    buttons.append(menu_button(chat))
    heading = chat.t(
        "catalog_today" if friday == chat.today else "catalog_friday",
        date=long_date(friday, chat.language),
        category=featured.name(chat.language),
    )
    return [Reply(heading, tuple(buttons))]


async def category_page(
    chat: Chat, category_id: int, direction: str | None = None, key: RankKey | None = None
) -> list[Reply]:
    """A page of a category's products, best first, with next/previous."""
    category = await chat.session.get(Category, category_id)
    if category is None:
        raise Refusal("category_gone")
    name = category.name(chat.language)
    # The resident's own kecamatan: its shops' products are marked, and first within the same
    # rank with `[catalog] local_first`.
    home = chat.person.area_kecamatan
    chat.keep(area_shops=None)
    return await _shelf_page(
        chat,
        Shelf("c", category_id),
        (payloads.CATEGORY, payloads.CATEGORY_PAGE),
        direction,
        key,
        heading=chat.t("category_page", category=name),
        empty=chat.t("category_empty", category=name),
        home=home,
        near=home if chat.config.local_first else None,
    )


async def merchant_page(
    chat: Chat, merchant_id: int, direction: str | None = None, key: RankKey | None = None
) -> list[Reply]:
    """A page of one merchant's products, best first (where a merchant's own link leads)."""
    merchant = await chat.session.get(Merchant, merchant_id)
    if merchant is None:
        raise Refusal("merchant_gone")
    # Opened from "Dekat saya": back to that area's shops, not only to the categories.
    area_shops = chat.state.data.get("area_shops")
    return await _shelf_page(
        chat,
        Shelf("m", merchant_id),
        (payloads.MERCHANT, payloads.MERCHANT_PAGE),
        direction,
        key,
        heading=chat.t("merchant_page", merchant=merchant.name, area=merchant.area),
        empty=chat.t("merchant_empty", merchant=merchant.name),
        area_shops=area_shops,
    )


async def _shelf_page(
    chat: Chat,
    shelf: Shelf,
    pages: tuple[Payload, Payload],
    direction: str | None,
    key: RankKey | None,
    *,
    heading: str,
    empty: str,
    home: str | None = None,
    near: str | None = None,
    area_shops: str | None = None,
) -> list[Reply]:
    chat.end_step()
    also = (Button(chat.t("btn_area_shops"), area_shops),) if area_shops else ()
    size = chat.config.page_size
    page = await catalog_page(
        chat.session,
        shelf,
        after=key if direction == "n" else None,
        before=key if direction == "p" else None,
        size=size,
        near=near,
    )
    if not page.products and key is not None:
        page = await catalog_page(chat.session, shelf, size=size, near=near)
    # The shelf's first page, and a page from a cursor.
    first, paged = pages
    # A product card's Back returns to this very page.
    chat.keep(back=paged(shelf.id, direction, key) if key else first(shelf.id))
    if not page.products:
        return [Reply(empty, (*also, Button(chat.t("btn_back"), payloads.CATALOG())))]
    local: set[int] = set()
    if near is not None:
        # The page put them first, so it knows them already.
        local = {p.id for p in page.products if p.local}
    elif home is not None:
        local = await products_from(chat.session, (p.id for p in page.products), home)
    if local:
        heading += "\n" + chat.t("near_you", kecamatan=home)
    buttons = [
        Button(
            priced_label(p.name, p.price, NEAR_MARK if p.id in local else ""),
            payloads.PRODUCT(p.id),
        )
        for p in page.products
    ]
    if page.has_previous:
        buttons.append(Button(chat.t("btn_previous"), paged(shelf.id, "p", page.first)))
    if page.has_next:
        buttons.append(Button(chat.t("btn_next"), paged(shelf.id, "n", page.last)))
    buttons += [*also, Button(chat.t("btn_categories"), payloads.CATALOG())]
    return [Reply(heading, tuple(buttons))]


def card_text(chat: Chat, product: Product) -> str:
    stock = (
        chat.t("stock_left", stock=product.stock, unit=product.unit)
        if product.stock > 0
        else chat.t("sold_out")
    )
    lines = [
        product.name,
        chat.t("card_merchant", merchant=product.merchant.name, area=product.merchant.area),
        chat.t("card_price", price=format_rupiah(product.price), unit=product.unit),
        stock,
    ]
    rating = rating_line(chat.language, product.merchant)
    if rating:
        lines.append(rating)
    if product.curated:
        lines.append(chat.t("curated"))
    if product.description:
        lines += ["", product.description]
    return "\n".join(lines)


async def product_card(chat: Chat, product_id: int) -> list[Reply]:
    """A product's card with its photo and the buttons to buy it."""
    chat.end_step()
    product = await listed_product(chat.session, product_id)
    if product is None:
        raise Refusal("product_gone")
    buttons = []
    if product.stock > 0:
        buttons += [
            Button(chat.t("btn_add_one"), payloads.ADD(product.id, 1)),
            Button(chat.t("btn_choose_quantity"), payloads.CHOOSE_QUANTITY(product.id)),
        ]
    back = chat.state.data.get("back", payloads.CATEGORY(product.category_id))
    buttons += [Button(chat.t("btn_cart"), payloads.CART()), Button(chat.t("btn_back"), back)]
    return [Reply(card_text(chat, product), tuple(buttons), photo_url=product.photo_url)]
