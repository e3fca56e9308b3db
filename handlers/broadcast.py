"""The Friday broadcast: what subscribers read, and /siaran and /jadwal for staff."""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from handlers import catalog, payloads
from handlers.attachments import attach
from handlers.formatting import count_text, duration_text, local_time, long_date
from handlers.menu import menu_button, unknown_command
from handlers.messages import DOCUMENT, Button, Reply
from handlers.money import format_rupiah
from handlers.reports.cells import csv_cell
from handlers.texts import text
from models import broadcasts
from models.broadcasts import Broadcast, Content
from models.friday import edition_date
from models.outbox import notify_person
from models.people import is_staff
from models.staff import record
from models.subscriptions import audience

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from handlers.context import Chat
    from models.receipts import Progress

CALENDAR_WEEKS = 8
# What a staff button on one Friday's broadcast does, given that Friday.
StaffAction = Callable[["Chat", date], Awaitable[list[Reply]]]
# What a staff button that changes the broadcast does to it.
Change = Callable[["Chat", Broadcast], Awaitable[None]]
_TIME = re.compile(r"^\s*(?:(\d{4})-(\d{2})-(\d{2})\s+)?(\d{1,2})[:.](\d{2})\s*$")


def broadcast_reply(language: str, content: Content) -> Reply:
    """The broadcast as a subscriber gets it, in their language."""
    category = content.category.name(language)
    lines = [
        text(language, "broadcast_heading", date=long_date(content.friday, language)),
        content.headline or text(language, "broadcast_default_headline", category=category),
    ]
    if content.products:
        lines += ["", text(language, "broadcast_products")]
        lines += [
            text(language, "broadcast_product_line", name=p.name, price=format_rupiah(p.price))
            for p in content.products
        ]
    lines += ["", text(language, "broadcast_footer")]
    opens = (
        payloads.CATEGORY(content.category.id)
        if content.broadcast_id is None
        else payloads.BROADCAST_CATALOG(content.category.id, content.broadcast_id)
    )
    button = Button(text(language, "btn_open_featured", category=category), opens)
    return Reply("\n".join(lines), (button,))


async def open_catalog(chat: Chat, category_id: int, broadcast_id: int) -> list[Reply]:
    """The broadcast's button: the featured category, and the press counted for its funnel."""
    await broadcasts.record_press(chat.session, broadcast_id, chat.person.id, chat.now)
    return await catalog.category_page(chat, category_id)


# ---- staff -------------------------------------------------------------------------------


async def _staff(chat: Chat) -> bool:
    return await is_staff(chat.session, chat.person.id)


async def _record(chat: Chat, action: str, broadcast: Broadcast | None, **detail: object) -> None:
    await record(
        chat.session,
        chat.incoming.identity,
        action,
        chat.now,
        person_id=chat.person.id,
        broadcast_id=broadcast.id if broadcast else None,
        **detail,
    )


