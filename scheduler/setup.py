"""The APScheduler of `jbl run`: its jobs, in Jakarta time.

Each job is a sweep over rows that carry their own state (orders with `created_at` and
`reminded_at`, products with their sales), so a job that fires twice, late, or in two
processes at once does each thing once: the rows, not the scheduler, remember what was done.

The daily and weekly jobs are kept in the app's database, so that one missed while jbl was
down still runs when it starts. The sweeps every minute are kept in memory: a missed turn is
the next one, and the store writes each job's next run from the event loop, synchronously: on
SQLite, while a message's transaction held the file lock, that write held the loop for up to
its one-second timeout, every minute, every message in flight with it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, ProgrammingError

from models.files import DatabaseFiles
from scheduler.jobs import (
    demote_unsold_products,
    friday_broadcast,
    refresh_ranking,
    sweep_broadcasts,
    sweep_orders,
    sweep_payments,
    weekly_report,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from apscheduler.job import Job
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from models.broadcasts import SendTime
    from models.files import FileStore

RANKING_JOB = "refresh_ranking"
ORDERS_JOB = "sweep_orders"
FRIDAY_JOB = "friday_broadcast"
BROADCASTS_JOB = "sweep_broadcasts"
REPORT_JOB = "weekly_report"
# A broadcast missed while jbl was down still goes out that day, late rather than never.
FRIDAY_GRACE_SECONDS = 18 * 3600
JOBS_TABLE = "apscheduler_jobs"
STORED = "default"
IN_MEMORY = "memory"
SWEEPS = (ORDERS_JOB, BROADCASTS_JOB)


@dataclass(frozen=True)
class JobContext:
    """What the jobs run with, built by `jbl run` and held by the scheduler's executor."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    remind_after: timedelta
    expire_after: timedelta
    send_time: SendTime
    # How long an accepted transfer/QRIS order may wait for its payment (`[orders]`).
    pay_within: timedelta = timedelta(hours=24)
    # Where the files replies carried are kept; the nightly job prunes the expired ones.
    files: FileStore = field(default_factory=DatabaseFiles)
    # When staff get last Friday's report (`[reports]`), in the broadcast's time zone.
    report_weekday: int = 5
    report_at: time = time(7, 0)
    # Over how many of its category's editions a product without a sale is demoted; 0: never.
    demote_after_fridays: int = 2
    # Whether a broadcast staff chose paid goes as Telegram's paid broadcast (`[telegram]`).
    paid_broadcast: bool = False


# Stored jobs are pickled, and the context cannot be (it holds the session factory): a job
# is given this in its place, and the executor runs it with the context it was built with.
CONTEXT = "the running jbl's JobContext"


class ContextExecutor(AsyncIOExecutor):
    """Runs each job on the event loop, with this executor's context in place of `CONTEXT`."""

    def __init__(self, context: JobContext) -> None:
        super().__init__()
        self.context = context

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        super()._do_submit_job(_WithContext(job, self.context), run_times)


