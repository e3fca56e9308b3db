"""What the operator sees of a running jbl: `GET /metrics` in Prometheus's text format, and the
outbox's lag for `/healthz`.

Counted in this process as things happen: messages handled and their handling time (per
channel, `MeasuredConversation`), the outbox senders' sends by outcome (their `SenderStats`),
the scheduler's job runs and failures. Read from the database when scraped: the waiting rows
by channel and status, the age of the oldest row due, the progress of a broadcast being sent,
and the engine's pool. The registry is the app's own, built by the composition root.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.logs import MESSAGES, IdentityHash
from bot.telegram.channel import CHANNEL as TELEGRAM
from bot.whatsapp.channel import CHANNEL as WHATSAPP
from handlers.dispatch import Conversation
from models.broadcasts import LiveProgress, progress_of_live
from models.db import WRITE_QUEUE
from models.outbox import (
    BROADCAST_PRIORITY,
    DUE,
    LATER,
    NOTICE_PRIORITY,
    PAID_BROADCAST_PRIORITY,
    PAUSED,
    oldest_due,
    waiting_rows,
)
from models.uow import UnitOfWork, once_more_if_disconnected

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from bot.delivery import OutboxSender
    from handlers.dispatch import Clock
    from handlers.messages import Incoming, Reply

log = logging.getLogger(__name__)
message_log = logging.getLogger(MESSAGES)

# The waiting rows and a broadcast's progress count every waiting row, hundreds of
# thousands during a broadcast, in every process scraped: read at most this often, whatever
# the scrapes (docs/decisions/0041). The oldest due rows, the alarm, are read every scrape.
COUNTS_EVERY_S = 30.0
# A message is handled in milliseconds; seconds mean the database or a lock is in the way.
HANDLING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
QUEUES = {
    NOTICE_PRIORITY: "notices",
    BROADCAST_PRIORITY: "broadcast",
    PAID_BROADCAST_PRIORITY: "paid_broadcast",
}
# `SenderStats` fields, as the outcome label of the sends.
SEND_OUTCOMES = {
    "sent": "sent",
    "retry_later": "retry_later",
    "unreachable": "unreachable",
    "rejected": "failed",
    "needs_template": "needs_template",
    "paid_refused": "paid_refused",
    "errors": "error",
}
ANSWERED, FAILED = "answered", "failed"


@dataclass
class _Read:
    """What the last scrape read from the database."""

    oldest: dict[tuple[str, int], datetime] = field(default_factory=dict)
    now: datetime | None = None
    waiting: dict[tuple[str | None, int, str], int] = field(default_factory=dict)
    broadcasts: list[LiveProgress] = field(default_factory=list)
    counted_at: float | None = None  # monotonic
    seconds: float = 0.0
    ok: bool = False


class Metrics:
    """The app's metrics: its registry, what is counted as it happens, what is read when
    scraped, and the outbox's lag for the health check."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        clock: Clock,
        hashed: IdentityHash,
        lag_degraded_s: float,
    ) -> None:
        self.sessions = sessions
        self.engine = engine
        self.clock = clock
        self.hashed = hashed
        self.lag_degraded_s = lag_degraded_s
        self.registry = CollectorRegistry()
        self.handled = Counter(
            "jbl_messages_handled",
            "Messages from people handled, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.failed = Counter(
            "jbl_messages_failed",
            "Messages whose handling raised (the person got an apology), by channel",
            ["channel"],
            registry=self.registry,
        )
        self.handling = Histogram(
            "jbl_message_handling_seconds",
            "Time to handle a message, its transaction included, by channel",
            ["channel"],
            buckets=HANDLING_BUCKETS,
            registry=self.registry,
        )
        self.job_runs = Counter(
            "jbl_scheduler_job_runs",
            "Scheduled job runs, by job",
            ["job"],
            registry=self.registry,
        )
        self.job_failures = Counter(
            "jbl_scheduler_job_failures",
            "Scheduled job runs that raised, by job",
            ["job"],
            registry=self.registry,
        )
        self.senders: list[OutboxSender] = []
        self.counts_every_s = COUNTS_EVERY_S
        self._read = _Read()
        self._reading = asyncio.Lock()
        self.registry.register(_Collector(self))

    # ---- counted as it happens -----------------------------------------------------------

    def watch(self, senders: Sequence[OutboxSender]) -> None:
        """Counts these senders' sends; their channels' outbox rows are the ones watched."""
        self.senders = list(senders)
        for sender in senders:
            channel = sender.transport.channel
            self.handled.labels(channel)
            self.failed.labels(channel)
            self.handling.labels(channel)

    def listen_to(self, scheduler: BaseScheduler) -> None:
        scheduler.add_listener(self._job_ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _job_ran(self, event: JobExecutionEvent) -> None:
        self.job_runs.labels(event.job_id).inc()
        failures = self.job_failures.labels(event.job_id)
        if event.exception is not None:
            failures.inc()

    def message_handled(self, incoming: Incoming, seconds: float, outcome: str) -> None:
        channel = incoming.channel
        self.handled.labels(channel).inc()
        self.handling.labels(channel).observe(seconds)
        if outcome == FAILED:
            self.failed.labels(channel).inc()
        if message_log.isEnabledFor(logging.INFO):
            message_log.info(
                "message %s",
                outcome,
                extra={
                    "channel": channel,
                    "identity_hash": self.hashed(incoming.identity),
                    "message_id": incoming.message_id,
                    "duration_ms": round(seconds * 1000, 2),
                    "outcome": outcome,
                },
            )

    # ---- read when scraped ---------------------------------------------------------------

    @property
    def channels(self) -> list[str]:
        """The channels this process sends."""
        return sorted({sender.transport.channel for sender in self.senders})

    @property
    def shown_channels(self) -> list[str]:
        """The channels whose rows a scrape shows: those with a sender anywhere."""
        return sorted({*self.channels, TELEGRAM, WHATSAPP})

    async def exposition(self) -> bytes:
        await self._refresh()
        return generate_latest(self.registry)

    async def lagging(self) -> str | None:
        """Why the outbox is behind, if it is: a reply or notice of a channel this process
        sends has been due longer than `[http] lag_degraded_s`."""
        now = self.clock()
        oldest = await self._oldest(self.channels, now)
        for (channel, priority), due_at in sorted(oldest.items()):
            waited = (now - due_at).total_seconds()
            if priority == NOTICE_PRIORITY and waited > self.lag_degraded_s:
                return (
                    f"the oldest {channel} reply or notice due has waited {waited:.0f} s"
                    f" (over [http] lag_degraded_s = {self.lag_degraded_s:g})"
                )
        return None

    async def _oldest(
        self, channels: Sequence[str], now: datetime
    ) -> dict[tuple[str, int], datetime]:
        async def read() -> dict[tuple[str, int], datetime]:
            async with UnitOfWork(self.sessions) as uow:
                return await oldest_due(uow.session, channels, now)

        return await once_more_if_disconnected(read, "metrics")

    async def _refresh(self) -> None:
        """Reads the database for the scrape: the oldest due rows every time (a lookup per
        channel and queue), the counts when `COUNTS_EVERY_S` has passed."""
        async with self._reading:
            started = time.perf_counter()
            read = self._read
            try:
                now = self.clock()
                read.oldest = await self._oldest(self.shown_channels, now)
                read.now = now
                counted = read.counted_at
                due = counted is None or time.monotonic() - counted >= self.counts_every_s
                if due:
                    read.waiting, read.broadcasts = await once_more_if_disconnected(
                        lambda: self._counts(now), "metrics"
                    )
                    read.counted_at = time.monotonic()
                read.ok = True
            except Exception as error:
                log.warning("metrics: the database could not be read: %s", error)
                read.ok = False
            read.seconds = time.perf_counter() - started

    async def _counts(
        self, now: datetime
    ) -> tuple[dict[tuple[str | None, int, str], int], list[LiveProgress]]:
        async with UnitOfWork(self.sessions) as uow:
            waiting = await waiting_rows(uow.session, now)
            broadcasts = await progress_of_live(uow.session)
        return waiting, broadcasts


class _Collector:
    """What a scrape shows besides the counters: the senders' outcomes, and the last read."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield self._sends()
        yield from self._pool()
        read = self.metrics._read
        seconds = GaugeMetricFamily(
            "jbl_metrics_read_seconds", "Time the last scrape spent reading the database"
        )
        seconds.add_metric([], read.seconds)
        yield seconds
        up = GaugeMetricFamily(
            "jbl_metrics_database_read", "1 when the last scrape could read the database"
        )
        up.add_metric([], 1.0 if read.ok else 0.0)
        yield up
        if not read.ok:
            return
        yield from self._outbox(read)
        yield from self._broadcasts(read.broadcasts)

    def _sends(self) -> Metric:
        sends = CounterMetricFamily(
            "jbl_outbox_sends",
            "Sends of outbox rows by channel and outcome (sent; retry_later: the platform"
            " asked to slow down, 429; unreachable; failed: refused for good; needs_template;"
            " error: a failed attempt, retried with backoff until the row fails)",
            labels=["channel", "outcome"],
        )
        totals: dict[tuple[str, str], int] = {}
        for sender in self.metrics.senders:
            for name, outcome in SEND_OUTCOMES.items():
                key = (sender.transport.channel, outcome)
                totals[key] = totals.get(key, 0) + getattr(sender.stats, name)
        for (channel, outcome), count in sorted(totals.items()):
            sends.add_metric([channel, outcome], count)
        return sends

    def _pool(self) -> Iterator[Metric]:
        pool: Any = self.metrics.engine.pool
        size = GaugeMetricFamily("jbl_db_pool_size", "Database connections the pool keeps")
        size.add_metric([], pool.size())
        yield size
        used = GaugeMetricFamily(
            "jbl_db_pool_checked_out", "Database connections in use by units of work"
        )
        used.add_metric([], pool.checkedout())
        yield used
        queue = self.metrics.sessions.kw.get("info", {}).get(WRITE_QUEUE)
        if queue is not None:
            waiting = GaugeMetricFamily(
                "jbl_db_write_queue_waiting",
                "Units of work waiting for their turn at the SQLite database",
            )
            waiting.add_metric([], queue.waiting)
            yield waiting

    def _outbox(self, read: _Read) -> Iterator[Metric]:
        rows = GaugeMetricFamily(
            "jbl_outbox_rows",
            "Outbox rows waiting, by channel, queue and state (due: to be sent now; later:"
            " being sent, or waiting for a retry or the chat's turn; held: for a shop without"
            f" an operator; paused: with their broadcast), read at most every"
            f" {COUNTS_EVERY_S:g} s",
            labels=["channel", "queue", "state"],
        )
        waiting = dict(read.waiting)
        for broadcast in read.broadcasts:
            for channel, count in broadcast.paused.items():
                key = (channel, BROADCAST_PRIORITY, PAUSED)
                waiting[key] = waiting.get(key, 0) + count
        for channel in self.metrics.shown_channels:
            for priority in QUEUES:
                for state in (DUE, LATER):
                    waiting.setdefault((channel, priority, state), 0)
        for (channel, priority, state), count in sorted(waiting.items(), key=str):
            queue = QUEUES.get(priority, str(priority))
            rows.add_metric([channel or "none", queue, state], count)
        yield rows
        age = GaugeMetricFamily(
            "jbl_outbox_oldest_due_seconds",
            "How long the oldest row due has waited, by channel and queue (0: none due)",
            labels=["channel", "queue"],
        )
        now = read.now
        for channel in self.metrics.shown_channels:
            for priority, queue in QUEUES.items():
                due_at = read.oldest.get((channel, priority))
                waited = (now - due_at).total_seconds() if due_at and now else 0.0
                age.add_metric([channel, queue], max(0.0, waited))
        yield age

    def _broadcasts(self, live: list[LiveProgress]) -> Iterator[Metric]:
        rows = GaugeMetricFamily(
            "jbl_broadcast_rows",
            "Deliveries of the broadcast being sent or on hold, by status",
            labels=["friday", "status"],
        )
        recipients = GaugeMetricFamily(
            "jbl_broadcast_recipients",
            "Deliveries the broadcast being sent or on hold started with (its total)",
            labels=["friday", "state"],
        )
        for broadcast in live:
            friday = broadcast.friday.isoformat()
            recipients.add_metric([friday, broadcast.status], broadcast.recipients)
            by_status = {"sent": 0, "failed": 0, "unreachable": 0} | broadcast.by_status
            for status, count in sorted(by_status.items()):
                rows.add_metric([friday, status], count)
        yield rows
        yield recipients


class MeasuredConversation(Conversation):
    """The conversation with each message counted and timed, and written as a log line
    (`bot.messages`: shown in JSON logs)."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def handle(self, incoming: Incoming) -> list[Reply]:
        started = time.perf_counter()
        outcome = FAILED
        try:
            replies = await super().handle(incoming)
            outcome = ANSWERED
            return replies
        finally:
            self.metrics.message_handled(incoming, time.perf_counter() - started, outcome)


def metrics_route(metrics: Metrics) -> Route:
    async def scrape(_request: Request) -> Response:
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", scrape, methods=["GET"])
