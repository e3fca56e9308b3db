"""`jbl run` and `jbl links` as an operator runs them, and the outbox sender's promises:
a crash resends only what was in flight, two senders never send the same row."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from bot.bootstrap import App
from bot.delivery import Limits, OutboxSender
from bot.telegram.channel import TelegramChannel
from models.broadcasts import Broadcast, SendTime
from models.outbox import FAILED, SENDING, SENT, claim_due
from models.uow import UnitOfWork
from scheduler.setup import (
    CONTEXT,
    FRIDAY_JOB,
    IN_MEMORY,
    ORDERS_JOB,
    STORED,
    JobContext,
    build_scheduler,
    start_scheduler,
    stop_scheduler,
)
from tests import db
from tests.conftest import Clock, job_context
from tests.dialogs import order_for_pickup
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.processes import jbl, jbl_env
from tests.telegram_bot import TOKEN, free_port, running_jbl


async def telegram_demo(database_url: str, tmp_path: Path, tg: FakeTelegram) -> dict[str, str]:
    """The environment of a `jbl run` on the fake Telegram, its database holding the demo."""
    env = jbl_env(
        database_url,
        JBL_TELEGRAM__TOKEN=TOKEN,
        JBL_TELEGRAM__API_BASE_URL=tg.base_url,
        JBL_HTTP__PORT=str(free_port()),
    )
    init = await jbl("db", "init", "--demo", env=env, cwd=tmp_path)
    assert await asyncio.wait_for(init.wait(), 60) == 0
    return env


async def test_run_without_a_channel_says_so_and_points_to_chat(
    database_url: str, tmp_path: Path
) -> None:
    process = await jbl("run", env=jbl_env(database_url), cwd=tmp_path)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "JBL_TELEGRAM__TOKEN" in lines[0] and "jbl chat" in lines[0]


async def test_a_bad_token_stops_start_up_with_one_line_naming_the_setting(
    database_url: str, tmp_path: Path
) -> None:
    env = jbl_env(database_url, JBL_TELEGRAM__TOKEN="not-a-token")
    process = await jbl("run", env=env, cwd=tmp_path)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert err.decode().strip().startswith("jbl: setting telegram.token (JBL_TELEGRAM__TOKEN)")
    assert "not-a-token" not in err.decode()


async def test_sigterm_stops_jbl_run_cleanly_after_serving(
    database_url: str, tmp_path: Path, tg: FakeTelegram
) -> None:
    env = await telegram_demo(database_url, tmp_path, tg)
    process = await jbl("run", env=env, cwd=tmp_path)
    try:
        budi = tg.user(1001, "Budi")
        update_id = budi.send("/start")
        welcome = await budi.wait_for_reply(update_id, timeout=60)
        assert "Selamat datang" in (welcome.text or "")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert "telegram: @jbl_test_bot up (polling)" in err.decode()
    assert TOKEN not in err.decode() and TOKEN.split(":")[1] not in err.decode()
    # Polling stopped after confirming what it fetched: nothing is fetched twice on restart.
    polls = [c for c in tg.calls if c.method.lower() == "getupdates"]
    assert int(polls[-1].params["offset"]) == update_id + 1


async def test_after_kill_9_a_restart_answers_what_came_meanwhile_and_nothing_twice(
    database_url: str, tmp_path: Path, tg: FakeTelegram
) -> None:
    env = await telegram_demo(database_url, tmp_path, tg)
    budi = tg.user(1001, "Budi")
    process = await jbl("run", env=env, cwd=tmp_path)
    try:
        await budi.wait_for_reply(budi.send("/start"), timeout=60)
    finally:
        process.kill()
        await asyncio.wait_for(process.wait(), 60)
    meanwhile = budi.send("/keranjang")
    process = await jbl("run", env=env, cwd=tmp_path)
    try:
        cart = await budi.wait_for_reply(meanwhile, timeout=60)
        assert "Keranjang Anda masih kosong" in (cart.text or "")
        # Whatever the killed process fetched is fetched again, and recognised.
        after = await budi.wait_for_reply(budi.send("/bantuan"), timeout=60)
        assert "Cara memakai" in (after.text or "")
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 60)
    texts = [m.text or "" for m in budi.bot_messages]
    assert sum("Selamat datang" in t for t in texts) == 1
    assert sum("Keranjang Anda masih kosong" in t for t in texts) == 1


async def test_links_open_a_product_and_a_merchant(
    app: App, database_url: str, tmp_path: Path
) -> None:
    product = (await db.products(app))[0]
    env = jbl_env(database_url)
    process = await jbl(
        "links", "product", str(product.id), "--bot", "jbl_bot", env=env, cwd=tmp_path
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode() == f"https://t.me/jbl_bot?start=p_{product.id}\t{product.name}\n"
    process = await jbl(
        "links", "merchant", "1", "99999", "--bot", "jbl_bot", env=env, cwd=tmp_path
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert out.decode().startswith("https://t.me/jbl_bot?start=m_1\t")
    assert "no merchant with id 99999" in err.decode()


# ---- the sender's promises ----------------------------------------------------------------


def sender(app: App, channel: TelegramChannel) -> OutboxSender:
    return OutboxSender(app.sessions, channel, Limits(1000, 1000), app.clock)


async def notices_for_operators(app: App, budi: Chatter, operators: int) -> None:
    """One order whose merchant has `operators` operators on Telegram: one row each."""
    product = (await db.products(app))[5]
    for number in range(operators):
        await db.add_operator(app, product.merchant_id, f"telegram:{7000 + number}")
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)


def sends_per_chat(tg: FakeTelegram) -> Counter[str]:
    return Counter(
        str(c.params.get("chat_id")) for c in tg.calls if c.method.lower() == "sendmessage"
    )


async def test_a_crashed_senders_rows_are_sent_once_after_its_claim_lapses(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    await notices_for_operators(app, budi, 3)
    for number in range(3):
        tg.user(7000 + number, f"Operator {number}")
    # A sender claims two rows and dies before sending them.
    async with UnitOfWork(app.sessions) as uow:
        lease = timedelta(seconds=60)
        died = await claim_due(uow.session, "telegram", "dead-sender", clock(), lease, 2)
        await uow.commit()
    assert len(died) == 2

    survivor = sender(app, channel)
    await survivor.send_due()
    assert sum(sends_per_chat(tg).values()) == 1
    statuses = Counter(r.status for r in await db.outbox(app) if r.channel == "telegram")
    assert statuses == {SENDING: 2, SENT: 1}

    clock.advance(timedelta(seconds=61))
    await survivor.send_due()
    assert sends_per_chat(tg) == {"7000": 1, "7001": 1, "7002": 1}
    assert {r.status for r in await db.outbox(app) if r.channel == "telegram"} == {SENT}


async def test_two_senders_at_once_send_every_row_exactly_once(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel
) -> None:
    await notices_for_operators(app, budi, 12)
    for number in range(12):
        tg.user(7000 + number, f"Operator {number}")
    first, second = sender(app, channel), sender(app, channel)
    # Small claims, so that the two interleave over several rounds.
    first.limits = second.limits = Limits(1000, 1000, claim_seconds=0.003)
    while True:
        sent = await asyncio.gather(first.send_due(), second.send_due())
        if not any(sent):
            break
    assert sends_per_chat(tg) == {str(7000 + n): 1 for n in range(12)}
    assert {r.status for r in await db.outbox(app) if r.channel == "telegram"} == {SENT}


async def test_a_row_that_keeps_failing_is_retried_with_backoff_then_failed_with_the_reason(
    app: App, budi: Chatter, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    await notices_for_operators(app, budi, 1)
    tg.user(7000, "Operator")
    tg.fail_next("sendMessage", error_code=500, description="Internal Server Error", times=5)
    outbox = sender(app, channel)
    waits = []
    for _ in range(5):
        assert await outbox.send_due()
        [row] = [r for r in await db.outbox(app) if r.channel == "telegram"]
        if row.status == FAILED:
            break
        waits.append(row.due_at - clock())
        assert not await outbox.send_due()  # not before its backoff
        clock.advance(row.due_at - clock())
    assert row.status == FAILED and row.attempts == 5
    assert "Internal Server Error" in (row.last_error or "")
    assert waits == sorted(waits) and waits[0] < waits[-1]
    assert not tg.user(7000, "Operator").bot_messages


async def test_staff_invite_list_and_remove_operators_from_the_command_line(
    app: App, database_url: str, tmp_path: Path
) -> None:
    env = jbl_env(database_url)
    made = await jbl("merchant", "invite", "4", "--bot", "jbl_bot", env=env, cwd=tmp_path)
    out, err = await asyncio.wait_for(made.communicate(), 60)
    assert made.returncode == 0, err.decode()
    lines = dict(line.split(": ", 1) for line in out.decode().strip().splitlines())
    code = lines["code"]
    assert lines["telegram"] == f"https://t.me/jbl_bot?start=join_{code}"

    sari = Chatter(app, "console:sari")
    await sari.send(f"/start join_{code}")
    assert "Anda sekarang pengelola" in sari.text

    listed = await jbl("merchant", "list", "4", env=env, cwd=tmp_path)
    out, _ = await asyncio.wait_for(listed.communicate(), 60)
    assert out.decode().startswith("4\t") and out.decode().rstrip().endswith("console:sari")

    removed = await jbl("merchant", "remove-operator", "4", "console:sari", env=env, cwd=tmp_path)
    await asyncio.wait_for(removed.communicate(), 60)
    assert removed.returncode == 0
    await sari.send("/pesanan_toko")
    assert "untuk penjual" in sari.text

    again = await jbl("merchant", "remove-operator", "4", "console:sari", env=env, cwd=tmp_path)
    _, err = await asyncio.wait_for(again.communicate(), 60)
    assert again.returncode == 2 and "is not an operator" in err.decode()
    unknown = await jbl("merchant", "invite", "999999", env=env, cwd=tmp_path)
    _, err = await asyncio.wait_for(unknown.communicate(), 60)
    assert unknown.returncode == 2 and "no merchant with id 999999" in err.decode()


async def test_the_scheduler_keeps_its_daily_and_weekly_jobs_in_the_database_once(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    for _ in range(2):
        async with (
            running_jbl(database_url, clock, tg) as running,
            running.app.engine.connect() as connection,
        ):
            rows = await connection.execute(text("SELECT id FROM apscheduler_jobs"))
            # The sweeps every minute are in memory: their turns need no store.
            assert sorted(row[0] for row in rows) == [
                "friday_broadcast",
                "refresh_ranking",
                "weekly_report",
            ]


async def test_a_sweep_stored_by_an_earlier_version_is_replaced_by_the_one_in_memory(
    app: App,
) -> None:
    context = job_context(app)
    url, jakarta = app.settings.database.url, app.settings.timezone
    earlier = build_scheduler(context, url, jakarta)
    start_scheduler(earlier)
    earlier.add_job(
        "scheduler.setup:orders_job",
        IntervalTrigger(minutes=1),
        args=(CONTEXT,),
        id=ORDERS_JOB,
        jobstore=STORED,
        replace_existing=True,
    )
    stop_scheduler(earlier)
    scheduler = build_scheduler(context, url, jakarta)
    start_scheduler(scheduler)
    try:
        assert scheduler.get_job(ORDERS_JOB, jobstore=STORED) is None
        assert scheduler.get_job(ORDERS_JOB, jobstore=IN_MEMORY) is not None
        async with app.engine.connect() as connection:
            rows = await connection.execute(text("SELECT id FROM apscheduler_jobs"))
            assert sorted(row[0] for row in rows) == [
                "friday_broadcast",
                "refresh_ranking",
                "weekly_report",
            ]
    finally:
        stop_scheduler(scheduler)


async def test_a_stored_job_read_back_from_the_database_runs_with_the_context_of_jbl_run(
    app: App,
) -> None:
    scheduler = build_scheduler(job_context(app), app.settings.database.url, app.settings.timezone)
    ran: asyncio.Future[JobExecutionEvent] = asyncio.get_running_loop().create_future()
    scheduler.add_listener(ran.set_result, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    start_scheduler(scheduler)
    try:
        scheduler.modify_job(FRIDAY_JOB, next_run_time=datetime.now(UTC))
        event = await asyncio.wait_for(ran, 30)
    finally:
        stop_scheduler(scheduler)
    assert (event.job_id, event.exception) == (FRIDAY_JOB, None)
    # It planned this Friday's broadcast in the app's database, by the app's clock.
    assert await db.count(app, Broadcast) == 1


async def test_a_turn_missed_while_jbl_was_down_is_still_due_when_it_starts_again(
    app: App,
) -> None:
    url, jakarta = app.settings.database.url, app.settings.timezone
    missed = datetime.now(UTC) - timedelta(hours=1)
    earlier = build_scheduler(job_context(app), url, jakarta)
    earlier.start(paused=True)
    earlier.modify_job(FRIDAY_JOB, jobstore=STORED, next_run_time=missed)
    stop_scheduler(earlier)
    # Started again with the same schedule (or beside a process that has it): the turn stays.
    again = build_scheduler(job_context(app), url, jakarta)
    again.start(paused=True)
    try:
        assert again.get_job(FRIDAY_JOB, jobstore=STORED).next_run_time == missed
    finally:
        stop_scheduler(again)
    # Started with another schedule: the job is replaced, due at its next turn from now.
    moved = job_context(app)
    moved = JobContext(
        moved.sessions,
        moved.clock,
        moved.remind_after,
        moved.expire_after,
        SendTime(2, time(9, 30), moved.send_time.timezone),
    )
    changed = build_scheduler(moved, url, jakarta)
    changed.start(paused=True)
    try:
        job = changed.get_job(FRIDAY_JOB, jobstore=STORED)
        assert job.next_run_time > datetime.now(UTC)
        assert job.next_run_time.astimezone(jakarta).weekday() == 2
    finally:
        stop_scheduler(changed)
