"""Several `jbl run` processes, one Telegram bot: on PostgreSQL exactly one polls and another
takes over when it dies, behind a proxy any of them takes the webhook's updates, and the
webhook and command menus are set once; on SQLite a second `jbl run` is refused."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.routes import COMMAND_MENU
from models.db import create_engine
from models.leader import lock_key
from tests.conftest import PG_URL, Clock
from tests.fake_telegram import POLLING_CONFLICT, FakeTelegram, LocalServer
from tests.processes import jbl, jbl_env, jbl_output
from tests.telegram_bot import SECRET, TOKEN, free_port, running_jbl

needs_postgresql = pytest.mark.skipif(
    not PG_URL, reason="several jbl run processes share a PostgreSQL database only"
)
needs_sqlite = pytest.mark.skipif(
    PG_URL is not None, reason="the one-process lock is SQLite's; PostgreSQL takes several"
)
WEBHOOK_PATH = "/telegram/webhook"
WELCOME = "Selamat datang"
HELP = "Cara memakai"


@dataclass
class JblRun:
    """One `jbl run` process, calling the fake Telegram as `name`."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    lines: list[str] = field(default_factory=list)

    async def line_with(self, *words: str, timeout: float = 60) -> str:  # noqa: ASYNC109
        """The first line of its log holding one of `words`, waiting for it if need be."""
        async with asyncio.timeout(timeout):
            for line in self.lines:
                if any(word in line for word in words):
                    return line
            while True:
                assert self.process.stderr is not None
                raw = await self.process.stderr.readline()
                if not raw:
                    raise AssertionError(f"jbl run {self.name} ended:\n" + "".join(self.lines))
                line = raw.decode()
                self.lines.append(line)
                if any(word in line for word in words):
                    return line

    async def role(self) -> str:
        line = await self.line_with("telegram: polling", "telegram: standing by")
        return "poller" if "telegram: polling" in line else "standby"

    async def stop(self) -> str:
        """Stops it as SIGTERM does, if it still runs; its whole log."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.process.communicate(), 60)
        return "".join(self.lines) + err.decode()


async def demo_env(database_url: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment shared by the processes of one bot, the database holding the demo."""
    env = jbl_env(database_url, JBL_TELEGRAM__TOKEN=TOKEN, **settings)
    code, _, err = await jbl_output("db", "init", "--demo", env=env, cwd=tmp_path)
    assert code == 0, err
    return env


async def start(tg: FakeTelegram, env: dict[str, str], tmp_path: Path, name: str) -> JblRun:
    port = free_port()
    own = env | {"JBL_TELEGRAM__API_BASE_URL": tg.base_url_as(name), "JBL_HTTP__PORT": str(port)}
    return JblRun(name, await jbl("run", env=own, cwd=tmp_path), port)


@contextlib.asynccontextmanager
async def jbl_runs(
    tg: FakeTelegram, env: dict[str, str], tmp_path: Path, *names: str
) -> AsyncIterator[list[JblRun]]:
    """`jbl run` processes started together, stopped at the end; none may log a traceback."""
    runs = list(await asyncio.gather(*(start(tg, env, tmp_path, name) for name in names)))
    logs = []
    try:
        yield runs
    finally:
        for run in runs:
            logs.append(await run.stop())
    for run, log in zip(runs, logs, strict=True):
        assert "Traceback" not in log, f"jbl run {run.name}:\n{log}"


def polled_by(tg: FakeTelegram, since: int = 0) -> set[str | None]:
    return {call.via for call in tg.calls_of("getUpdates")[since:]}


def said(tg: FakeTelegram, user_id: int, words: str) -> int:
    return sum(words in (m.text or "") for m in tg.user(user_id).bot_messages)


# ---- polling -------------------------------------------------------------------------------


