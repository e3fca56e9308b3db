"""`GET /healthz` as a load balancer or an operator reads it: ok, degraded while people's
replies and notices wait too long to be sent (still 200), down (503) without the database."""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.bootstrap import build_app
from bot.settings import DatabaseSettings, Settings
from bot.web import build_web
from handlers.messages import Reply
from models.outbox import notify_identity
from models.people import person_of
from models.uow import UnitOfWork
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, LocalServer
from tests.telegram_bot import Running, running_jbl

# Nothing listens on port 1: a database that does not answer.
NO_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/jbl"


async def health(jbl: Running | LocalServer) -> httpx.Response:
    base = jbl.base if isinstance(jbl, Running) else jbl.url
    async with httpx.AsyncClient() as client:
        return await client.get(f"{base}/healthz")


async def test_replies_waiting_longer_than_lag_degraded_s_make_health_degraded(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    # One send every two seconds: the rows queued below wait for minutes of real time, so
    # the sender has claimed only the first few when the health is asked.
    async with running_jbl(database_url, clock, tg, rate_per_s=0.5) as jbl:
        budi = tg.user(1001, "Budi")
        await budi.wait_for_reply(budi.send("/start"))
        async with UnitOfWork(jbl.app.sessions) as uow:
            person = await person_of(uow.session, "telegram:1001")
            assert person is not None
            notices = [Reply(f"kabar {n}").to_json() for n in range(40)]
            now = clock()
            await notify_identity(uow.session, person.id, "telegram:1001", "reply", notices, now)
            await uow.commit()
        fresh = await health(jbl)
        clock.advance(timedelta(seconds=59))
        within = await health(jbl)
        clock.advance(timedelta(seconds=31))
        late = await health(jbl)

    assert (fresh.status_code, fresh.json()["status"], fresh.json()["outbox"]) == (200, "ok", "ok")
    assert (within.status_code, within.json()["status"]) == (200, "ok")
    assert late.status_code == 200
    assert late.json() == {
        "status": "degraded",
        "database": "ok",
        "telegram": "up",
        "outbox": "lagging",
        "reason": "the oldest telegram reply or notice due has waited 90 s"
        " (over [http] lag_degraded_s = 60)",
    }


async def test_without_the_database_health_is_down_and_metrics_say_so(clock: Clock) -> None:
    app = build_app(Settings(database=DatabaseSettings(url=NO_DATABASE)), clock)
    try:
        async with LocalServer(build_web(app.engine, [], None, None, app.metrics)) as server:
            down = await health(server)
            async with httpx.AsyncClient() as client:
                scraped = await client.get(f"{server.url}/metrics")
    finally:
        await app.close()
    assert down.status_code == 503
    assert down.json() == {"status": "down", "database": "unreachable"}
    assert scraped.status_code == 200
    assert "jbl_metrics_database_read 0.0" in scraped.text
    assert "jbl_outbox_rows" not in scraped.text
