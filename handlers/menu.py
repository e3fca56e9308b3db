"""Greeting, main menu, help and language choice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.messages import Button, Reply
from handlers.texts import LANGUAGES

if TYPE_CHECKING:
    from handlers.context import Chat


def main_menu_buttons(chat: Chat) -> tuple[Button, ...]:
    return (
        Button(chat.t("btn_catalog"), payloads.CATALOG()),
        Button(chat.t("btn_search"), payloads.SEARCH()),
        Button(chat.t("btn_nearby"), payloads.NEARBY()),
        Button(chat.t("btn_cart"), payloads.CART()),
        Button(chat.t("btn_orders"), payloads.ORDERS()),
        Button(chat.t("btn_subscribe"), payloads.SUBSCRIBE()),
        Button(chat.t("btn_help"), payloads.HELP()),
    )


def menu_button(chat: Chat) -> Button:
    return Button(chat.t("btn_menu"), payloads.MENU())


async def start(chat: Chat) -> list[Reply]:
    """Greets the person and shows the main menu."""
    chat.end_step()
    return [Reply(chat.t("welcome"), main_menu_buttons(chat))]


async def main_menu(chat: Chat) -> list[Reply]:
    """Shows the main menu and leaves any step."""
    chat.end_step()
    return [Reply(chat.t("main_menu"), main_menu_buttons(chat))]


async def help_text(chat: Chat) -> list[Reply]:
    """Explains the commands."""
    buttons = (Button(chat.t("btn_language"), payloads.LANGUAGE_MENU()), *main_menu_buttons(chat))
    return [Reply(chat.t("help"), buttons)]


async def choose_language(chat: Chat) -> list[Reply]:
    """Offers the languages."""
    buttons = tuple(
        Button(chat.t(f"language_name_{code}"), payloads.LANGUAGE(code)) for code in LANGUAGES
    )
    return [Reply(chat.t("choose_language"), buttons)]


async def set_language(chat: Chat, code: str) -> list[Reply]:
    """Switches the person's language and greets in it."""
    chat.person.language = code
    return [Reply(chat.t("language_set"), main_menu_buttons(chat))]


async def not_understood(chat: Chat) -> list[Reply]:
    return [Reply(chat.t("not_understood"), main_menu_buttons(chat))]


async def stale_button(chat: Chat) -> list[Reply]:
    chat.end_step()
    return [Reply(chat.t("stale_button"), main_menu_buttons(chat))]


async def unknown_command(chat: Chat, command: str) -> list[Reply]:
    return [Reply(chat.t("unknown_command", command=command[:32]), main_menu_buttons(chat))]