async def menu(chat: Chat, notice: str | None = None) -> list[Reply]:
    """The next broadcast: its preview, or its progress, with what staff can do now."""
    if not await _staff(chat):
        return await unknown_command(chat, "siaran")
    chat.end_step()
    friday = edition_date(chat.today)
    broadcast = await broadcasts.broadcast_for(chat.session, friday)
    content = await broadcasts.content_for(chat.session, broadcast, friday)
    lines = [notice] if notice else []
    lines.append(
        chat.t(
            "bc_title",
            date=long_date(friday, chat.language),
            category=content.category.name(chat.language),
        )
    )
    buttons: list[Button] = []
    if broadcast is None or broadcast.status == broadcasts.SCHEDULED:
        recipients, unreachable = await audience(chat.session, content.category)
        send_at = broadcast.send_at if broadcast else chat.config.send_time.of(friday)
        when = local_time(send_at, chat.config.timezone, chat.language)
        lines.append(
            chat.t(
                "bc_scheduled",
                when=when,
                recipients=count_text(recipients - unreachable, chat.language),
                unreachable=count_text(unreachable, chat.language),
            )
        )
        estimate = await broadcasts.estimate(chat.session, content.category, chat.config.rates)
        lines += estimate_lines(chat.language, estimate)
        buttons += [
            Button(chat.t("btn_bc_test"), payloads.BROADCAST_TEST(friday)),
            Button(chat.t("btn_bc_now"), payloads.BROADCAST_SEND(friday)),
            Button(chat.t("btn_bc_time"), payloads.BROADCAST_TIME(friday)),
        ]
        if estimate.stars is not None:
            paid = broadcast is not None and broadcast.paid
            stars = count_text(estimate.stars, chat.language)
            lines.append(chat.t("bc_mode_paid", stars=stars) if paid else chat.t("bc_mode_free"))
            buttons.append(
                Button(chat.t("btn_bc_free"), payloads.BROADCAST_FREE(friday))
                if paid
                else Button(chat.t("btn_bc_paid"), payloads.BROADCAST_PAID(friday))
            )
        buttons.append(Button(chat.t("btn_bc_cancel"), payloads.BROADCAST_CANCEL(friday)))
    else:
        lines.append(await _progress(chat, broadcast))
        if broadcast.status == broadcasts.RUNNING:
            buttons.append(Button(chat.t("btn_bc_pause"), payloads.BROADCAST_PAUSE(friday)))
        if broadcast.status == broadcasts.HALTED:
            buttons.append(Button(chat.t("btn_bc_resume"), payloads.BROADCAST_RESUME(friday)))
        if broadcast.status in (broadcasts.RUNNING, broadcasts.HALTED):
            buttons.append(Button(chat.t("btn_bc_cancel"), payloads.BROADCAST_CANCEL(friday)))
    lines += ["", chat.t("bc_preview"), "", broadcast_reply(chat.language, content).text]
    buttons += [Button(chat.t("btn_bc_refresh"), payloads.BROADCAST()), menu_button(chat)]
    return [Reply("\n".join(lines), tuple(buttons))]


async def _progress(chat: Chat, broadcast: Broadcast) -> str:
    done = await broadcasts.progress(chat.session, broadcast, chat.now)
    return "\n".join(progress_text(chat.language, chat.config.timezone, broadcast, done))


def progress_text(
    language: str, timezone: ZoneInfo, broadcast: Broadcast, done: broadcasts.Progress
) -> list[str]:
    """A started broadcast's state, rate, finish, counts and paid sends, for staff."""
    rate = text(language, "bc_rate", rate=f"{done.rate:.1f}") if done.rate else None
    eta = local_time(done.eta, timezone, language) if done.eta else None
    lines = [
        text(
            language,
            "bc_progress",
            status=text(language, f"bc_status_{broadcast.status}"),
            skipped=broadcast.skipped,
            rate=rate or text(language, "bc_unknown"),
            eta=eta or text(language, "bc_unknown"),
        ),
        *progress_lines(language, done.counts),
    ]
    if broadcast.paid:
        lines += paid_lines(language, broadcast, timezone)
    return lines


def estimate_lines(language: str, estimate: broadcasts.Estimate) -> list[str]:
    """How long the broadcast takes on each channel, and what the paid one costs."""
    free = duration_text(estimate.free_seconds, language)
    if estimate.paid_seconds is not None and estimate.stars is not None:
        telegram = text(
            language,
            "bc_estimate_paid",
            recipients=count_text(estimate.telegram, language),
            free=free,
            paid=duration_text(estimate.paid_seconds, language),
            stars=count_text(estimate.stars, language),
        )
    else:
        telegram = text(
            language,
            "bc_estimate_free",
            recipients=count_text(estimate.telegram, language),
            free=free,
        )
    whatsapp = text(
        language,
        "bc_estimate_whatsapp",
        recipients=count_text(estimate.whatsapp, language),
        duration=duration_text(estimate.whatsapp_seconds, language),
    )
    return [telegram, whatsapp]


def paid_lines(language: str, broadcast: Broadcast, timezone: ZoneInfo) -> list[str]:
    """A paid broadcast's paid sends so far and the Stars they cost; when Telegram refused."""
    stars = broadcast.paid_sends * broadcasts.STARS_PER_PAID_SEND
    lines = [
        text(
            language,
            "bc_paid_progress",
            sent=count_text(broadcast.paid_sends, language),
            stars=count_text(stars, language),
        )
    ]
    if broadcast.paid_refused_at is not None:
        when = local_time(broadcast.paid_refused_at, timezone, language)
        lines.append(text(language, "bc_paid_refused", when=when))
    return lines