@needs_postgresql
async def test_of_three_processes_one_polls_and_another_takes_over_within_10_s_of_a_kill_9(
    database_url: str, tmp_path: Path, tg: FakeTelegram
) -> None:
    env = await demo_env(database_url, tmp_path)
    people = [tg.user(3000 + n, f"Warga {n}") for n in range(4)]
    async with jbl_runs(tg, env, tmp_path, "a", "b", "c") as runs:
        roles = await asyncio.gather(*(run.role() for run in runs))
        assert sorted(roles) == ["poller", "standby", "standby"]
        poller = runs[roles.index("poller")]
        updates = [person.send("/start") for person in people]
        for person, update in zip(people, updates, strict=True):
            await person.wait_for_reply(update, timeout=30)
        assert polled_by(tg) == {poller.name}
        # Set once for the three: the menus, and the webhook's deletion by the poller.
        assert len(tg.calls_of("setMyCommands")) == len(COMMAND_MENU) + 1
        assert [c.via for c in tg.calls_of("deleteWebhook")] == [poller.name]

        poller.process.kill()
        await poller.process.wait()
        since = len(tg.calls_of("getUpdates"))
        asked = people[0].send("/bantuan")
        await tg.wait_for(
            lambda: bool(polled_by(tg, since) - {poller.name}),
            timeout=10,
            what="another process polling within 10 s of the poller's kill -9",
        )
        assert HELP in ((await people[0].wait_for_reply(asked, timeout=30)).text or "")
        taken_over = polled_by(tg, since) - {poller.name}
        assert len(taken_over) == 1
        again = people[1].send("/bantuan")
        await people[1].wait_for_reply(again, timeout=30)
        # Only the killed poller's last long poll was ended by a newer one.
        conflicts = [c for c in tg.calls_of("getUpdates") if c.error == POLLING_CONFLICT]
        assert {c.via for c in conflicts} <= {poller.name}
    for person in people:
        assert said(tg, person.chat_id, WELCOME) == 1
    assert said(tg, people[0].chat_id, HELP) == 1
    assert said(tg, people[1].chat_id, HELP) == 1


async def advisory_lock_holders(url: str) -> list[int]:
    """The server processes holding the poller's advisory lock on the database (senders and
    scheduled jobs hold advisory locks of their own for moments)."""
    # pg_locks shows a one-bigint key as its high and low 32 bits, with objsubid 1.
    key = lock_key(f"telegram polling {TOKEN.split(':')[0]}") & 0xFFFF_FFFF_FFFF_FFFF
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                    " WHERE l.locktype = 'advisory' AND l.granted"
                    " AND d.datname = current_database() AND l.objsubid = 1"
                    " AND l.classid::bigint = :high AND l.objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFF_FFFF},
            )
            return [int(pid) for pid in rows.scalars()]
    finally:
        await engine.dispose()


async def terminate(url: str, pid: int) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await engine.dispose()


@needs_postgresql
async def test_a_poller_whose_lock_connection_is_lost_stops_polling_and_one_polls_again(
    database_url: str, tmp_path: Path, tg: FakeTelegram
) -> None:
    env = await demo_env(database_url, tmp_path)
    budi = tg.user(3100, "Budi")
    async with jbl_runs(tg, env, tmp_path, "a", "b") as runs:
        roles = await asyncio.gather(*(run.role() for run in runs))
        poller = runs[roles.index("poller")]
        await budi.wait_for_reply(budi.send("/start"), timeout=30)
        (holder,) = await advisory_lock_holders(database_url)
        await terminate(database_url, holder)
        await poller.line_with("stopped polling", timeout=30)
        # Whichever process took the lock next answers, and only one polls at a time.
        asked = budi.send("/bantuan")
        assert HELP in ((await budi.wait_for_reply(asked, timeout=30)).text or "")
        assert len(await advisory_lock_holders(database_url)) == 1
    assert said(tg, budi.chat_id, WELCOME) == 1
    assert said(tg, budi.chat_id, HELP) == 1


# ---- webhook -------------------------------------------------------------------------------


