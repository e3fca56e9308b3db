"""Subscribing to the Friday broadcast: /langganan, /berhenti, and the categories to hear."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.formatting import weekly_time
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from models.catalog import Category, categories_in_rotation
from models.errors import Refusal
from models.subscriptions import (
    EVERY_CATEGORY,
    Subscription,
    category_bit,
    subscribe,
    subscription_of,
    toggle_category,
    unsubscribe,
)

if TYPE_CHECKING:
    from handlers.context import Chat


def _chosen(chat: Chat, subscription: Subscription, categories: list[Category]) -> str:
    if subscription.categories == EVERY_CATEGORY:
        return chat.t("sub_every_category")
    names = [c.name(chat.language) for c in categories if subscription.categories & category_bit(c)]
    return ", ".join(names)


def _settings_buttons(chat: Chat) -> tuple[Button, ...]:
    return (
        Button(chat.t("btn_sub_categories"), payloads.SUBSCRIPTION_CATEGORIES()),
        Button(chat.t("btn_unsubscribe"), payloads.UNSUBSCRIBE()),
        menu_button(chat),
    )


async def start(chat: Chat) -> list[Reply]:
    """Subscribes to the Friday broadcast on this chat (or says it already is)."""
    chat.end_step()
    subscription, created = await subscribe(
        chat.session, chat.person.id, chat.incoming.identity, chat.now
    )
    chosen = _chosen(chat, subscription, await categories_in_rotation(chat.session))
    if created:
        when = weekly_time(chat.config.send_time, chat.language)
        said = chat.t("subscribed_new", when=when, categories=chosen)
    else:
        said = chat.t("subscribed_already", categories=chosen)
    return [Reply(said, _settings_buttons(chat))]


async def stop(chat: Chat) -> list[Reply]:
    """Stops the Friday broadcast for this person."""
    chat.end_step()
    if not await unsubscribe(chat.session, chat.person.id):
        buttons = (Button(chat.t("btn_subscribe"), payloads.SUBSCRIBE()), menu_button(chat))
        return [Reply(chat.t("not_subscribed"), buttons)]
    buttons = (Button(chat.t("btn_subscribe_again"), payloads.SUBSCRIBE()), menu_button(chat))
    return [Reply(chat.t("unsubscribed"), buttons)]


async def choose_categories(chat: Chat, category_id: int | None = None) -> list[Reply]:
    """The categories to hear about, each a switch; `category_id` flips one, 0 means all."""
    subscription = await subscription_of(chat.session, chat.person.id)
    if subscription is None:
        subscription, _ = await subscribe(
            chat.session, chat.person.id, chat.incoming.identity, chat.now
        )
    categories = await categories_in_rotation(chat.session)
    if category_id == 0:
        subscription.categories = EVERY_CATEGORY
    elif category_id is not None:
        category = next((c for c in categories if c.id == category_id), None)
        if category is None:
            raise Refusal("category_gone")
        toggle_category(subscription, category, len(categories))
    buttons = [
        Button(
            chat.t(
                "sub_on" if subscription.categories & category_bit(c) else "sub_off",
                name=c.name(chat.language),
            ),
            payloads.SUBSCRIPTION_CATEGORY(c.id),
        )
        for c in categories
    ]
    buttons += [
        Button(chat.t("btn_sub_all"), payloads.SUBSCRIPTION_CATEGORY(0)),
        Button(chat.t("btn_done"), payloads.SUBSCRIBE()),
    ]
    said = chat.t("sub_choose", categories=_chosen(chat, subscription, categories))
    return [Reply(said, tuple(buttons))]