def _on_this_friday(action: StaffAction) -> Callable[[Chat, date | None], Awaitable[list[Reply]]]:
    """A staff button on the broadcast of the Friday its payload names: anyone else is told the
    command is unknown, and a button of another Friday shows this week's broadcast instead."""

    @functools.wraps(action)
    async def on_friday(chat: Chat, friday: date | None) -> list[Reply]:
        if not await _staff(chat):
            return await unknown_command(chat, "siaran")
        if friday != edition_date(chat.today):
            return await menu(chat, chat.t("bc_stale"))
        return await action(chat, friday)

    return on_friday


@_on_this_friday
async def send_test(chat: Chat, friday: date) -> list[Reply]:
    """Sends the broadcast to the staff member alone, as subscribers will read it."""
    broadcast = await broadcasts.broadcast_for(chat.session, friday)
    await notify_person(
        chat.session,
        chat.person.id,
        broadcasts.TEST_KIND,
        {"friday": friday.isoformat()},
        chat.now,
    )
    await _record(chat, "broadcast_test", broadcast, friday=friday.isoformat())
    replies = await menu(chat)
    return [Reply(replies[0].text, replies[0].buttons, toast=chat.t("bc_test_sent"))]


def _confirm(chat: Chat, said: str, yes: str, payload: str) -> list[Reply]:
    """A question before a staff action: its yes button, and back to the broadcast."""
    buttons = (Button(chat.t(yes), payload), Button(chat.t("btn_back"), payloads.BROADCAST()))
    return [Reply(said, buttons)]


@_on_this_friday
async def ask_send_now(chat: Chat, friday: date) -> list[Reply]:
    """Asks before sending now, telling how many will get it, and how long it takes."""
    broadcast = await broadcasts.broadcast_for(chat.session, friday)
    content = await broadcasts.content_for(chat.session, broadcast, friday)
    recipients, unreachable = await audience(chat.session, content.category)
    estimate = await broadcasts.estimate(chat.session, content.category, chat.config.rates)
    lines = [
        chat.t(
            "bc_confirm_now",
            date=long_date(friday, chat.language),
            recipients=count_text(recipients - unreachable, chat.language),
        ),
        *estimate_lines(chat.language, estimate),
    ]
    if broadcast is not None and broadcast.paid and estimate.stars is not None:
        lines.append(chat.t("bc_confirm_now_paid", stars=count_text(estimate.stars, chat.language)))
    return _confirm(chat, "\n".join(lines), "btn_bc_yes_send", payloads.BROADCAST_SEND_YES(friday))


@_on_this_friday
async def ask_paid(chat: Chat, friday: date) -> list[Reply]:
    """Asks before the Friday's broadcast goes as Telegram's paid broadcast: how much faster,
    and what it costs."""
    rates = chat.config.rates
    if rates.paid is None:
        return await menu(chat, chat.t("bc_paid_off"))
    broadcast = await broadcasts.broadcast_for(chat.session, friday)
    content = await broadcasts.content_for(chat.session, broadcast, friday)
    estimate = await broadcasts.estimate(chat.session, content.category, rates)
    assert estimate.paid_seconds is not None and estimate.stars is not None
    said = chat.t(
        "bc_confirm_paid",
        date=long_date(friday, chat.language),
        recipients=count_text(estimate.telegram, chat.language),
        paid=duration_text(estimate.paid_seconds, chat.language),
        free=duration_text(estimate.free_seconds, chat.language),
        stars=count_text(estimate.stars, chat.language),
    )
    return _confirm(chat, said, "btn_bc_yes_paid", payloads.BROADCAST_PAID_YES(friday))


@_on_this_friday
async def ask_cancel(chat: Chat, friday: date) -> list[Reply]:
    """Asks before cancelling the Friday's broadcast."""
    said = chat.t("bc_confirm_cancel", date=long_date(friday, chat.language))
    return _confirm(chat, said, "btn_yes_cancel", payloads.BROADCAST_CANCEL_YES(friday))


