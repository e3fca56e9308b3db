"""`jbl staff …`, `jbl friday …` and `jbl broadcast status`: the program's staff at work."""

from __future__ import annotations

import getpass
import re
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from handlers.formatting import local_time
from handlers.phones import normalize_phone
from models import broadcasts
from models.catalog import Category
from models.friday import edition_date, set_edition
from models.staff import grant_staff, record, revoke_staff
from models.subscriptions import audience
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App

_TELEGRAM = re.compile(r"telegram:\d{1,20}")
_CONSOLE = re.compile(r"console:[\w.-]{1,40}")
CALENDAR_WEEKS = 8


def identity_of(typed: str) -> str:
    """`telegram:12345`, `console:name` or `whatsapp:+62…` (any way a number is written)."""
    typed = typed.strip()
    if typed.startswith("whatsapp:"):
        phone = normalize_phone(typed.removeprefix("whatsapp:"))
        if phone is None:
            raise ValueError(f"{typed}: not a valid Indonesian WhatsApp number")
        return f"whatsapp:{phone}"
    if _TELEGRAM.fullmatch(typed) or _CONSOLE.fullmatch(typed):
        return typed
    raise ValueError(f"{typed}: write telegram:<user id>, whatsapp:+62… or console:<name>")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


async def add_staff(app: App, typed: str) -> str:
    identity = identity_of(typed)
    async with UnitOfWork(app.sessions) as uow:
        added = await grant_staff(uow.session, identity, app.clock())
        if added:
            await record(uow.session, _actor(), "staff_add", app.clock(), identity=identity)
        await uow.commit()
    return f"{identity} is staff now" if added else f"{identity} was staff already"


async def remove_staff(app: App, typed: str) -> str:
    identity = identity_of(typed)
    async with UnitOfWork(app.sessions) as uow:
        removed = await revoke_staff(uow.session, identity)
        if not removed:
            raise LookupError(f"{identity} is not staff")
        await record(uow.session, _actor(), "staff_remove", app.clock(), identity=identity)
        await uow.commit()
    return f"{identity} is no longer staff"


def _today(app: App) -> date:
    return app.clock().astimezone(app.settings.timezone).date()


async def print_plan(app: App) -> None:
    """`date<TAB>category<TAB>headline<TAB>broadcast` for the next Fridays."""
    async with UnitOfWork(app.sessions) as uow:
        fridays = await broadcasts.calendar(uow.session, edition_date(_today(app)), CALENDAR_WEEKS)
    for friday, category, headline, status in fridays:
        print(f"{friday.isoformat()}\t{category.slug}\t{headline or '-'}\t{status or '-'}")


async def set_friday(app: App, day: str, category_name: str, headline: str | None) -> str:
    try:
        friday = date.fromisoformat(day)
    except ValueError as error:
        raise ValueError(f"{day}: write the date as YYYY-MM-DD") from error
    if friday.weekday() != 4:
        raise ValueError(f"{day} is not a Friday")
    if friday < edition_date(_today(app)):
        raise ValueError(f"{day} has passed")
    if headline is not None and not 1 <= len(headline.strip()) <= 300:
        raise ValueError("the headline takes 1 to 300 characters")
    async with UnitOfWork(app.sessions) as uow:
        category = await uow.session.scalar(
            select(Category).where(
                or_(Category.slug == category_name, Category.id == _number(category_name))
            )
        )
        if category is None:
            slugs = ", ".join(await uow.session.scalars(select(Category.slug)))
            raise ValueError(f"{category_name}: no such category (one of {slugs})")
        started = await broadcasts.broadcast_for(uow.session, friday)
        if started is not None and started.status != broadcasts.SCHEDULED:
            raise ValueError(f"the broadcast of {day} is {started.status} already")
        await set_edition(uow.session, friday, category, headline and headline.strip())
        await record(
            uow.session,
            _actor(),
            "friday_set",
            app.clock(),
            friday=day,
            category=category.slug,
            headline=headline,
        )
        await uow.commit()
    return f"{day}: {category.slug}" + (f" — {headline.strip()}" if headline else "")


def _number(value: str) -> int:
    return int(value) if value.isdigit() else -1


async def broadcast_status(app: App) -> str:
    """The next broadcast's state as `/siaran` shows it, in lines for the terminal."""
    now = app.clock()
    friday = edition_date(_today(app))
    zone = app.settings.timezone
    async with UnitOfWork(app.sessions) as uow:
        broadcast = await broadcasts.broadcast_for(uow.session, friday)
        content = await broadcasts.content_for(uow.session, broadcast, friday)
        lines = [f"friday: {friday.isoformat()} ({content.category.slug})"]
        if broadcast is None or broadcast.status == broadcasts.SCHEDULED:
            send_at = (
                broadcast.send_at if broadcast else app.conversation.config.send_time.of(friday)
            )
            total, unreachable = await audience(uow.session, content.category)
            lines += [
                "status: scheduled",
                f"sends at: {local_time(send_at, zone, 'en')}",
                f"recipients: {total - unreachable} ({unreachable} unreachable, skipped)",
            ]
            return "\n".join(lines)
        done = await broadcasts.progress(uow.session, broadcast, now)
    rate = f"{done.rate:.1f}/s" if done.rate else "-"
    eta = local_time(done.eta, zone, "en") if done.eta else "-"
    counts = done.counts
    lines += [
        f"status: {broadcast.status}",
        f"sent: {counts.sent} of {counts.total}",
        f"delivered: {counts.delivered}",
        f"read: {counts.read}",
        f"left: {counts.waiting}",
        f"needs a WhatsApp template: {counts.needs_template}",
        f"failed: {counts.failed}",
        f"unreachable: {counts.unreachable}",
        f"cancelled: {counts.cancelled}",
        f"skipped at start (unreachable): {broadcast.skipped}",
        f"rate: {rate}",
        f"estimated finish: {eta}",
    ]
    return "\n".join(lines)
