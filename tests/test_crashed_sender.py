"""A sender process killed while it holds outbox rows: the next sender started on the same
machine takes them back at once, without waiting for their lease; live senders keep theirs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from bot.bootstrap import App
from bot.workers import here, worker_id
from models.outbox import SENDING, SENT, claim_due
from models.uow import UnitOfWork
from tests import db
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.processes import sender_process
from tests.test_jbl_run import notices_for_operators, sends_per_chat

# Longer than any test waits: rows come back only if they are taken back at start.
LEASE_SECONDS = 600


@contextlib.asynccontextmanager
async def bot_api_that_never_sends(tg: FakeTelegram) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A Bot API that answers getMe as `tg` does and leaves every other call unanswered; the
    event is set at the first such call (the sender has claimed its rows by then)."""
    asked = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if b"/getMe" not in head.split(b"\r\n", 1)[0]:
            held.append(writer)
            asked.set()
            return
        body = json.dumps({"ok": True, "result": tg.bot_user}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/bot", asked
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_killed_senders_rows_are_sent_at_the_next_start_without_waiting_for_the_lease(
    app: App, budi: Chatter, database_url: str, tg: FakeTelegram
) -> None:
    await notices_for_operators(app, budi, 3)
    for number in range(3):
        tg.user(7000 + number, f"Operator {number}")
    # A row held by a sender of this (living) process, and one of another machine's, leased
    # on the clock the sender processes run on.
    now = datetime.now(UTC)
    async with UnitOfWork(app.sessions) as uow:
        lease = timedelta(seconds=600)
        alive = worker_id("telegram")
        elsewhere = "telegram-0000beef-12345-abcdef"
        assert not elsewhere.startswith(here("telegram"))
        [kept] = await claim_due(uow.session, "telegram", alive, now, lease, 1)
        [away] = await claim_due(uow.session, "telegram", elsewhere, now, lease, 1)
        await uow.commit()

    async with bot_api_that_never_sends(tg) as (stuck_api, asked):
        crashing = await sender_process(database_url, stuck_api, LEASE_SECONDS)
        try:
            await asyncio.wait_for(asked.wait(), 60)
        finally:
            crashing.kill()
            await asyncio.wait_for(crashing.wait(), 30)
    held = {r.id: r for r in await db.outbox(app) if r.channel == "telegram"}
    dead = {r.claimed_by for r in held.values()} - {alive, elsewhere}
    assert len(dead) == 1 and f"-{crashing.pid}-" in str(dead.pop())
    assert {r.status for r in held.values()} == {SENDING}

    restarted = await sender_process(database_url, tg.base_url, LEASE_SECONDS)
    try:
        await tg.wait_for(lambda: len(sends_per_chat(tg)) == 1, 60)
    finally:
        restarted.send_signal(signal.SIGTERM)
        await asyncio.wait_for(restarted.wait(), 30)
    rows = {r.id: r for r in await db.outbox(app) if r.channel == "telegram"}
    assert sum(sends_per_chat(tg).values()) == 1
    assert (rows[kept.message.id].status, rows[kept.message.id].claimed_by) == (SENDING, alive)
    assert (rows[away.message.id].status, rows[away.message.id].claimed_by) == (SENDING, elsewhere)
    assert [r.status for r in rows.values()].count(SENT) == 1