@_on_this_friday
async def ask_time(chat: Chat, friday: date) -> list[Reply]:
    """Asks for the new time of the Friday's broadcast (see `typed_time`)."""
    chat.begin_step("bc_time", friday=friday.isoformat())
    broadcast = await broadcasts.broadcast_for(chat.session, friday)
    send_at = broadcast.send_at if broadcast else chat.config.send_time.of(friday)
    when = local_time(send_at, chat.config.timezone, chat.language)
    said = chat.t("bc_ask_time", date=long_date(friday, chat.language), when=when)
    return [Reply(said, (Button(chat.t("btn_back"), payloads.BROADCAST()),))]


def _changing(change: Change) -> Callable[[Chat, date | None], Awaitable[list[Reply]]]:
    """A staff button that changes this Friday's broadcast (planned for its usual time if it
    was not yet), then shows it."""

    @_on_this_friday
    @functools.wraps(change)
    async def changed(chat: Chat, friday: date) -> list[Reply]:
        planned = await broadcasts.broadcast_for(chat.session, friday) or await broadcasts.plan(
            chat.session, friday, chat.config.send_time.of(friday), chat.now
        )
        await change(chat, planned)
        return await menu(chat)

    return changed


@_changing
async def send_now(chat: Chat, broadcast: Broadcast) -> None:
    """Starts sending the Friday's broadcast now."""
    paid_allowed = chat.config.rates.paid is not None
    count = await broadcasts.start(chat.session, broadcast, chat.now, paid_allowed)
    await _record(chat, "broadcast_start", broadcast, recipients=count, paid=broadcast.paid)


def _choosing(paid: bool) -> Callable[[Chat, date | None], Awaitable[list[Reply]]]:
    """A staff button that chooses how this Friday's broadcast goes on Telegram (before it
    starts), then shows it with what was chosen."""

    @_on_this_friday
    async def chosen(chat: Chat, friday: date) -> list[Reply]:
        if paid and chat.config.rates.paid is None:
            return await menu(chat, chat.t("bc_paid_off"))
        broadcast = await broadcasts.broadcast_for(chat.session, friday) or await broadcasts.plan(
            chat.session, friday, chat.config.send_time.of(friday), chat.now
        )
        if broadcast.status != broadcasts.SCHEDULED:
            return await menu(chat, chat.t("bc_stale"))
        await broadcasts.choose_paid(chat.session, broadcast, paid, chat.person.id)
        await _record(chat, "broadcast_paid" if paid else "broadcast_free", broadcast)
        return await menu(chat, chat.t("bc_chose_paid" if paid else "bc_chose_free"))

    return chosen


choose_paid = _choosing(paid=True)
choose_free = _choosing(paid=False)


@_changing
async def cancel(chat: Chat, broadcast: Broadcast) -> None:
    """Cancels the Friday's broadcast, or what is left of it."""
    await broadcasts.cancel(chat.session, broadcast, chat.now)
    await _record(chat, "broadcast_cancel", broadcast)


@_changing
async def pause(chat: Chat, broadcast: Broadcast) -> None:
    """Pauses a running broadcast."""
    await broadcasts.pause(chat.session, broadcast)
    await _record(chat, "broadcast_pause", broadcast)


@_changing
async def resume(chat: Chat, broadcast: Broadcast) -> None:
    """Resumes a paused broadcast."""
    await broadcasts.resume(chat.session, broadcast, chat.now)
    await _record(chat, "broadcast_resume", broadcast)


def parse_send_time(typed: str, friday: date, timezone: ZoneInfo) -> datetime | None:
    """`09:30` on the Friday, or `2026-12-03 19:00`; local time."""
    match = _TIME.match(typed)
    if match is None:
        return None
    year, month, day, hour, minute = match.groups()
    try:
        on = date(int(year), int(month), int(day)) if year else friday
        at = time(int(hour), int(minute))
    except ValueError:
        return None
    return datetime.combine(on, at, tzinfo=timezone)


