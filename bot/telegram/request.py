"""python-telegram-bot's HTTP layer, sending JSON bodies."""

from __future__ import annotations

import json

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


class JsonRequest(BaseRequest):
    """Posts each Bot API call as `application/json`, which Telegram takes for every method.

    PTB's own `HTTPXRequest` posts a form: a menu's text and keyboard percent-encoded, byte by
    byte, which cost more than the rest of a reply's send. PTB still builds the parameters
    and reads Telegram's answers and errors (`BaseRequest.post`); only the body differs.
    """

    def __init__(self, connections: int, timeout: float = 5.0) -> None:
        self._timeout = httpx.Timeout(timeout, pool=1.0)
        self._limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections
        )
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._timeout, limits=self._limits)

    @property
    def read_timeout(self) -> float | None:
        return self._timeout.read

    async def initialize(self) -> None:
        if self._client.is_closed:
            self._client = self._new_client()

    async def shutdown(self) -> None:
        if not self._client.is_closed:
            await self._client.aclose()

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
        timeout = httpx.Timeout(
            connect=_given(connect_timeout, self._timeout.connect),
            read=_given(read_timeout, self._timeout.read),
            write=_given(write_timeout, self._timeout.write),
            pool=_given(pool_timeout, self._timeout.pool),
        )
        try:
            if request_data is not None and request_data.contains_files:
                # Uploads go as multipart/form-data, as PTB sends them.
                response = await self._client.request(
                    method,
                    url,
                    files=request_data.multipart_data,
                    data=request_data.json_parameters,
                    timeout=timeout,
                )
            else:
                body = b""
                if request_data is not None:
                    body = json.dumps(
                        request_data.parameters, ensure_ascii=False, separators=(",", ":")
                    ).encode()
                response = await self._client.request(
                    method, url, content=body, headers=_JSON, timeout=timeout
                )
        except httpx.TimeoutException as error:
            raise TimedOut from error
        except httpx.HTTPError as error:
            raise NetworkError(f"httpx.{type(error).__name__}: {error}") from error
        return response.status_code, response.content


def _given(value: float | None, default: float | None) -> float | None:
    return default if value is BaseRequest.DEFAULT_NONE else value
