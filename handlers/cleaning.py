"""Text from outside made fit to read, compare and store: what every channel's message goes
through once, at the conversation's entry, before any field's own check."""

from __future__ import annotations

import re
import unicodedata

# Line breaks of other systems and other vertical spaces: a line or a word still ends there.
_NEWLINES = re.compile("\r\n?|[\x85\u2028\u2029]")
_SPACES = re.compile("[\x0b\x0c\x1c-\x1f]")
# Invisible characters with no place in a name, an address or a search: control characters
# (NUL breaks PostgreSQL text) but tab and newline, lone surrogates (not UTF-8), the bidi
# embeddings, overrides, isolates and marks that reorder what is shown, zero-width spaces, soft
# hyphens, word joiners, invisible operators, byte order marks and tag characters. The first
# alternative keeps the one use of tag characters, a subdivision flag (England's).
_FLAG = "\U0001f3f4"
_INVISIBLE = re.compile(
    f"{_FLAG}[\U000e0020-\U000e007e]+\U000e007f"
    "|[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\u00ad\u061c\u180e\u200b"
    "\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
# Zero-width (non-)joiners join emoji (a family) and Indic and Persian letters, so one between two
# visible characters stays; any other is invisible noise.
_STRAY_JOINER = re.compile(
    r"(?<![^\s\u200c\u200d])[\u200c\u200d]|[\u200c\u200d](?![^\s\u200c\u200d])"
)


def clean_text(text: str) -> str:
    """`text` with line breaks as newlines, invisible characters dropped (`_INVISIBLE`, stray
    joiners) and Unicode in composed form (NFC), so what is stored is what is shown."""
    if text.isprintable() and text.isascii():
        return text
    text = _SPACES.sub(" ", _NEWLINES.sub("\n", text))
    text = _INVISIBLE.sub(lambda found: found[0] if found[0][0] == _FLAG else "", text)
    return unicodedata.normalize("NFC", _STRAY_JOINER.sub("", text))
