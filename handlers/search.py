"""Text search: `/cari kopi`, or the Cari button and then the words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.formatting import priced_label, shorten
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from models.search import search_products, search_words

if TYPE_CHECKING:
    from handlers.context import Chat

MAX_QUERY_LENGTH = 100


async def ask_query(chat: Chat) -> list[Reply]:
    """Asks what to look for."""
    chat.begin_step("search")
    return [Reply(chat.t("search_prompt"), (menu_button(chat),))]


async def search(chat: Chat, query: str, offset: int = 0) -> list[Reply]:
    """Shows the products matching every typed word, best first."""
    if len(query) > MAX_QUERY_LENGTH:
        chat.begin_step("search")
        return [Reply(chat.t("search_too_long", limit=MAX_QUERY_LENGTH), (menu_button(chat),))]
    words = search_words(query)
    if not words:
        chat.begin_step("search")
        return [Reply(chat.t("search_prompt"), (menu_button(chat),))]
    chat.end_step()
    size = chat.config.page_size
    # One extra row tells whether a next page exists.
    found = await search_products(chat.session, words, offset=offset, limit=size + 1)
    shown = " ".join(words)
    chat.keep(query=shown, back=payloads.SEARCH_PAGE(offset))
    if not found:
        buttons = (Button(chat.t("btn_search_again"), payloads.SEARCH()), menu_button(chat))
        return [Reply(chat.t("search_none", query=shorten(shown, 40)), buttons)]
    buttons = [Button(priced_label(p.name, p.price), payloads.PRODUCT(p.id)) for p in found[:size]]
    if offset > 0:
        buttons.append(Button(chat.t("btn_previous"), payloads.SEARCH_PAGE(max(offset - size, 0))))
    if len(found) > size:
        buttons.append(Button(chat.t("btn_next"), payloads.SEARCH_PAGE(offset + size)))
    buttons += [Button(chat.t("btn_search_again"), payloads.SEARCH()), menu_button(chat)]
    return [Reply(chat.t("search_results", query=shorten(shown, 40)), tuple(buttons))]


async def search_page(chat: Chat, offset: int) -> list[Reply]:
    """Another page of the last search."""
    query = chat.state.data.get("query")
    if not query:
        return await ask_query(chat)
    return await search(chat, query, offset)
