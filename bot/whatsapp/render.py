"""Replies as WhatsApp messages: plain text in WhatsApp's own formatting, the buttons as a
numbered menu, at most Twilio's 1,600 characters a message, a product's photo as media."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.attachments import size_text
from handlers.messages import PHOTO, Reply
from handlers.texts import text

# Twilio's limit for a message body, and WhatsApp's for a media caption. Counted in UTF-16
# code units (an emoji counts two), the stricter of the ways to count characters.
BODY_LIMIT = 1600
CAPTION_LIMIT = 1024
# A template variable's text: WhatsApp allows 1,024 characters for the template and its
# variables together, and no line breaks, tabs or runs of more than four spaces in a variable.
TEMPLATE_TEXT_LIMIT = 900
ELLIPSIS = "…"
# WhatsApp formats *bold*, _italic_, ~strike~ and `code` when the marker touches the text; a
# zero-width space after each marker typed by someone keeps it a plain character.
ZERO_WIDTH_SPACE = "\u200b"
_MARKER = re.compile(r"([*_~`])")
# A photo a person sent on WhatsApp is stored as this prefix and Twilio's media URL.
PHOTO_PREFIX = "whatsapp:"
# The files WhatsApp shows as a picture in the chat; anything else goes as a link.
MEDIA_TYPES = frozenset({"image/png", "image/jpeg"})
# Where a long message is best cut, best first.
_BREAKS = ("\n\n", "\n", " ")


@dataclass(frozen=True)
class Part:
    """One message to create: its body and, for the first part of a photo card, the photo."""

    body: str
    media_url: str | None = None


def escape(plain: str) -> str:
    """Text as it was typed (product names, descriptions, people's names): never formatted."""
    return _MARKER.sub(rf"\1{ZERO_WIDTH_SPACE}", plain)


def units(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def media_url(photo: str | None) -> str | None:
    """The public address WhatsApp can fetch a photo from, if it has one: an https:// URL or a
    photo sent on WhatsApp. A Telegram file id is of no use here."""
    if photo is None:
        return None
    if photo.startswith(PHOTO_PREFIX):
        photo = photo.removeprefix(PHOTO_PREFIX)
    return photo if photo.startswith("https://") else None


def as_media(reply: Reply) -> bool:
    """Whether the reply's file goes as the message's media (else as a link in its text)."""
    attachment = reply.attachment
    return (
        attachment is not None and attachment.kind == PHOTO and attachment.media_type in MEDIA_TYPES
    )


def file_line(reply: Reply, language: str, file_url: str) -> str:
    attachment = reply.attachment
    assert attachment is not None
    # The URL is not escaped: a zero-width space in it would break the link.
    name, size = escape(attachment.name), size_text(attachment.size)
    return text(language, "file_link", name=name, size=size, url=file_url)


def body_of(reply: Reply, language: str, file_url: str | None = None) -> str:
    """The reply's text with its first line in bold when it is a heading, a link to its file
    unless that goes as media, then its buttons as `1. label` lines and a hint in italics
    that a number or label chooses."""
    body = _with_heading(escape(reply.text))
    if file_url is not None and reply.attachment is not None and not as_media(reply):
        body = f"{body}\n\n{file_line(reply, language, file_url)}"
    if reply.buttons:
        menu = "\n".join(f"{n}. {escape(b.label)}" for n, b in enumerate(reply.buttons, start=1))
        body = f"{body}\n\n{menu}\n\n_{text(language, 'menu_hint')}_"
    return body


def parts(reply: Reply, language: str, file_url: str | None = None) -> list[Part]:
    """The messages that show the reply, in order: split where a paragraph, then a line, then
    a word ends, so that each fits; the photo (or the reply's picture, fetched from
    `file_url`) goes with the first."""
    photo = file_url if file_url is not None and as_media(reply) else media_url(reply.photo_url)
    body = body_of(reply, language, file_url)
    chunks = split(body, CAPTION_LIMIT if photo else BODY_LIMIT, BODY_LIMIT)
    return [Part(chunk, photo if index == 0 else None) for index, chunk in enumerate(chunks)]


def split(body: str, first_limit: int, limit: int) -> list[str]:
    chunks: list[str] = []
    rest, room = body, first_limit
    while units(rest) > room:
        cut = _cut(rest, room)
        chunks.append(rest[:cut].rstrip())
        rest, room = rest[cut:].lstrip(), limit
    chunks.append(rest)
    return chunks


def _cut(body: str, room: int) -> int:
    """Where to end a chunk of at most `room` units: after the last good break in it."""
    fits, used = 0, 0
    for char in body:
        used += units(char)
        if used > room:
            break
        fits += 1
    window = body[:fits]
    for mark in _BREAKS:
        at = window.rfind(mark)
        if at > fits // 3:
            return at + len(mark)
    # One long word: cut it, but never between a typed marker and the space that escapes it.
    while fits > 1 and _MARKER.fullmatch(body[fits - 1]):
        fits -= 1
    return fits


def _with_heading(body: str) -> str:
    first, newline, rest = body.partition("\n")
    heading = first.strip()
    if not newline or not heading or ZERO_WIDTH_SPACE in heading or len(heading) > 100:
        return body
    return f"*{heading}*{newline}{rest}"


def one_line(reply: Reply, language: str = "id", file_url: str | None = None) -> str:
    """The reply as one line for a template variable: its lines joined with " · ", a link to
    its file (a template carries no media), its menu after a dash, cut to fit."""
    lines = [" ".join(line.split()) for line in escape(reply.text).splitlines()]
    if file_url is not None and reply.attachment is not None:
        lines += [
            " ".join(line.split()) for line in file_line(reply, language, file_url).splitlines()
        ]
    said = " · ".join(line for line in lines if line)
    if reply.buttons:
        menu = " · ".join(
            f"{n}. {' '.join(escape(b.label).split())}"
            for n, b in enumerate(reply.buttons, start=1)
        )
        said = f"{said} — {menu}"
    if units(said) > TEMPLATE_TEXT_LIMIT:
        said = said[: _cut(said, TEMPLATE_TEXT_LIMIT - units(ELLIPSIS))].rstrip() + ELLIPSIS
    return said or "-"
