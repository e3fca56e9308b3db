"""How dates, labels and product lines look in chat, in the person's language."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from handlers.money import format_rupiah

# Longer button labels are cut: chat clients show about this much on one line.
MAX_LABEL = 48


def long_date(day: date, language: str) -> str:
    """`Jumat, 27 November 2026` / `Friday, 27 November 2026`."""
    return format_date(day, "EEEE, d MMMM y", locale="id" if language == "id" else "en")


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def priced_label(name: str, price: int) -> str:
    price_text = format_rupiah(price)
    return f"{shorten(name, MAX_LABEL - len(price_text) - 3)} · {price_text}"
