"""`GET /metrics` as Prometheus scrapes it from a running jbl: what people sent and what the
senders did moves the counters; rows waiting, their age and a broadcast's progress are read
from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from prometheus_client.parser import text_string_to_metric_families

from bot.bootstrap import App
from handlers.messages import Reply
from models import broadcasts
from models.broadcasts import Broadcast
from models.outbox import notify_identity, notify_merchant
from models.people import new_person
from models.uow import UnitOfWork
from scheduler.jobs import friday_broadcast
from scheduler.setup import (
    BROADCASTS_JOB,
    IN_MEMORY,
    build_scheduler,
    start_scheduler,
    stop_scheduler,
)
from tests.conftest import Clock, job_context
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.telegram_bot import Running, running_jbl
from tests.whatsapp_bot import running_both

BUDI = "+6281234567890"
SARI = "+6285712345678"
TONO = "+6281398765432"
# Friday 27 November 2026, 07:00 in Jakarta: the broadcast's default time that week.
FRIDAY_7AM = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


class Samples:
    """One scrape: every sample by its name and labels."""

    def __init__(self, text: str) -> None:
        self.values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        self.help: dict[str, str] = {}
        for family in text_string_to_metric_families(text):
            self.help[family.name] = family.documentation
            for sample in family.samples:
                self.values[sample.name, frozenset(sample.labels.items())] = sample.value

    def __call__(self, name: str, **labels: str) -> float | None:
        return self.values.get((name, frozenset(labels.items())))


async def scrape(jbl: Running) -> Samples:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{jbl.base}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return Samples(answer.text)


async def scrape_until(jbl: Running, holds: Callable[[Samples], bool]) -> Samples:
    """Scrapes until `holds` does: a sender counts a send a moment after the platform has
    the message."""
    async with asyncio.timeout(10):
        # A condition on what jbl shows, looked at again shortly.
        while not holds(samples := await scrape(jbl)):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return samples


async def test_messages_handled_and_the_senders_outcomes_are_counted_per_channel(
    database_url: str, clock: Clock, tg: FakeTelegram, twilio: FakeTwilio
) -> None:
    async with running_both(database_url, clock, tg, twilio) as jbl:
        before = await scrape(jbl)
        assert before("jbl_messages_handled_total", channel="telegram") == 0
        assert before("jbl_outbox_sends_total", channel="whatsapp", outcome="sent") == 0

        budi = tg.user(1001, "Budi")
        await budi.wait_for_reply(budi.send("/bantuan"))
        await twilio.user(BUDI, "Budi").say("/bantuan")
        await twilio.user(SARI, "Sari").say("/bantuan")
        # WhatsApp's replies go through its sender: a 429, then a number that cannot
        # receive, then one refused for good.
        twilio.fail_next(429, 20429, "Too Many Requests", to=TONO)
        await twilio.user(TONO, "Tono").send("/bantuan")
        after = await scrape_until(
            jbl, lambda s: s("jbl_outbox_sends_total", channel="whatsapp", outcome="retry_later")
        )
        twilio.fail_next(400, 63024, "Invalid message recipient", to=SARI)
        await twilio.user(SARI, "Sari").send("/menu")
        twilio.fail_next(400, 21617, "The body exceeds 1600 characters", to=BUDI)
        await twilio.user(BUDI, "Budi").send("/menu")
        after = await scrape_until(
            jbl,
            lambda s: bool(
                s("jbl_outbox_sends_total", channel="whatsapp", outcome="unreachable")
                and s("jbl_outbox_sends_total", channel="whatsapp", outcome="failed")
            ),
        )

    assert after("jbl_messages_handled_total", channel="telegram") == 1
    assert after("jbl_messages_handled_total", channel="whatsapp") == 5
    assert after("jbl_messages_failed_total", channel="whatsapp") == 0
    assert after("jbl_message_handling_seconds_count", channel="telegram") == 1
    assert (after("jbl_message_handling_seconds_sum", channel="whatsapp") or 0) > 0
    assert after("jbl_message_handling_seconds_bucket", channel="whatsapp", le="+Inf") == 5
    assert after("jbl_outbox_sends_total", channel="whatsapp", outcome="sent") == 2
    assert after("jbl_outbox_sends_total", channel="whatsapp", outcome="retry_later") == 1
    assert after("jbl_outbox_sends_total", channel="whatsapp", outcome="unreachable") == 1
    assert after("jbl_outbox_sends_total", channel="whatsapp", outcome="failed") == 1
    # Telegram's replies are sent by the channel itself; its sender had nothing to send.
    assert after("jbl_outbox_sends_total", channel="telegram", outcome="sent") == 0
    assert after("jbl_db_pool_size") == 1 or "postgresql" in database_url
    assert (after("jbl_db_pool_checked_out") or 0) >= 0
    assert after("jbl_metrics_database_read") == 1


async def test_rows_waiting_and_the_age_of_the_oldest_due_are_read_when_scraped(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with running_jbl(database_url, clock, tg) as jbl:
        # This jbl runs Telegram only: rows for WhatsApp wait for a sender elsewhere.
        async with UnitOfWork(jbl.app.sessions) as uow:
            now = clock()
            person, _ = await new_person(uow.session, f"whatsapp:{BUDI}", "Budi", "id", now)
            replies = [Reply(f"pesan {n}").to_json() for n in range(3)]
            await notify_identity(uow.session, person.id, f"whatsapp:{BUDI}", "reply", replies, now)
            # A merchant without an operator: its notice is held until one joins.
            await notify_merchant(uow.session, 2, "order_new", {"order_id": 1}, now)
            await uow.commit()
        clock.advance(timedelta(seconds=90))
        samples = await scrape(jbl)

    assert samples("jbl_outbox_rows", channel="whatsapp", queue="notices", state="due") == 3
    assert samples("jbl_outbox_rows", channel="whatsapp", queue="notices", state="later") == 0
    assert samples("jbl_outbox_rows", channel="none", queue="notices", state="held") == 1
    assert samples("jbl_outbox_rows", channel="telegram", queue="notices", state="due") == 0
    assert samples("jbl_outbox_oldest_due_seconds", channel="whatsapp", queue="notices") == 90
    assert samples("jbl_outbox_oldest_due_seconds", channel="whatsapp", queue="broadcast") == 0
    assert samples("jbl_outbox_oldest_due_seconds", channel="telegram", queue="notices") == 0


async def test_a_broadcast_being_sent_shows_its_progress(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    people = [tg.user(9000 + n, f"Warga {n}") for n in range(4)]
    async with running_jbl(database_url, clock, tg) as jbl:
        # Every scrape counts afresh here (a deployment's process counts every 30 s at most).
        jbl.app.metrics.counts_every_s = 0
        for person in people:
            await person.wait_for_reply(person.send("/langganan"))
        tg.block(people[3].id)
        clock.now = FRIDAY_7AM
        app = jbl.app
        await friday_broadcast(app.sessions, app.clock, app.conversation.config.send_time)
        friday = "2026-11-27"
        samples = await scrape_until(
            jbl,
            lambda s: (
                s("jbl_broadcast_rows", friday=friday, status="sent") == 3
                and s("jbl_broadcast_rows", friday=friday, status="unreachable") == 1
            ),
        )

    assert samples("jbl_broadcast_recipients", friday=friday, state="sending") == 4
    assert samples("jbl_broadcast_rows", friday=friday, status="failed") == 0
    assert samples("jbl_outbox_sends_total", channel="telegram", outcome="sent") == 3
    assert samples("jbl_outbox_sends_total", channel="telegram", outcome="unreachable") == 1
    assert samples("jbl_messages_handled_total", channel="telegram") == 4


async def _breaks() -> None:
    raise RuntimeError("a job that breaks")


async def test_scheduled_job_runs_and_failures_are_counted_per_job(app: App) -> None:
    scheduler = build_scheduler(job_context(app), app.settings.database.url, app.settings.timezone)
    app.metrics.listen_to(scheduler)
    ran: asyncio.Queue[JobExecutionEvent] = asyncio.Queue()
    scheduler.add_listener(ran.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    start_scheduler(scheduler)
    try:
        now = datetime.now(UTC)
        scheduler.modify_job(BROADCASTS_JOB, jobstore=IN_MEMORY, next_run_time=now)
        scheduler.add_job(_breaks, id="breaks", jobstore=IN_MEMORY, next_run_time=now)
        events = [await asyncio.wait_for(ran.get(), 30) for _ in range(2)]
    finally:
        stop_scheduler(scheduler)
    assert {e.job_id for e in events} == {BROADCASTS_JOB, "breaks"}
    samples = Samples((await app.metrics.exposition()).decode())
    assert samples("jbl_scheduler_job_runs_total", job=BROADCASTS_JOB) == 1
    assert samples("jbl_scheduler_job_failures_total", job=BROADCASTS_JOB) == 0
    assert samples("jbl_scheduler_job_runs_total", job="breaks") == 1
    assert samples("jbl_scheduler_job_failures_total", job="breaks") == 1


async def test_a_paused_broadcast_shows_its_rows_paused_by_channel(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with running_jbl(database_url, clock, tg) as jbl:
        app = jbl.app
        app.metrics.counts_every_s = 0
        # Subscribed on WhatsApp, which this jbl does not send: the delivery waits.
        await Chatter(app, f"whatsapp:{BUDI}", sender_phone=BUDI).send("/langganan")
        clock.now = FRIDAY_7AM
        send_time = app.conversation.config.send_time
        [started] = await friday_broadcast(app.sessions, app.clock, send_time)
        running = await scrape(jbl)
        async with UnitOfWork(app.sessions) as uow:
            broadcast = await uow.session.get(Broadcast, started)
            assert broadcast is not None
            await broadcasts.pause(uow.session, broadcast)
            await uow.commit()
        paused = await scrape(jbl)

    friday = "2026-11-27"
    assert running("jbl_outbox_rows", channel="whatsapp", queue="broadcast", state="due") == 1
    assert running("jbl_broadcast_rows", friday=friday, status="pending") == 1
    assert running("jbl_broadcast_recipients", friday=friday, state="sending") == 1
    assert paused("jbl_outbox_rows", channel="whatsapp", queue="broadcast", state="due") == 0
    assert paused("jbl_outbox_rows", channel="whatsapp", queue="broadcast", state="paused") == 1
    assert paused("jbl_broadcast_rows", friday=friday, status="paused") == 1
    assert paused("jbl_broadcast_recipients", friday=friday, state="paused") == 1
