"""Every text shown to people, one module per language; `text()` picks and fills one."""

from __future__ import annotations

from typing import Any

from handlers.texts import en, id

LANGUAGES = {"id": id.TEXTS, "en": en.TEXTS}
DEFAULT_LANGUAGE = "id"


def text(language: str, key: str, **params: Any) -> str:
    texts = LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])
    return texts[key].format(**params)


def language_of(hint: str | None, default: str) -> str:
    """A supported language from a platform's hint (`en-US`, `id`), else the default."""
    code = (hint or "").split("-")[0].lower()
    return code if code in LANGUAGES else default
