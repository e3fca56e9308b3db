"""Several `jbl run` processes on one database, as an operator deploys them behind a proxy,
and the proxy: it hands each Telegram webhook request to the next process in turn."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.bootstrap import build_app
from bot.settings import Settings
from scheduler.setup import STORED, JobContext, build_scheduler
from tests.fake_telegram import LocalServer
from tests.processes import jbl

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class JblProcess:
    process: asyncio.subprocess.Process
    port: int
    errors: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class RoundRobin:
    """The proxy in front of the processes: each request to a path goes to the next process
    in turn (each path taking its own turns, so a person's messages alternate whatever else
    comes), and its answer back to the platform."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = ports
        self._turns: dict[str, itertools.cycle[int]] = {}
        self._http = httpx.AsyncClient(timeout=60)
        self.app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST"])])

    async def _forward(self, request: Request) -> Response:
        turns = self._turns.setdefault(request.url.path, itertools.cycle(self._ports))
        kept = ("content-type", SECRET_HEADER.lower(), "x-twilio-signature")
        headers = {name: value for name, value in request.headers.items() if name in kept}
        answer = await self._http.request(
            request.method,
            f"http://127.0.0.1:{next(turns)}{request.url.path}",
            params=request.url.query or None,
            content=await request.body(),
            headers=headers,
        )
        kept_back = ("content-type", "content-disposition")
        back = {name: value for name, value in answer.headers.items() if name in kept_back}
        return Response(answer.content, status_code=answer.status_code, headers=back)

    async def close(self) -> None:
        await self._http.aclose()


@contextlib.asynccontextmanager
async def proxy(ports: list[int]) -> AsyncIterator[str]:
    """The proxy's URL, handing requests to the processes on `ports` in turn."""
    robin = RoundRobin(ports)
    try:
        async with LocalServer(robin.app) as server:
            yield server.url
    finally:
        await robin.close()


async def _read_errors(running: JblProcess, up: asyncio.Event) -> None:
    """Keeps the process's standard error (the pipe must not fill) and says when it is up."""
    stream = running.process.stderr
    assert stream is not None
    async for raw in stream:
        line = raw.decode(errors="replace").rstrip()
        running.errors.append(line)
        if " up (" in line:  # "telegram: @name up (webhook)": its port already listens
            up.set()


@contextlib.asynccontextmanager
async def jbl_runs(
    env: dict[str, str], ports: list[int], cwd: Path
) -> AsyncIterator[list[JblProcess]]:
    """A `jbl run` process per port, all started at once, until the block ends; then each is
    stopped by SIGTERM, and the test fails unless each stopped cleanly."""
    processes = [
        JblProcess(await jbl("run", env=env | {"JBL_HTTP__PORT": str(port)}, cwd=cwd), port)
        for port in ports
    ]
    readers = []
    try:
        for running in processes:
            up = asyncio.Event()
            reader = asyncio.create_task(_read_errors(running, up))
            readers.append(reader)
            waiting = asyncio.ensure_future(up.wait())
            await asyncio.wait([waiting, reader], timeout=60, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            assert up.is_set(), "jbl run did not come up:\n" + "\n".join(running.errors)
        yield processes
    finally:
        for running in processes:
            if running.process.returncode is None:
                running.process.send_signal(signal.SIGTERM)
        for running in processes:
            await asyncio.wait_for(running.process.wait(), 60)
        await asyncio.gather(*readers, return_exceptions=True)
    for running in processes:
        errors = "\n".join(running.errors)
        assert running.process.returncode == 0, errors
        assert "Traceback" not in errors and "ERROR" not in errors, errors


async def until(holds: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Until `holds()`: a condition in the database, looked at again shortly."""
    try:
        async with asyncio.timeout(timeout):
            while not await holds():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"waited {timeout} s for {what}") from None


async def stored_job_due(settings: Settings, job_id: str, when: datetime) -> None:
    """Stores the scheduler's jobs as `jbl run` with these settings stores them, with
    `job_id`'s next run at `when`: a process started with the same settings keeps it."""
    app = build_app(settings)
    try:
        context = JobContext(
            app.sessions,
            app.clock,
            # The sweeps' timings: their jobs live in each process's memory, not in the store.
            remind_after=timedelta(hours=2),
            expire_after=timedelta(hours=24),
            send_time=app.conversation.config.send_time,
            report_weekday=settings.reports.weekday,
            report_at=settings.reports.at,
        )
        scheduler = build_scheduler(context, settings.database.url, settings.timezone)
        scheduler.start(paused=True)
        try:
            scheduler.modify_job(job_id, jobstore=STORED, next_run_time=when)
        finally:
            scheduler.shutdown(wait=False)
    finally:
        await app.close()
