"""How dates, labels and product lines look in chat, in the person's language."""

from __future__ import annotations

import functools
import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from handlers.money import format_rupiah
from handlers.phones import display_phone
from handlers.texts import text
from models.ordering import DELIVERY

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from models.broadcasts import SendTime

# Longer button labels are cut: chat clients show about this much on one line.
MAX_LABEL = 48


@functools.lru_cache(maxsize=64)
def long_date(day: date, language: str) -> str:
    """`Jumat, 27 November 2026` / `Friday, 27 November 2026`. Remembered: the catalog's
    heading names this Friday for nearly every message, and babel took a twentieth of one."""
    return format_date(day, "EEEE, d MMMM y", locale=_locale(language))


def _locale(language: str) -> str:
    return "id" if language == "id" else "en"


def local_time(moment: datetime, timezone: ZoneInfo, language: str) -> str:
    """`Jumat, 4 Desember 2026 07.00` / `Friday, 4 December 2026 07:00`, in local time."""
    pattern = "EEEE, d MMMM y HH.mm" if language == "id" else "EEEE, d MMMM y HH:mm"
    return format_datetime(moment.astimezone(timezone), pattern, locale=_locale(language))


def weekly_time(send_time: SendTime, language: str) -> str:
    """`Jumat 07.00` / `Friday 07:00`: when something happens every week."""
    # Any week will do for the weekday's name: 2026-01-05 is a Monday.
    day = date(2026, 1, 5) + timedelta(days=send_time.weekday)
    moment = datetime.combine(day, send_time.at)
    pattern = "EEEE HH.mm" if language == "id" else "EEEE HH:mm"
    return format_datetime(moment, pattern, locale=_locale(language))


def count_text(number: int | Decimal, language: str) -> str:
    """`280.000` / `280,000`; `0,3` / `0.3`."""
    return format_decimal(number, locale=_locale(language))


def duration_text(seconds: float, language: str) -> str:
    """`2 j 36 m`, `4 m 40 d`, `9 d` / `2 h 36 min`, `4 min 40 s`, `9 s`: to the minute from
    an hour, else to the second; rounded up."""
    whole = math.ceil(seconds)
    if whole >= 3600:
        minutes = math.ceil(whole / 60)
        return text(language, "dur_hours", hours=minutes // 60, minutes=minutes % 60)
    if whole >= 60:
        return text(language, "dur_minutes", minutes=whole // 60, seconds=whole % 60)
    return text(language, "dur_seconds", seconds=whole)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def priced_label(name: str, price: int, mark: str = "") -> str:
    """`Kopi Susu · Rp25.000`, after `mark` (e.g. `📍 `), the name cut to fit a label."""
    price_text = format_rupiah(price)
    return f"{mark}{shorten(name, MAX_LABEL - len(mark) - len(price_text) - 3)} · {price_text}"


def item_line(language: str, product: str, quantity: int, unit_price: int) -> str:
    """`• Kopi Susu — 2 × Rp70.000 = Rp140.000`: a line of a cart, order or notice."""
    return text(
        language,
        "cart_line",
        product=product,
        quantity=quantity,
        price=format_rupiah(unit_price),
        subtotal=format_rupiah(quantity * unit_price),
    )


def handover_lines(
    language: str, name: str, phone: str, delivery: str, address: str | None, payment: str
) -> list[str]:
    """Who receives the order, where, and how they pay."""
    return [
        text(language, "summary_contact", name=name, phone=display_phone(phone)),
        text(language, "summary_delivery", address=address)
        if delivery == DELIVERY
        else text(language, "summary_pickup"),
        text(language, f"summary_payment_{payment}"),
    ]
