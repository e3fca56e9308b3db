"""What every report file says about itself: its period, its scope, and amounts in short."""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_decimal

from handlers.formatting import long_date
from handlers.texts import text

if TYPE_CHECKING:
    from models.results import Period, Scope


def _locale(language: str) -> str:
    return "id" if language == "id" else "en"


def period_heading(period: Period, language: str) -> str:
    """`Jumat, 27 November 2026`, or `30 Oktober 2026 s.d. 27 November 2026`."""
    if period.first == period.last:
        return text(language, "report_period_day", day=long_date(period.first, language))
    first, last = (
        format_date(day, "d MMMM y", locale=_locale(language))
        for day in (period.first, period.last)
    )
    return text(language, "report_period_range", first=first, last=last)


def scope_heading(scope: Scope, language: str) -> str:
    """`Seluruh Jakarta`, `Jakarta Selatan`, or `Kecamatan Tebet, Jakarta Selatan`."""
    if scope.kecamatan and scope.kota:
        return text(
            language, "report_scope_kecamatan_in", kecamatan=scope.kecamatan, kota=scope.kota
        )
    if scope.kecamatan:
        return text(language, "report_scope_kecamatan", kecamatan=scope.kecamatan)
    if scope.kota:
        return text(language, "report_scope_kota", kota=scope.kota)
    return text(language, "report_scope_all")


def compact_rupiah(amount: int, language: str) -> str:
    """`Rp105 jt` / `Rp105M`: an amount at a glance. "Rp" in every language, as
    `handlers.money.format_rupiah` writes it (Babel's English would say "IDR")."""
    sign = "-" if amount < 0 else ""
    number = format_compact_decimal(abs(amount), locale=_locale(language), fraction_digits=1)
    return f"{sign}Rp{number}"


def count(number: int, language: str) -> str:
    """`3.484` / `3,484`."""
    return format_decimal(number, locale=_locale(language))