class _WithContext:
    """A job as its executor runs it: its arguments with the context in place of `CONTEXT`.

    The job itself is left as it is, to be stored again with its next run time.
    """

    def __init__(self, job: Job, context: JobContext) -> None:
        self._job = job
        self.args = tuple(context if arg == CONTEXT else arg for arg in job.args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


async def ranking_job(context: JobContext) -> None:
    await refresh_ranking(context.sessions, context.clock, context.files)
    # Nightly, but once per Friday: a night missed is made up by the next.
    await demote_unsold_products(
        context.sessions,
        context.clock,
        context.demote_after_fridays,
        context.send_time.timezone,
    )


async def orders_job(context: JobContext) -> None:
    await sweep_orders(context.sessions, context.clock, context.remind_after, context.expire_after)
    await sweep_payments(context.sessions, context.clock, context.pay_within)


async def friday_job(context: JobContext) -> None:
    await friday_broadcast(
        context.sessions, context.clock, context.send_time, context.paid_broadcast
    )


async def report_job(context: JobContext) -> None:
    await weekly_report(context.sessions, context.clock, context.files, context.send_time.timezone)


async def broadcasts_job(context: JobContext) -> None:
    await sweep_broadcasts(context.sessions, context.clock, context.paid_broadcast)


class _Scheduler(AsyncIOScheduler):
    """APScheduler's, but a process starting leaves a stored job alone when it stores the same
    schedule: every `jbl run` adds the stored jobs at start, and replacing them reset their
    next run to the next turn from now, so a turn due while the processes were down, or due
    right as one more started beside the others, was lost."""

    def _real_add_job(self, job: Job, jobstore_alias: str, replace_existing: bool) -> None:
        if replace_existing and jobstore_alias == STORED:
            defaults = {k: v for k, v in self._job_defaults.items() if not hasattr(job, k)}
            job._modify(**defaults)
            try:
                stored = self._lookup_jobstore(jobstore_alias).lookup_job(job.id)
            except Exception:  # stored by a version whose job no longer loads: replaced
                stored = None
            if stored is not None and _schedule(stored) == _schedule(job):
                job._jobstore_alias = jobstore_alias
                return
        super()._real_add_job(job, jobstore_alias, replace_existing)


def _schedule(job: Job) -> tuple[Any, ...]:
    """What a job runs, when, and how: all of it but its next run time (triggers compare by
    what they print, which names every field, the time zone and any jitter)."""
    return (
        job.func_ref,
        tuple(job.args),
        dict(job.kwargs),
        repr(job.trigger),
        job.executor,
        job.name,
        job.misfire_grace_time,
        job.coalesce,
        job.max_instances,
    )


class _JobStore(SQLAlchemyJobStore):
    """APScheduler's store in the app's database, whose table several processes starting at
    once may each create: the one that loses the race finds it made."""

    def start(self, scheduler: Any, alias: str) -> None:
        try:
            super().start(scheduler, alias)
        except (IntegrityError, ProgrammingError):
            super().start(scheduler, alias)


def jobstore_url(database_url: str) -> str:
    """The same database through a synchronous driver, which APScheduler's store needs."""
    url = make_url(database_url)
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return url.set(drivername=driver).render_as_string(hide_password=False)


def build_scheduler(context: JobContext, database_url: str, timezone: ZoneInfo) -> AsyncIOScheduler:
    """Not started: `start_scheduler` starts it inside the running loop."""
    sqlite = make_url(database_url).get_backend_name() == "sqlite"
    # The store writes from the event loop; on SQLite a short wait for the file lock keeps
    # a rare clash with a message's transaction from stalling the loop (the job just runs
    # again on its next turn).
    options = {"connect_args": {"timeout": 1}} if sqlite else {}
    store = _JobStore(url=jobstore_url(database_url), tablename=JOBS_TABLE, engine_options=options)
    scheduler = _Scheduler(
        timezone=timezone,
        jobstores={STORED: store, IN_MEMORY: MemoryJobStore()},
        executors={"default": ContextExecutor(context)},
        # A turn missed while jbl was down runs once on start, not once per missed turn.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(
        ranking_job,
        CronTrigger(hour=2, minute=0, timezone=timezone),
        args=(CONTEXT,),
        id=RANKING_JOB,
        replace_existing=True,
    )
    scheduler.add_job(
        orders_job,
        IntervalTrigger(minutes=1, timezone=timezone),
        args=(CONTEXT,),
        id=ORDERS_JOB,
        replace_existing=True,
        jobstore=IN_MEMORY,
    )
    send_time = context.send_time
    weekly = (
        (friday_job, FRIDAY_JOB, send_time.weekday, send_time.at),
        (report_job, REPORT_JOB, context.report_weekday, context.report_at),
    )
    for job, job_id, weekday, at in weekly:
        scheduler.add_job(
            job,
            CronTrigger(
                day_of_week=weekday, hour=at.hour, minute=at.minute, timezone=send_time.timezone
            ),
            args=(CONTEXT,),
            id=job_id,
            replace_existing=True,
            # Missed while jbl was down: still done that day, late rather than never.
            misfire_grace_time=FRIDAY_GRACE_SECONDS,
        )
    scheduler.add_job(
        broadcasts_job,
        IntervalTrigger(minutes=1, timezone=timezone),
        args=(CONTEXT,),
        id=BROADCASTS_JOB,
        replace_existing=True,
        jobstore=IN_MEMORY,
    )
    return scheduler


def start_scheduler(scheduler: AsyncIOScheduler) -> None:
    scheduler.start()
    # Earlier versions stored the sweeps too: those copies would run beside these. (Nothing
    # runs before this returns: the scheduler's first turn is the loop's next.)
    for job_id in SWEEPS:
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(job_id, jobstore=STORED)


def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    scheduler.shutdown(wait=False)
