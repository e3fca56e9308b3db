"""Staff's `/laporan`: what the program sold on a Friday or the last four, per kota or per
kecamatan of one kota, as a summary, a chart and a spreadsheet to forward; how each Friday's
broadcast led to orders; and the best sellers and products without a sale of last Friday's
category."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from handlers import payloads
from handlers.attachments import attach_to
from handlers.formatting import long_date
from handlers.menu import menu_button, unknown_command
from handlers.messages import DOCUMENT, PHOTO, Button, Reply
from handlers.money import format_rupiah
from handlers.reports.chart import chart_png
from handlers.reports.headings import (
    compact_rupiah,
    count,
    funnel_not_sent,
    funnel_unfinished,
    period_heading,
    scope_heading,
    share,
    short_date,
)
from handlers.reports.workbook import write_workbook
from handlers.texts import text
from models import results
from models.areas import kecamatan_by_kota
from models.friday import FRIDAY, edition_date, last_friday, this_weeks_categories
from models.people import is_staff
from models.results import Dimension, Funnel, Period, Report, Results, Scope

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.context import Chat
    from models.catalog import Category
    from models.files import FileStore
    from models.results import Figures

# The longest period the menu offers, in Fridays.
LAST_FRIDAYS = 4
# Best sellers shown, and products without a sale per page.
BEST_SELLERS = 10
UNSOLD_PAGE = 10
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
    category, _ = await this_weeks_categories(chat.session, last)
    buttons = (
        Button(chat.t("btn_rp_this", date=_short(this, chat)), payloads.REPORT_FRIDAYS(this, 1)),
        Button(chat.t("btn_rp_last", date=_short(last, chat)), payloads.REPORT_FRIDAYS(last, 1)),
        Button(
            chat.t("btn_rp_four", count=LAST_FRIDAYS),
            payloads.REPORT_FRIDAYS(last, LAST_FRIDAYS),
        ),
        Button(chat.t("btn_rp_best"), payloads.REPORT_BEST(last)),
        Button(chat.t("btn_rp_unsold"), payloads.REPORT_UNSOLD(last, 1)),
        menu_button(chat),
    )
    return [Reply(chat.t("rp_menu", category=category.name(chat.language)), buttons)]


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
    """The summary (with the broadcasts' funnel), the chart as a photo and the spreadsheet as a
    document."""
    figures, funnels, chart, sheet = await report_files(session, timezone, language, period, scope)
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
    told = [summary(figures, period, scope, language)]
    if funnels:
        told.append(funnel_text(funnels, language))
    told.append(text(language, "rp_sheet_note"))
    return [
        Reply("\n\n".join(told)),
        Reply(text(language, "rp_chart", heading=heading), attachment=photo),
        Reply(text(language, "rp_sheet", heading=heading), tuple(buttons), attachment=document),
    ]


async def report_files(
    session: AsyncSession, timezone: ZoneInfo, language: str, period: Period, scope: Scope
) -> tuple[Figures, list[Funnel], bytes, bytes]:
    """The chat report's total, the funnel of each Friday's broadcast (`results.funnels`),
    chart (PNG) and spreadsheet (XLSX). The spreadsheet holds the summary, kota and
    kecamatan: per merchant and product it would be too long for a chat, and `jbl report`
    writes those."""
    by = Dimension.KOTA if scope.kota is None else Dimension.KECAMATAN
    read = await results.summary(session, period, scope, timezone)
    read.funnels = funnels = await results.funnels(session, period, scope, timezone)
    figures = read.total
    charted = Results(
        period, scope, by, figures, read.kota if by == Dimension.KOTA else read.kecamatan
    )
    report = Report(period, scope, lambda: read)
    chart = await asyncio.to_thread(chart_png, charted, language)
    sheet = io.BytesIO()
    await asyncio.to_thread(write_workbook, sheet, report, language)
    return figures, funnels, chart, sheet.getvalue()


def funnel_text(funnels: Sequence[Funnel], language: str) -> str:
    """One Friday's broadcast in a few lines; several, a line each."""
    if len(funnels) == 1:
        (funnel,) = funnels
        not_sent = funnel_not_sent(funnel, language)
        if not_sent is not None:
            return text(language, "rp_funnel_not_sent", status=not_sent)
        return text(language, "rp_funnel", **_funnel_values(funnel, language))
    lines = [text(language, "rp_funnels")]
    for funnel in funnels:
        day = short_date(funnel.friday, language)
        not_sent = funnel_not_sent(funnel, language)
        if not_sent is not None:
            lines.append(text(language, "rp_funnel_line_not_sent", day=day, status=not_sent))
        else:
            lines.append(
                text(language, "rp_funnel_line", day=day, **_funnel_values(funnel, language))
            )
    return "\n".join(lines)


def _funnel_values(funnel: Funnel, language: str) -> dict[str, str]:
    recipients = funnel.recipients
    unfinished = funnel_unfinished(funnel, language)
    return {
        "recipients": count(recipients, language),
        "delivered": count(funnel.delivered, language),
        "delivered_share": share(funnel.delivered, recipients, language),
        "read": count(funnel.read, language),
        "pressed": count(funnel.pressed, language),
        "pressed_share": share(funnel.pressed, recipients, language),
        "ordered": count(funnel.ordered, language),
        "ordered_share": share(funnel.ordered, recipients, language),
        "unfinished": f" ({unfinished})" if unfinished else "",
    }


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


# ---- what sells in last Friday's category, and what does not ----------------------------


async def best(chat: Chat, last: date | None) -> list[Reply]:
    """🏆: the products of `last` Friday's category that sold most over its last editions."""
    category = await _category_listed(chat, last)
    if isinstance(category, list):
        return category
    assert last is not None
    name = category.name(chat.language)
    editions = chat.config.report_editions
    buttons = (
        Button(chat.t("btn_rp_unsold"), payloads.REPORT_UNSOLD(last, 1)),
        Button(chat.t("btn_rp_other"), payloads.REPORT()),
        menu_button(chat),
    )
    days = await results.editions_featuring(chat.session, category.id, editions, last)
    found = await results.best_sellers(
        chat.session, category.id, editions, last, chat.config.timezone, BEST_SELLERS
    )
    lines = [
        chat.t(
            "rp_best_line",
            rank=rank,
            product=row.key,
            merchant=row.parent,
            units=count(row.figures.units, chat.language),
            omzet=format_rupiah(row.figures.omzet),
        )
        for rank, row in enumerate(found, start=1)
    ]
    told = chat.t(
        "rp_best",
        category=name,
        editions=_editions(days, chat),
        lines="\n".join(lines) or chat.t("rp_best_empty"),
    )
    return [Reply(told, buttons)]


async def unsold(chat: Chat, last: date | None, page: int) -> list[Reply]:
    """📉: the products of `last` Friday's category that sold nothing on its last editions,
    a page at a time; a page beyond the last shows the last."""
    category = await _category_listed(chat, last)
    if isinstance(category, list):
        return category
    assert last is not None
    name = category.name(chat.language)
    editions = chat.config.report_editions
    timezone = chat.config.timezone
    others = (
        Button(chat.t("btn_rp_best"), payloads.REPORT_BEST(last)),
        Button(chat.t("btn_rp_other"), payloads.REPORT()),
        menu_button(chat),
    )
    shown = _editions(
        await results.editions_featuring(chat.session, category.id, editions, last), chat
    )
    total = await results.count_unsold(chat.session, category.id, editions, last, timezone)
    if not total:
        return [Reply(chat.t("rp_unsold_empty", category=name, editions=shown), others)]
    pages = -(-total // UNSOLD_PAGE)
    page = min(max(page, 1), pages)
    first = (page - 1) * UNSOLD_PAGE
    found = await results.unsold_products(
        chat.session, category.id, editions, last, timezone, UNSOLD_PAGE, first
    )
    lines = [
        chat.t("rp_unsold_line", number=number, product=row.key, merchant=row.parent)
        for number, row in enumerate(found, start=first + 1)
    ]
    paging = []
    if page > 1:
        paging.append(Button(chat.t("btn_previous"), payloads.REPORT_UNSOLD(last, page - 1)))
    if page < pages:
        paging.append(Button(chat.t("btn_next"), payloads.REPORT_UNSOLD(last, page + 1)))
    told = chat.t(
        "rp_unsold",
        category=name,
        editions=shown,
        total=count(total, chat.language),
        page=page,
        pages=pages,
        lines="\n".join(lines),
    )
    return [Reply(told, (*paging, *others))]


async def _category_listed(chat: Chat, last: date | None) -> Category | list[Reply]:
    """The category of `last` Friday for a staff member's list, or what is answered instead:
    the unknown command to anyone else, the menu for a forged or future date."""
    if not await is_staff(chat.session, chat.person.id):
        return await unknown_command(chat, "laporan")
    chat.end_step()
    if not _listable(last, chat):
        return await menu(chat)
    assert last is not None
    category, _ = await this_weeks_categories(chat.session, last)
    return category


def _listable(last: date | None, chat: Chat) -> bool:
    """A Friday up to this week's: a forged date, or a Friday still to come, lists nothing."""
    return last is not None and last.weekday() == FRIDAY and last <= edition_date(chat.today)


def _editions(days: list[date], chat: Chat) -> str:
    """The editions a list spans, oldest first."""
    shown = ", ".join(short_date(day, chat.language) for day in reversed(days))
    return chat.t("rp_editions", count=len(days), days=shown)
