"""The APScheduler of `jbl run`: which job runs when, in Jakarta time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler.jobs import refresh_ranking

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

RANKING_JOB = "refresh_ranking"


def build_scheduler(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    timezone: ZoneInfo,
) -> AsyncIOScheduler:
    """Not started: the caller starts it inside its running loop."""
    scheduler = AsyncIOScheduler(timezone=timezone)
    # Nightly, when nobody shops; a night missed while the bot was down is simply skipped,
    # as the next night's run covers it (the job recomputes from the orders).
    scheduler.add_job(
        refresh_ranking,
        CronTrigger(hour=2, minute=0, timezone=timezone),
        args=[sessions, clock],
        id=RANKING_JOB,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    return scheduler