class Proxy:
    """A reverse proxy in front of the processes: each webhook POST goes to the next one."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.forwarded: dict[int, int] = dict.fromkeys(ports, 0)
        self._next = itertools.cycle(ports)
        self._client = httpx.AsyncClient(timeout=30)
        self.server = LocalServer(
            Starlette(routes=[Route(WEBHOOK_PATH, self._forward, methods=["POST"])])
        )

    async def _forward(self, request: Request) -> Response:
        port = next(self._next)
        self.forwarded[port] += 1
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        answer = await self._client.post(
            f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            content=await request.body(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )
        return Response(answer.content, status_code=answer.status_code)

    async def __aenter__(self) -> Proxy:
        await self.server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.server.stop()
        await self._client.aclose()


@needs_postgresql
async def test_two_processes_behind_a_proxy_answer_every_webhook_update_once_and_set_it_once(
    database_url: str, tmp_path: Path, tg: FakeTelegram
) -> None:
    ports = [free_port(), free_port()]
    async with Proxy(ports) as proxy:
        env = await demo_env(
            database_url,
            tmp_path,
            JBL_TELEGRAM__WEBHOOK_URL=f"{proxy.server.url}{WEBHOOK_PATH}",
            JBL_TELEGRAM__SECRET_TOKEN=SECRET,
        )
        names = ["a", "b"]
        started = []
        for name, port in zip(names, ports, strict=True):
            own = env | {
                "JBL_TELEGRAM__API_BASE_URL": tg.base_url_as(name),
                "JBL_HTTP__PORT": str(port),
            }
            started.append(jbl("run", env=own, cwd=tmp_path))
        processes = await asyncio.gather(*started)
        runs = [JblRun(n, p, port) for n, p, port in zip(names, processes, ports, strict=True)]
        try:
            for run in runs:
                await run.line_with("telegram: @jbl_test_bot up (webhook)")
            people = [tg.user(3200 + n, f"Warga {n}") for n in range(4)]
            for person in people:
                await person.wait_for_reply(person.send("/start"), timeout=30)
            # Telegram delivers an update again when it missed the answer: the other process
            # gets it this time, and recognises it.
            budi = people[0]
            repeated = {
                "message": {
                    "message_id": 900,
                    "date": 1,
                    "chat": {"id": budi.chat_id, "type": "private", "first_name": "Warga 0"},
                    "from": budi.json,
                    "text": "/keranjang",
                }
            }
            await budi.wait_for_reply(tg.push_update(repeated), timeout=30)
            tg.push_update(repeated)
            await tg.wait_for(lambda: len(tg.webhook_responses) >= 6, timeout=30)
            await tg.user(3201).wait_for_reply(tg.user(3201).send("/bantuan"), timeout=30)
        finally:
            logs = [await run.stop() for run in runs]
    for run, log in zip(runs, logs, strict=True):
        assert "Traceback" not in log, f"jbl run {run.name}:\n{log}"
    assert all(count >= 3 for count in proxy.forwarded.values()), proxy.forwarded
    assert all(200 <= status < 300 for status in tg.webhook_responses)
    for n in range(4):
        assert said(tg, 3200 + n, WELCOME) == 1
    assert said(tg, 3200, "Keranjang Anda masih kosong") == 1 and said(tg, 3201, HELP) == 1
    assert len(tg.calls_of("setWebhook")) == 1
    assert len(tg.calls_of("setMyCommands")) == len(COMMAND_MENU) + 1
    assert not tg.calls_of("getUpdates")


async def test_the_webhook_and_menus_are_set_again_only_when_they_change(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with running_jbl(database_url, clock, tg, webhook=True) as first:
        assert tg.webhook is not None and tg.webhook.secret_token == SECRET
    menus = len(COMMAND_MENU) + 1
    assert len(tg.calls_of("setWebhook")) == 1 and len(tg.calls_of("setMyCommands")) == menus
    url = f"{first.base}/telegram/webhook"
    async with running_jbl(database_url, clock, tg, webhook_url=url, secret_token=SECRET):
        pass
    assert len(tg.calls_of("setWebhook")) == 1 and len(tg.calls_of("setMyCommands")) == menus
    changed = "another-secret-of-the-webhook"
    async with running_jbl(database_url, clock, tg, webhook_url=url, secret_token=changed):
        pass
    assert len(tg.calls_of("setWebhook")) == 2 and len(tg.calls_of("setMyCommands")) == menus
    assert tg.webhook is not None and tg.webhook.secret_token == changed
    # Polling deletes the webhook; the next webhook start sets it again.
    budi = tg.user(3300, "Budi")
    async with running_jbl(database_url, clock, tg):
        await budi.wait_for_reply(budi.send("/start"))
    assert tg.webhook is None
    async with running_jbl(database_url, clock, tg, webhook_url=url, secret_token=changed):
        pass
    assert len(tg.calls_of("setWebhook")) == 3 and len(tg.calls_of("setMyCommands")) == menus


# ---- SQLite --------------------------------------------------------------------------------


@needs_sqlite
async def test_a_second_jbl_run_on_one_sqlite_file_is_refused_until_the_first_is_gone(
    database_url: str, tmp_path: Path, tg: FakeTelegram
) -> None:
    env = await demo_env(database_url, tmp_path)
    database = database_url.removeprefix("sqlite+aiosqlite:///")
    first = await start(tg, env, tmp_path, "first")
    try:
        await tg.wait_for(lambda: bool(tg.calls_of("getUpdates", "first")), timeout=60)
        code, _, err = await jbl_output(
            "run", env=env | {"JBL_HTTP__PORT": str(free_port())}, cwd=tmp_path
        )
        assert code == 2
        assert err.splitlines() == [
            f"jbl: the database {database} is in use by another jbl run"
            f" (pid {first.process.pid}); SQLite serves one process: for several, use PostgreSQL"
        ]
        # Other commands still work beside it.
        code, out, err = await jbl_output("friday", "plan", env=env, cwd=tmp_path)
        assert code == 0 and out.strip(), err
    finally:
        first.process.kill()
        await first.process.wait()
    budi = tg.user(3400, "Budi")
    async with jbl_runs(tg, env, tmp_path, "second"):
        welcome = await budi.wait_for_reply(budi.send("/start"), timeout=60)
        assert WELCOME in (welcome.text or "")
