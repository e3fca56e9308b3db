"""Replies as Telegram messages: HTML-escaped text within Telegram's lengths, keyboards.

Keyboards are built with python-telegram-bot's markup classes and kept as the JSON that the
Bot API takes: the same menus come again and again, and serialising them was a fifth of the
cost of a send.
"""

from __future__ import annotations

import functools
import html
import json
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from handlers.messages import Attachment, Button, Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
ELLIPSIS = "…"
# A photo someone sent to the bot is stored by its Telegram file id, with this prefix.
PHOTO_PREFIX = "telegram:"


@dataclass(frozen=True)
class Keyboard:
    """A reply markup as the Bot API's `reply_markup` parameter (JSON)."""

    json: str
    # Inline buttons stay with their message; a reply keyboard (share contact) does not.
    inline: bool


@dataclass(frozen=True)
class Outgoing:
    """One message to send: `html` is ready for parse_mode HTML."""

    html: str
    photo: str | None = None
    keyboard: Keyboard | None = None
    # A generated file to upload; `html` is its caption, unless `text_first`: a text too long
    # for a caption goes as a message of its own before the file.
    attachment: Attachment | None = None
    text_first: bool = False

    @property
    def inline(self) -> bool:
        return self.keyboard is None or self.keyboard.inline


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
def inline_keyboard(buttons: tuple[Button, ...]) -> Keyboard | None:
    if not buttons:
        return None
    for button in buttons:
        if len(button.payload.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"payload over {CALLBACK_DATA_LIMIT} bytes: {button.payload!r}")
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(cut(b.label, 64), callback_data=b.payload)] for b in buttons]
    )
    return Keyboard(_json(markup), inline=True)


@functools.lru_cache(maxsize=256)
def contact_keyboard(label: str, buttons: tuple[Button, ...]) -> Keyboard:
    """Telegram's "share my number" button, and the reply's other choices as typed labels
    (the conversation maps a typed label back to its button)."""
    rows = [[KeyboardButton(label, request_contact=True)]]
    rows += [[KeyboardButton(b.label)] for b in buttons]
    markup = ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    return Keyboard(_json(markup), inline=False)


def _json(markup: InlineKeyboardMarkup | ReplyKeyboardMarkup) -> str:
    return json.dumps(markup.to_dict(), ensure_ascii=False, separators=(",", ":"))


def outgoing(reply: Reply) -> Outgoing:
    if reply.ask_phone:
        keyboard: Keyboard | None = contact_keyboard(reply.ask_phone, reply.buttons)
    else:
        keyboard = inline_keyboard(reply.buttons)
    if reply.attachment:
        if _units(reply.text) <= CAPTION_LIMIT:
            return Outgoing(escaped(reply.text, CAPTION_LIMIT), None, keyboard, reply.attachment)
        html = escaped(reply.text, TEXT_LIMIT)
        return Outgoing(html, None, keyboard, reply.attachment, text_first=True)
    if reply.photo_url:
        photo = reply.photo_url.removeprefix(PHOTO_PREFIX)
        return Outgoing(escaped(reply.text, CAPTION_LIMIT), photo, keyboard)
    return Outgoing(escaped(reply.text, TEXT_LIMIT), None, keyboard)


def as_text(message: Outgoing, reply: Reply, note: str | None = None) -> Outgoing:
    """The same message without its photo or file (it could not be sent), ending with `note`
    (what became of the file) if given."""
    if note is None:
        return Outgoing(escaped(reply.text, TEXT_LIMIT), None, message.keyboard)
    note = f"\n\n{note}"
    body = escaped(reply.text, TEXT_LIMIT - _units(note)) + html.escape(note, quote=False)
    return Outgoing(body, None, message.keyboard)
