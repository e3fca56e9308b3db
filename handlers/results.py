"""Staff's `/laporan`: what the program sold on a Friday or the last four, per kota or per
kecamatan of one kota, as a summary, a chart and a spreadsheet to forward."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime
from typing import TYPE_CHECKING

from handlers import payloads
from handlers.attachments import attach_to
from handlers.formatting import long_date
from handlers.menu import menu_button, unknown_command
from handlers.messages import DOCUMENT, PHOTO, Button, Reply
from handlers.money import format_rupiah
from handlers.reports.chart import chart_png
from handlers.reports.headings import compact_rupiah, count, period_heading, scope_heading
from handlers.reports.workbook import write_workbook
from handlers.texts import text
from models import results
from models.areas import kecamatan_by_kota
from models.friday import FRIDAY, edition_date, last_friday
from models.results import Dimension, Period, Report, Results, Scope
from models.staff import is_staff

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.context import Chat
    from models.files import FileStore
    from models.results import Figures

# The longest period the menu offers, in Fridays.
LAST_FRIDAYS = 4
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def kota_names() -> list[str]:
    """Jakarta's kota in a fixed order: a drill-down button carries a kota's place in it, as
    their names are longer than a button's payload may be."""
    return sorted(kecamatan_by_kota())


async def menu(chat: Chat) -> list[Reply]:
    """`/laporan`: which Fridays to report on."""
    if not await is_staff(chat.session, chat.person.id):
        return await unknown_command(chat, "laporan")
    chat.end_step()
    this, last = edition_date(chat.today), last_friday(chat.today)
    buttons = (
        Button(chat.t("btn_rp_this", date=_short(this, chat)), payloads.REPORT_FRIDAYS(this, 1)),
        Button(chat.t("btn_rp_last", date=_short(last, chat)), payloads.REPORT_FRIDAYS(last, 1)),
        Button(
            chat.t("btn_rp_four", count=LAST_FRIDAYS),
            payloads.REPORT_FRIDAYS(last, LAST_FRIDAYS),
        ),
        menu_button(chat),
    )
    return [Reply(chat.t("rp_menu"), buttons)]


async def fridays(chat: Chat, last: date | None, number: int) -> list[Reply]:
    """The report of `number` Fridays up to `last`, all of Jakarta, per kota."""
    return await _sent(chat, last, number, None)


async def kota(chat: Chat, last: date | None, number: int, kota_index: int) -> list[Reply]:
    """The report of one kota, per kecamatan."""
    names = kota_names()
    if not 0 <= kota_index < len(names):
        return await menu(chat)
    return await _sent(chat, last, number, names[kota_index])


async def _sent(chat: Chat, last: date | None, number: int, kota_name: str | None) -> list[Reply]:
    if not await is_staff(chat.session, chat.person.id):
        return await unknown_command(chat, "laporan")
    chat.end_step()
    if last is None or last.weekday() != FRIDAY or number not in (1, LAST_FRIDAYS):
        return await menu(chat)
    period = Period.fridays(last, number)
    scope = Scope(kota_name)
    return await report_replies(
        chat.session, chat.files, chat.now, chat.config.timezone, chat.language, period, scope
    )


async def report_replies(
    session: AsyncSession,
    files: FileStore,
    now: datetime,
    timezone: ZoneInfo,
    language: str,
    period: Period,
    scope: Scope,
) -> list[Reply]:
    """The summary, the chart as a photo and the spreadsheet as a document."""
    figures, chart, sheet = await report_files(session, timezone, language, period, scope)
    name = _file_name(period, scope)
    photo = await attach_to(session, files, now, PHOTO, f"{name}.png", "image/png", chart)
    document = await attach_to(session, files, now, DOCUMENT, f"{name}.xlsx", XLSX, sheet)
    heading = f"{period_heading(period, language)} · {scope_heading(scope, language)}"
    # Per kota, a button into each kota's kecamatan; then another report, or the menu.
    buttons = [
        Button(name, payloads.REPORT_KOTA(period.last, _fridays(period), index))
        for index, name in enumerate(kota_names())
        if scope.kota is None
    ]
    buttons += [
        Button(text(language, "btn_rp_other"), payloads.REPORT()),
        Button(text(language, "btn_menu"), payloads.MENU()),
    ]
    return [
        Reply(summary(figures, period, scope, language)),
        Reply(text(language, "rp_chart", heading=heading), attachment=photo),
        Reply(text(language, "rp_sheet", heading=heading), tuple(buttons), attachment=document),
    ]


async def report_files(
    session: AsyncSession, timezone: ZoneInfo, language: str, period: Period, scope: Scope
) -> tuple[Figures, bytes, bytes]:
    """The chat report's total, chart (PNG) and spreadsheet (XLSX). The spreadsheet holds the
    summary, kota and kecamatan: per merchant and product it would be too long for a chat, and
    `jbl report` writes those."""
    by = Dimension.KOTA if scope.kota is None else Dimension.KECAMATAN
    read = await results.summary(session, period, scope, timezone)
    figures, per_kota, per_kecamatan = read.total, read.kota, read.kecamatan
    charted = Results(
        period, scope, by, figures, per_kota if by == Dimension.KOTA else per_kecamatan
    )
    report = Report(period, scope, figures, per_kota, per_kecamatan, (), ())
    chart = await asyncio.to_thread(chart_png, charted, language)
    sheet = io.BytesIO()
    await asyncio.to_thread(write_workbook, sheet, report, language)
    return figures, chart, sheet.getvalue()


def _fridays(period: Period) -> int:
    return (period.last - period.first).days // 7 + 1


def summary(figures: Figures, period: Period, scope: Scope, language: str) -> str:
    """The figures in a few lines."""
    return text(
        language,
        "rp_summary",
        period=period_heading(period, language),
        scope=scope_heading(scope, language),
        units=count(figures.units, language),
        omzet=format_rupiah(figures.omzet),
        compact=compact_rupiah(figures.omzet, language),
        placed=count(figures.placed, language),
        sold=count(figures.sold, language),
        completed=count(figures.completed, language),
        lost=count(figures.lost, language),
        buyers=count(figures.buyers, language),
        new=count(figures.new_buyers, language),
        returning=count(figures.returning_buyers, language),
        average=format_rupiah(figures.average_order_value),
        merchants=count(figures.merchants_with_sale, language),
    )


def _file_name(period: Period, scope: Scope) -> str:
    days = f"{period.first}" if period.first == period.last else f"{period.first}_{period.last}"
    area = f"-{scope.kota.lower().replace(' ', '-')}" if scope.kota else ""
    return f"jbl-{days}{area}"


def _short(day: date, chat: Chat) -> str:
    return long_date(day, chat.language)
