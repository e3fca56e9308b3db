"""python-telegram-bot's HTTP layer on aiohttp, sending JSON bodies."""

from __future__ import annotations

import io
import json

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


class JsonRequest(BaseRequest):
    """Posts each Bot API call as `application/json` (Telegram takes it for every method)
    through an aiohttp connection pool.

    PTB's own `HTTPXRequest` posts a form, percent-encoding a menu's text and keyboard byte by
    byte, and httpx spends several times aiohttp's CPU per call: that decides how fast one
    process can send a broadcast (`python -m benchmarks.outbox`; docs/decisions/0012). PTB still
    builds the parameters and turns Telegram's
    answers and errors into its exceptions (`BaseRequest.post`); only the transport differs.
    """

    def __init__(self, connections: int, timeout: float = 5.0) -> None:
        self._connections = connections
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Built here, inside the running loop, as aiohttp wants.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=None, connect=self._timeout),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
        write_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
        connect_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
        pool_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            await self.initialize()
        assert self._session is not None
        # aiohttp has no separate write or pool timeouts: waiting for a pooled connection
        # counts as connecting, and writing the small bodies of the Bot API as reading.
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=_given(connect_timeout, self._timeout),
            sock_read=_given(read_timeout, self._timeout),
        )
        try:
            async with self._session.request(
                method, url, timeout=timeout, **_body(request_data)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> dict[str, object]:
    if request_data is None:
        return {"data": b"", "headers": _JSON}
    if not request_data.contains_files:
        body = json.dumps(request_data.parameters, ensure_ascii=False, separators=(",", ":"))
        return {"data": body.encode(), "headers": _JSON}
    # Uploads go as multipart/form-data, as PTB sends them.
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        # As a stream: aiohttp warns of bytes over a megabyte (a chart, a spreadsheet).
        stream = io.BytesIO(content) if isinstance(content, bytes) else content
        form.add_field(name, stream, filename=filename, content_type=mime_type)
    return {"data": form}


def _given(value: float | None, default: float | None) -> float | None:
    return default if value is BaseRequest.DEFAULT_NONE else value
