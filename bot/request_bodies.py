"""Request bodies read with a cap, for the platforms' webhooks.

A body longer than its endpoint takes is refused as soon as that is known: from its
Content-Length before anything is read, or from the chunks read so far when it comes chunked.
So a hostile body costs the cap in memory, never its own size.
"""

from __future__ import annotations

from starlette.types import Receive, Scope


class BodyRefused(Exception):
    """The body cannot be taken; `status` says why, as the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body if it is at most `limit` bytes; else `BodyRefused` (413), raised before
    reading when the Content-Length says so, or at the first chunk past the limit."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():
                raise BodyRefused(400, "a Content-Length that is no length")
            if int(value) > limit:
                raise BodyRefused(413, f"a body of {int(value)} bytes (at most {limit})")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise BodyRefused(400, "the client went away during the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413, f"a body longer than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
