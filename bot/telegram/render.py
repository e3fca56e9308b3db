"""Replies as Telegram messages: HTML-escaped text within Telegram's lengths, keyboards."""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from handlers.messages import Button, Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
ELLIPSIS = "…"
# A photo someone sent to the bot is stored by its Telegram file id, with this prefix.
PHOTO_PREFIX = "telegram:"

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


@dataclass(frozen=True)
class Outgoing:
    """One message to send: `html` is ready for parse_mode HTML."""

    html: str
    photo: str | None = None
    markup: Markup | None = None

    @property
    def inline(self) -> bool:
        return self.markup is None or isinstance(self.markup, InlineKeyboardMarkup)


def cut(plain: str, limit: int) -> str:
    """At most `limit` characters as Telegram counts them (UTF-16 code units), ending in "…"
    when something was cut."""
    if _units(plain) <= limit:
        return plain
    kept, used = [], _units(ELLIPSIS)
    for char in plain:
        used += _units(char)
        if used > limit:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ELLIPSIS


def _units(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def escaped(plain: str, limit: int) -> str:
    # Cut before escaping: Telegram counts the visible text, and a cut must not split "&amp;".
    return html.escape(cut(plain, limit), quote=False)


@functools.lru_cache(maxsize=4096)
def inline_keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Cached: the same menus come again and again, and PTB's markup objects are immutable
    but not cheap to build."""
    if not buttons:
        return None
    for button in buttons:
        if len(button.payload.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"payload over {CALLBACK_DATA_LIMIT} bytes: {button.payload!r}")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(cut(b.label, 64), callback_data=b.payload)] for b in buttons]
    )


def contact_keyboard(label: str, buttons: tuple[Button, ...]) -> ReplyKeyboardMarkup:
    """Telegram's "share my number" button, and the reply's other choices as typed labels
    (the conversation maps a typed label back to its button)."""
    rows = [[KeyboardButton(label, request_contact=True)]]
    rows += [[KeyboardButton(b.label)] for b in buttons]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def outgoing(reply: Reply) -> Outgoing:
    if reply.ask_phone:
        markup: Markup | None = contact_keyboard(reply.ask_phone, reply.buttons)
    else:
        markup = inline_keyboard(reply.buttons)
    if reply.photo_url:
        photo = reply.photo_url.removeprefix(PHOTO_PREFIX)
        return Outgoing(escaped(reply.text, CAPTION_LIMIT), photo, markup)
    return Outgoing(escaped(reply.text, TEXT_LIMIT), None, markup)


def as_text(message: Outgoing, reply: Reply) -> Outgoing:
    """The same message without its photo (the photo could not be sent)."""
    return Outgoing(escaped(reply.text, TEXT_LIMIT), None, message.markup)