async def typed_time(chat: Chat, typed: str) -> list[Reply]:
    """The new time of the Friday's broadcast, typed by staff."""
    if not await _staff(chat):
        chat.end_step()
        return await unknown_command(chat, "siaran")
    friday = date.fromisoformat(chat.state.data["friday"])
    send_at = parse_send_time(typed, friday, chat.config.timezone)
    end_of_friday = datetime.combine(
        friday + timedelta(days=1), time(0), tzinfo=chat.config.timezone
    )
    if (
        send_at is None
        or not chat.now < send_at < end_of_friday
        or friday != edition_date(chat.today)
    ):
        date_text = long_date(friday, chat.language)
        back = Button(chat.t("btn_back"), payloads.BROADCAST())
        return [Reply(chat.t("bc_time_bad", date=date_text), (back,))]
    broadcast = await broadcasts.broadcast_for(chat.session, friday) or await broadcasts.plan(
        chat.session, friday, send_at, chat.now
    )
    await broadcasts.reschedule(chat.session, broadcast, send_at)
    await _record(chat, "broadcast_reschedule", broadcast, send_at=send_at.isoformat())
    return await menu(chat)


async def calendar(chat: Chat) -> list[Reply]:
    """The next Fridays: featured category, headline and broadcast state."""
    if not await _staff(chat):
        return await unknown_command(chat, "jadwal")
    chat.end_step()
    lines = [chat.t("cal_heading")]
    for friday, category, headline, status in await broadcasts.calendar(
        chat.session, edition_date(chat.today), CALENDAR_WEEKS
    ):
        lines.append(
            chat.t(
                "cal_line",
                date=long_date(friday, chat.language),
                category=category.name(chat.language),
            )
        )
        if headline:
            lines.append(chat.t("cal_headline", headline=headline))
        if status:
            lines.append(chat.t("cal_broadcast", status=chat.t(f"bc_status_{status}")))
    refresh = Button(chat.t("btn_bc_refresh"), payloads.BROADCAST())
    as_file = Button(chat.t("btn_cal_file"), payloads.CALENDAR_FILE())
    return [Reply("\n".join(lines), (refresh, as_file, menu_button(chat)))]


async def calendar_file(chat: Chat) -> list[Reply]:
    """The next Fridays as a CSV file, to open in a spreadsheet or forward to colleagues."""
    if not await _staff(chat):
        return await unknown_command(chat, "jadwal")
    planned = await broadcasts.calendar(chat.session, edition_date(chat.today), CALENDAR_WEEKS)
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\r\n")
    rows.writerow(chat.t("cal_file_columns").split(","))
    for friday, category, headline, status in planned:
        state = chat.t(f"bc_status_{status}") if status else ""
        rows.writerow([friday.isoformat(), category.name(chat.language), csv_cell(headline), state])
    first, last = planned[0][0].isoformat(), planned[-1][0].isoformat()
    # With a byte order mark, so that Excel reads the UTF-8 (emoji, accents) as such.
    content = out.getvalue().encode("utf-8-sig")
    name = chat.t("cal_file_name", first=first)
    attachment = await attach(chat, DOCUMENT, name, "text/csv", content)
    buttons = (Button(chat.t("btn_bc_refresh"), payloads.BROADCAST()), menu_button(chat))
    return [Reply(chat.t("cal_file", first=first, last=last), buttons, attachment=attachment)]


def progress_lines(language: str, progress: Progress) -> list[str]:
    """How far a set of messages has got, for staff: sent, delivered and read; then what is
    still waiting, what needs an approved template and what failed, each only when there is
    some."""
    lines = [
        text(
            language,
            "progress_delivery",
            sent=progress.sent,
            total=progress.total,
            delivered=progress.delivered,
            read=progress.read,
        )
    ]
    if progress.waiting:
        lines.append(text(language, "progress_waiting", count=progress.waiting))
    if progress.needs_template:
        lines.append(text(language, "progress_needs_template", count=progress.needs_template))
    if progress.cancelled:
        lines.append(text(language, "progress_cancelled", count=progress.cancelled))
    if progress.failed or progress.unreachable:
        lines.append(
            text(
                language,
                "progress_failed",
                failed=progress.failed,
                unreachable=progress.unreachable,
            )
        )
    return lines
