"""A round-robin HTTP proxy in a process of its own, as nginx is in front of N `jbl run`s.

    python -m benchmarks.harness.proxy PORT UPSTREAM [UPSTREAM …]

In a process of its own so that the webhooks and status callbacks it passes take no time from
the benchmark's driver, whose event loop also stamps what reaches the fake platforms.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Sequence

import aiohttp
from aiohttp import web

from tests.telegram_bot import free_port


class Proxy:
    """Round robin over the upstreams, each request to the next."""

    def __init__(self, upstreams: Sequence[str]) -> None:
        self.upstreams = list(upstreams)
        self._turn = 0
        self._client: aiohttp.ClientSession | None = None

    async def serve(self, port: int, stop: asyncio.Event) -> None:
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200), timeout=aiohttp.ClientTimeout(total=30)
        )
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{path:.*}", self._forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port).start()
            await stop.wait()
        finally:
            await runner.cleanup()
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        upstream = self.upstreams[self._turn % len(self.upstreams)]
        self._turn += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._client.request(
            request.method, upstream + request.path_qs, data=await request.read(), headers=headers
        ) as answer:
            body = await answer.read()
            kept = {
                k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "location")
            }
            return web.Response(status=answer.status, body=body, headers=kept)


@contextlib.asynccontextmanager
async def proxy_process(upstreams: Sequence[str]) -> AsyncIterator[str]:
    """A proxy process over `upstreams` until the block ends; yields its base URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.harness.proxy", str(port), *upstreams
    )
    try:
        async with asyncio.timeout(30):
            while True:
                if process.returncode is not None:
                    raise SystemExit(f"the proxy ended with {process.returncode}")
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                else:
                    writer.close()
                    break
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await process.wait()


async def _main(port: int, upstreams: list[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await Proxy(upstreams).serve(port, stop)


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1]), sys.argv[2:]))
