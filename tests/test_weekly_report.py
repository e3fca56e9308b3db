"""The Saturday report: scheduled when `[reports]` says, across restarts; each staff member of
the day gets it once, whoever was removed or added that week, however the job fired: again,
after a failure half-way, or in two processes at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.bootstrap import App, build_app
from bot.cli.staff import add_staff, remove_staff
from bot.settings import (
    DatabaseSettings,
    HttpSettings,
    ReportSettings,
    Settings,
    TelegramSettings,
)
from models.outbox import OutboxMessage
from models.staff import ReportDelivery
from models.uow import UnitOfWork
from scheduler.setup import JOBS_TABLE, REPORT_JOB
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.telegram_bot import TOKEN, free_port, running_app
from tests.test_laporan import fire_report_job
from tests.test_results import friday  # noqa: F401 - the fixture

# The report's three replies: the summary, the chart and the spreadsheet.
REPLIES = 3
WEEK = timedelta(days=7)


async def scheduled_report(
    database_url: str, clock: Clock, tg: FakeTelegram, **reports: object
) -> datetime:
    """When `jbl run`, started with these `[reports]` settings, has the report's next turn."""
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        http=HttpSettings(port=free_port()),
        telegram=TelegramSettings(token=TOKEN, api_base_url=tg.base_url),
        reports=ReportSettings(**reports),
    )
    async with running_app(settings, clock) as running, running.app.sessions() as session:
        next_run = await session.scalar(
            text(f"SELECT next_run_time FROM {JOBS_TABLE} WHERE id = :id"), {"id": REPORT_JOB}
        )
    assert next_run is not None
    return datetime.fromtimestamp(float(next_run), UTC)


async def test_jbl_run_schedules_the_report_when_reports_says_and_a_restart_takes_a_change(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    jakarta = Settings().timezone
    default = (await scheduled_report(database_url, clock, tg)).astimezone(jakarta)
    assert (default.weekday(), default.time()) == (5, time(7, 0))
    # Restarted with another day and time: the stored job takes them.
    changed = await scheduled_report(database_url, clock, tg, weekday=2, time="09:30")
    changed = changed.astimezone(jakarta)
    assert (changed.weekday(), changed.time()) == (2, time(9, 30))
    # Both are the next such moment on the machine's clock, which APScheduler keeps.
    now = datetime.now(UTC)
    assert now < default <= now + WEEK and now < changed <= now + WEEK


async def queued_reports(app: App) -> dict[str, int]:
    """The report's reply rows queued, by identity."""
    async with app.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.identity, func.count())
            .where(OutboxMessage.kind == "reply")
            .group_by(OutboxMessage.identity)
        )
        return {identity: count for identity, count in rows}


async def test_who_is_staff_on_saturday_gets_it_and_who_was_removed_does_not(
    friday: App,  # noqa: F811 - the fixture
) -> None:
    for name in ("ana", "eko"):
        await add_staff(friday, f"console:{name}")
    ana, eko, sari = (Chatter(friday, f"console:{name}") for name in ("ana", "eko", "sari"))
    # In the week: Eko leaves, Sari joins.
    await remove_staff(friday, "console:eko")
    await add_staff(friday, "console:sari")

    queued = await fire_report_job(friday)

    assert sorted(queued) == sorted([(await ana.person()).id, (await sari.person()).id])
    assert len(await ana.read_notices()) == len(await sari.read_notices()) == REPLIES
    assert await eko.read_notices() == []
    # Eko's return later that Saturday is no reason to send the others theirs again.
    await add_staff(friday, "console:eko")
    assert await fire_report_job(friday) == [(await eko.person()).id]
    assert len(await eko.read_notices()) == REPLIES
    assert await ana.read_notices() == [] and await sari.read_notices() == []


@contextlib.asynccontextmanager
async def files_unwritable(app: App) -> AsyncIterator[None]:
    """The table the report's files go to is gone (renamed) until the block ends."""
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(text("ALTER TABLE files RENAME TO files_away"))
        await uow.commit()
    try:
        yield
    finally:
        async with UnitOfWork(app.sessions) as uow:
            await uow.session.execute(text("ALTER TABLE files_away RENAME TO files"))
            await uow.commit()


async def test_a_job_that_failed_half_way_is_done_whole_when_it_fires_again(
    friday: App,  # noqa: F811 - the fixture
) -> None:
    for name in ("ana", "eko"):
        await add_staff(friday, f"console:{name}")
    async with files_unwritable(friday):
        with pytest.raises(Exception, match="files"):
            await fire_report_job(friday)
    # Nothing of it stayed: no report counted as sent, no reply queued.
    async with friday.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReportDelivery)) == 0
    assert await queued_reports(friday) == {}

    # Started again (jbl restarted, or the next turn within the grace time): everyone's, once.
    assert len(await fire_report_job(friday)) == 2
    assert await fire_report_job(friday) == []
    assert await queued_reports(friday) == {"console:ana": REPLIES, "console:eko": REPLIES}


async def test_two_processes_firing_at_once_queue_each_report_once(
    friday: App,  # noqa: F811 - the fixture
    clock: Clock,
) -> None:
    names = ("ana", "eko", "sari", "dewi")
    for name in names:
        await add_staff(friday, f"console:{name}")
    other = build_app(friday.settings, clock)
    try:
        fired = await asyncio.gather(fire_report_job(friday), fire_report_job(other))
    finally:
        await other.close()
    assert sorted(fired[0] + fired[1]) == sorted(
        [(await Chatter(friday, f"console:{name}").person()).id for name in names]
    )
    assert await queued_reports(friday) == {f"console:{name}": REPLIES for name in names}
