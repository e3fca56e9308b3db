"""`benchmarks.outbox --paid`: Telegram's paid broadcast at its rate, with replies beside it.

    python -m benchmarks.outbox --paid --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    python -m benchmarks.outbox --paid --quick      # 10,000 recipients on a SQLite file

One phase, on a fresh database: `seed` writes as many residents, orders and pending notices as
there are recipients and replies; the recipients' rows become the paid broadcast's
(`PAID_BROADCAST_PRIORITY`, under one broadcast, whose paid sends are counted), and the replies'
rows come due all at once a third into the broadcast (`REPLIES_AT`), as residents' answers do. Two
real senders drain them in this process, as `jbl run` builds them with `[telegram]
paid_broadcast` on: the free one at `--rate` (30/s) and the paid one at `--paid-rate`
(1,000/s) through `PaidBroadcast`, against the counting fake Bot API in a child process, which
tells the paid sends (allow_paid_broadcast) from the others as they arrive. The fake runs ahead
of the senders on the CPU (`benchmarks.harness.priority`), and the sending process takes the
seeding's objects out of the garbage collector's passes once it starts, as `jbl run` does once it
is up. `--round-trip-ms` has the fake answer each request that long after it arrived, as the Bot
API's servers in Europe answer a deployment in Jakarta.

Goals (the exit status is 1 if one fails):
- the paid rate held ≥ 0.95 of `--paid-rate` (first to last paid arrival);
- the replies' free rate untouched: held ≥ 0.95 of `--rate`, their busiest second ≤ 1.03 ×;
- the whole broadcast out in ≤ 5 minutes (from the senders' start to the last send);
- the sending process's peak RSS < 200 MiB;
- every row sent once, and the broadcast's paid sends counted as the fake received them.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update

from benchmarks.harness.databases import app_settings, is_sqlite, prepare_postgres
from benchmarks.harness.memory import kib_to_mib, proc_status_kib, reset_peak_rss
from benchmarks.harness.report import Goal, info_row, verdict_row
from benchmarks.harness.stalls import Stalls
from benchmarks.outbox import (
    BUSIEST_GOAL,
    PER_CHAT_PER_S,
    RATE_GOAL,
    FakeServer,
    Seeded,
    seed,
    statuses,
    until_sent,
)
from bot.bootstrap import build_app, init_database, utc_now
from bot.delivery import FREE, PAID_BROADCAST, Limits, OutboxSender
from bot.settings import TelegramSettings
from bot.telegram.channel import PaidBroadcast, TelegramChannel
from models import broadcasts
from models.broadcasts import Broadcast
from models.outbox import PAID_BROADCAST_PRIORITY, SENT, OutboxMessage
from models.uow import UnitOfWork
from tests.telegram_bot import TOKEN

FINISH_GOAL_S = 300.0
RSS_GOAL_MIB = 200
REPLIES_AT = 1 / 3  # of the paid broadcast's expected time, the replies come due
FRIDAY = date(2026, 12, 11)


@dataclass
class PaidPhase:
    free_rate: float
    paid_rate: float
    recipients: int
    replies: int
    seeded: Seeded
    fake: dict[str, Any]
    statuses: dict[str, int]
    paid_counted: int  # the broadcast's paid sends, as the sender recorded them
    seconds: float  # from the senders' start to the broadcast's last send at the fake
    peak_rss_kib: int | None
    longest_stall: float  # the sending process's event loop, held up at most this long
    timed_out: bool


async def run_paid_phase(
    url: str,
    free_rate: float,
    paid_rate: float,
    recipients: int,
    replies: int,
    round_trip: float,
) -> PaidPhase:
    if not is_sqlite(url):
        await prepare_postgres(url, reset=True)
    app = build_app(app_settings(url), utc_now)
    try:
        await init_database(app, demo=True)
        total = recipients + replies
        print(
            f"\n-- paid broadcast: seeding {recipients:,} recipients and {replies:,} replies",
            end=" … ",
            flush=True,
        )
        seeded = await seed(app, total, 0)
        replies_after = timedelta(seconds=recipients / paid_rate * REPLIES_AT)
        broadcast_id = await as_paid_broadcast(app, seeded, replies, replies_after)
        print(f"{seeded.seconds:.1f} s", flush=True)
        async with FakeServer(total, lambda _count: None, round_trip) as fake:
            settings = TelegramSettings(
                token=TOKEN,
                api_base_url=fake.url,
                rate_per_s=free_rate,
                paid_broadcast=True,
                paid_rate_per_s=paid_rate,
            )
            channel = TelegramChannel(settings, app.conversation)
            await channel.bot.initialize()
            free = OutboxSender(
                app.sessions, channel, Limits(free_rate, PER_CHAT_PER_S), app.clock, FREE
            )
            paid = OutboxSender(
                app.sessions,
                PaidBroadcast(channel),
                Limits(paid_rate, PER_CHAT_PER_S),
                app.clock,
                PAID_BROADCAST,
            )
            reset_peak_rss()
            # As `jbl run` once it is up (`bot.loop.settle_when`): a full garbage collection
            # over the seeding's objects held the event loop, and the sends bunched after it.
            gc.collect()
            gc.freeze()
            stalls = Stalls()
            watching = asyncio.create_task(stalls.watch())
            stop = asyncio.Event()
            started = time.monotonic()
            sending = [
                asyncio.create_task(sender.run(stop), name=f"outbox-{name}")
                for name, sender in (("free", free), ("paid", paid))
            ]
            timed_out = await until_sent(app, fake, recipients / paid_rate * 3 + 120)
            stop.set()
            await asyncio.gather(*sending)
            peak = proc_status_kib("VmHWM")
            watching.cancel()
            gc.unfreeze()
            await channel.bot.shutdown()
        report = fake.report
        async with app.sessions() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            paid_counted = broadcast.paid_sends
        return PaidPhase(
            free_rate,
            paid_rate,
            recipients,
            replies,
            seeded,
            report,
            await statuses(app, seeded),
            paid_counted,
            float(report.get("paid", {}).get("last", started)) - started,
            peak,
            stalls.longest,
            timed_out,
        )
    finally:
        await app.close()


async def as_paid_broadcast(app: Any, seeded: Seeded, replies: int, after: timedelta) -> int:
    """The seeded rows after the first `replies` become one broadcast's paid rows; the first
    `replies` come due `after` from now. Returns the broadcast's id."""
    first_paid = seeded.after_id + replies
    async with UnitOfWork(app.sessions) as uow:
        now = app.clock()
        broadcast = await broadcasts.plan(uow.session, FRIDAY, now, now)
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id > first_paid)
            .values(priority=PAID_BROADCAST_PRIORITY, broadcast_id=broadcast.id)
            .execution_options(synchronize_session=False)
        )
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id > seeded.after_id, OutboxMessage.id <= first_paid)
            .values(due_at=now + after)
            .execution_options(synchronize_session=False)
        )
        await uow.commit()
        return broadcast.id


