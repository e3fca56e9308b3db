"""Buyers rate their completed orders: stars, then an optional comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.texts import text
from models.ratings import MAX_COMMENT, comment_on, rate_order

if TYPE_CHECKING:
    from handlers.context import Chat
    from models.catalog import Merchant


def star_buttons(language: str, order_id: int) -> tuple[Button, ...]:
    return tuple(
        Button(text(language, "btn_stars", stars="⭐" * n), payloads.RATE(order_id, n))
        for n in range(1, 6)
    )


def rating_line(language: str, merchant: Merchant) -> str | None:
    """`⭐ 4,6 / 5 (12 ulasan)` for a product card; nothing before the first rating."""
    if not merchant.rating_count:
        return None
    average = f"{merchant.rating_sum / merchant.rating_count:.1f}"
    if language == "id":
        average = average.replace(".", ",")
    return text(language, "rating_line", average=average, count=merchant.rating_count)


async def rate(chat: Chat, order_id: int, stars: int) -> list[Reply]:
    await rate_order(chat.session, chat.person.id, order_id, stars, chat.now)
    chat.begin_step("rating_comment", order=order_id)
    return [Reply(chat.t("rating_thanks", stars="⭐" * stars), (menu_button(chat),))]


async def typed_comment(chat: Chat, typed: str) -> list[Reply]:
    comment = " ".join(typed.split())
    if len(comment) > MAX_COMMENT:
        return [Reply(chat.t("rating_comment_length", high=MAX_COMMENT), (menu_button(chat),))]
    chat.end_step()
    await comment_on(chat.session, chat.person.id, int(chat.state.data.get("order", 0)), comment)
    return [Reply(chat.t("rating_comment_saved"), (menu_button(chat),))]
