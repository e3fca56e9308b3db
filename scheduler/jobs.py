"""The jobs the scheduler runs, each a plain coroutine over the session factory and a clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.notices import queue_replies
from handlers.results import report_replies
from models import broadcasts
from models.chats import prune_processed
from models.demotion import Judged, demote_unsold
from models.files import DatabaseFiles
from models.friday import edition_date, last_friday
from models.links import prune_link_attempts, prune_link_codes
from models.media import prune_media_links
from models.ordering import expire_waiting, remind_waiting
from models.outbox import prune_outbox
from models.paying import expire_unpaid, remind_unpaid
from models.people import preferred_identity
from models.ranking import refresh_recent_sales
from models.results import Period, Scope, keep_funnels
from models.staff import claim_report, staff_members
from models.turns import take_turn
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from models.broadcasts import SendTime
    from models.files import FileStore

# Rows deleted per transaction by the nightly prunes.
PRUNE_BATCH = 50_000


async def refresh_ranking(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    files: FileStore | None = None,
) -> None:
    """Nightly: products whose sales are older than four weeks sink in the catalog; message
    ids old enough never to come again are forgotten, and so are outbox rows that ended a
    month ago, files whose links have expired, expired links to photos (not the photos), and
    link codes and wrong tries of no more use."""
    async with UnitOfWork(sessions) as uow:
        if not await take_turn(uow.session, "refresh_ranking"):
            return  # another process runs this turn, prunes included
        await refresh_recent_sales(uow.session, clock())
        # Before the prune below deletes the rows the funnels are counted from.
        await keep_funnels(uow.session, clock())
        await uow.commit()
    store = files or DatabaseFiles()
    prunes = (
        prune_processed,
        prune_outbox,
        store.prune,
        prune_media_links,
        prune_link_codes,
        prune_link_attempts,
    )
    for prune in prunes:
        pruned = PRUNE_BATCH
        while pruned == PRUNE_BATCH:
            # A batch per transaction, so chats and the sender are never held up for long.
            async with UnitOfWork(sessions) as uow:
                if not await take_turn(uow.session, f"prune {prune.__qualname__}"):
                    break  # another process prunes these now
                pruned = await prune(uow.session, clock(), PRUNE_BATCH)
                await uow.commit()


async def demote_unsold_products(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    editions: int,
    timezone: ZoneInfo,
) -> Judged | None:
    """Nightly, acting once per Friday: the category last Friday featured demotes what did not
    sell over its last `editions` editions. The Friday is claimed in the transaction that
    demotes, so firing twice, late, or in two processes demotes once; None when it was done
    already, or `editions` is 0."""
    if editions < 1:
        return None
    now = clock()
    friday = last_friday(now.astimezone(timezone).date())
    async with UnitOfWork(sessions) as uow:
        if not await take_turn(uow.session, "demote_unsold"):
            return None
        judged = await demote_unsold(uow.session, friday, editions, timezone, now)
        await uow.commit()
    return judged


async def sweep_orders(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    remind_after: timedelta,
    expire_after: timedelta,
) -> tuple[list[int], list[int]]:
    """Every minute: reminds merchants of orders waiting too long, expires the abandoned."""
    async with UnitOfWork(sessions) as uow:
        if not await take_turn(uow.session, "sweep_orders"):
            return [], []
        now = clock()
        reminded = await remind_waiting(uow.session, now, remind_after)
        expired = await expire_waiting(uow.session, now, expire_after)
        await uow.commit()
    return reminded, expired


async def sweep_payments(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    pay_within: timedelta,
) -> tuple[list[int], list[int]]:
    """Every minute: reminds buyers of accepted transfer/QRIS orders unpaid for half of
    `pay_within`, once, and expires those unpaid for all of it, returning their stock."""
    async with UnitOfWork(sessions) as uow:
        if not await take_turn(uow.session, "sweep_payments"):
            return [], []
        now = clock()
        reminded = await remind_unpaid(uow.session, now, pay_within / 2)
        expired = await expire_unpaid(uow.session, now, pay_within)
        await uow.commit()
    return reminded, expired


async def friday_broadcast(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    send_time: SendTime,
    paid_allowed: bool = False,
) -> list[int]:
    """At the broadcast's time: plans this Friday's broadcast unless it exists (staff may
    have moved or cancelled it) and starts whatever is due, paid on Telegram if staff chose
    it for that Friday and the deployment allows it. Firing again does nothing new."""
    async with UnitOfWork(sessions) as uow:
        if not await take_turn(uow.session, "friday_broadcast"):
            return []
        now = clock()
        friday = edition_date(now.astimezone(send_time.timezone).date())
        await broadcasts.plan(uow.session, friday, send_time.of(friday), now)
        started = await broadcasts.start_due(uow.session, now, paid_allowed)
        await uow.commit()
    return started


async def sweep_broadcasts(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    paid_allowed: bool = False,
) -> list[int]:
    """Every minute: starts broadcasts staff moved to a time that has come, and marks those
    with nothing left to send as done."""
    async with UnitOfWork(sessions) as uow:
        if not await take_turn(uow.session, "sweep_broadcasts"):
            return []
        now = clock()
        started = await broadcasts.start_due(uow.session, now, paid_allowed)
        await broadcasts.finish_sent(uow.session, now)
        await uow.commit()
    return started


async def weekly_report(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    files: FileStore,
    timezone: ZoneInfo,
) -> list[int]:
    """Saturday morning: each staff member gets last Friday's report in chat (summary, chart,
    spreadsheet), queued in the transaction that claims it, so it goes once however often or
    late this fires. Returns whom it was queued for now."""
    now = clock()
    friday = last_friday(now.astimezone(timezone).date())
    async with UnitOfWork(sessions) as uow:
        staff = await staff_members(uow.session)
    queued = []
    for person_id, language in staff:
        async with UnitOfWork(sessions) as uow:
            if not await take_turn(uow.session, f"weekly_report {person_id}"):
                continue  # another process is queuing this one's report now
            identity = await preferred_identity(uow.session, person_id)
            if identity is None or not await claim_report(uow.session, person_id, friday, now):
                continue
            replies = await report_replies(
                uow.session, files, now, timezone, language, Period.friday(friday), Scope()
            )
            await queue_replies(uow.session, person_id, identity, replies, now)
            await uow.commit()
        queued.append(person_id)
    return queued
