"""What every report file says about itself: its period, its scope, and amounts in short."""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_decimal, format_percent

from handlers.formatting import long_date
from handlers.texts import text
from models.broadcasts import HALTED, RUNNING, SCHEDULED, STOPPED

if TYPE_CHECKING:
    from datetime import date

    from models.results import Funnel, Period, Scope

# What a broadcast still going, or stopped part way, adds to its figures.
_UNFINISHED = {RUNNING: "funnel_sending", HALTED: "funnel_paused", STOPPED: "funnel_cancelled"}


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


def short_date(day: date, language: str) -> str:
    """`4 Sep 2026` / `4 Sep 2026`: a day in a list of them."""
    return format_date(day, "d MMM y", locale=_locale(language))


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


def share(part: int, whole: int, language: str) -> str:
    """`67%`: a part of the broadcast's recipients; "-" when it had none."""
    if whole <= 0:
        return "-"
    return format_percent(part / whole, locale=_locale(language))


def funnel_not_sent(funnel: Funnel, language: str) -> str | None:
    """What a Friday's broadcast was when it never went out (none, not yet, or cancelled
    before its time), so that its zeros are not read as a result; None when it went out."""
    if funnel.started:
        return None
    if funnel.status is None:
        return text(language, "funnel_none")
    if funnel.status == SCHEDULED:
        return text(language, "funnel_scheduled")
    return text(language, "funnel_cancelled_unsent")


def funnel_unfinished(funnel: Funnel, language: str) -> str | None:
    """ "still sending", "paused" or "stopped part way" for a broadcast whose figures are not
    final or not whole; None for one that went out and finished."""
    key = _UNFINISHED.get(funnel.status or "") if funnel.started else None
    return text(language, key) if key else None