def print_paid_phase(phase: PaidPhase) -> list[Goal]:
    fake = phase.fake
    paid, free = fake.get("paid", {}), fake.get("free", {})
    paid_held = float(paid.get("rate", 0.0)) / phase.paid_rate
    free_held = float(free.get("rate", 0.0)) / phase.free_rate
    free_busiest = float(free.get("busiest_second", 0)) / phase.free_rate
    print(
        f"paid: {paid.get('sends', 0):,} sends in {paid.get('seconds', 0.0):.1f} s,"
        f" {paid.get('rate', 0.0):,.1f}/s (steady {paid.get('steady_rate', 0.0):,.1f}/s),"
        f" busiest second {paid.get('busiest_second', 0)}"
    )
    print(
        f"replies: {free.get('sends', 0):,} sends in {free.get('seconds', 0.0):.1f} s,"
        f" {free.get('rate', 0.0):,.1f}/s, busiest second {free.get('busiest_second', 0)}"
    )
    print(
        f"rows: {phase.statuses}; chats sent to twice: {fake.get('chats_more_than_once')};"
        f" paid sends counted {phase.paid_counted:,}; answers {fake.get('answers')}"
    )
    print(
        f"the fake Bot API's CPU: {fake.get('cpu_seconds', 0.0):.1f} s"
        f" over {float(paid.get('seconds', 0.0)):.1f} s of paid sends"
    )
    whole = (
        not phase.timed_out
        and phase.statuses == {SENT: phase.recipients + phase.replies}
        and fake.get("chats_more_than_once") == 0
        and phase.paid_counted == paid.get("sends", 0) == phase.recipients
    )
    peak_mib = (phase.peak_rss_kib or 0) / 1024
    return [
        verdict_row(
            f"paid rate held ({phase.paid_rate:,.0f}/s)",
            f"≥ {RATE_GOAL}",
            f"{paid_held:.3f}",
            paid_held >= RATE_GOAL,
        ),
        verdict_row(
            f"replies' rate held ({phase.free_rate:g}/s)",
            f"≥ {RATE_GOAL}",
            f"{free_held:.3f}",
            free_held >= RATE_GOAL,
        ),
        verdict_row(
            "replies' busiest second",
            f"≤ {BUSIEST_GOAL}×",
            f"{free_busiest:.3f}×",
            free_busiest <= BUSIEST_GOAL,
        ),
        verdict_row(
            f"{phase.recipients:,} recipients out in",
            f"≤ {FINISH_GOAL_S:.0f} s",
            f"{phase.seconds:.1f} s",
            phase.seconds <= FINISH_GOAL_S,
        ),
        verdict_row(
            "sender's peak RSS",
            f"< {RSS_GOAL_MIB} MiB",
            kib_to_mib(phase.peak_rss_kib or 0),
            peak_mib < RSS_GOAL_MIB,
        ),
        verdict_row(
            "every row sent once, paid sends counted", "all", "yes" if whole else "no", whole
        ),
        info_row("sender's longest stall", f"{phase.longest_stall * 1000:.0f} ms"),
        info_row("seeding", f"{phase.seeded.seconds:.1f} s"),
    ]
