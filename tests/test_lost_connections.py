"""PostgreSQL drops jbl's connections (a restart, a failover, a proxy's idle timeout): the next
message on each dropped connection is answered as usual, and the log has no traceback."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from sqlalchemy import text

from models.db import create_engine
from tests.conftest import PG_URL, Clock
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import running_jbl

pytestmark = pytest.mark.skipif(not PG_URL, reason="pg_terminate_backend is PostgreSQL's")


async def terminate_other_connections(url: str) -> int:
    """Ends every other server process on the database, as a server restart would."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            ended = await connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(ended.scalar_one())
    finally:
        await engine.dispose()


async def test_after_the_server_drops_every_connection_the_next_messages_are_answered(
    database_url: str, clock: Clock, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    people = [tg.user(2000 + n, f"Warga {n}") for n in range(6)]
    async with running_jbl(database_url, clock, tg) as jbl:
        # Several chats at once, so that the pool holds several connections.
        updates = [person.send("/start") for person in people]
        await asyncio.gather(
            *(p.wait_for_reply(u, timeout=60) for p, u in zip(people, updates, strict=True))
        )
        assert await terminate_other_connections(database_url) >= 2

        updates = [person.send("/bantuan") for person in people]
        answers = await asyncio.gather(
            *(p.wait_for_reply(u, timeout=60) for p, u in zip(people, updates, strict=True))
        )
        for answer in answers:
            assert "Cara memakai" in (answer.text or ""), answer.text
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{jbl.base}/healthz")
        assert health.json()["database"] == "ok"
        # Once more after the health check's own connection was dropped.
        await terminate_other_connections(database_url)
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{jbl.base}/healthz")
        assert health.status_code == 200, health.json()
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "connection was lost" in caplog.text
