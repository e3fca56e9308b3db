"""Twilio's requests to jbl: incoming WhatsApp messages and message status callbacks.

Each request is signed by Twilio (`X-Twilio-Signature`) over the URL it called and the form it
posted; the URL is rebuilt from `[whatsapp] public_url`, since behind a proxy the app sees
another host. A request whose signature does not hold is refused with 403 and changes nothing.

The two paths are a bare ASGI app in front of the rest of the web app: every WhatsApp message
is three requests (the webhook and two status callbacks), and Starlette's middleware, routing,
request and response objects cost about as much as the signature check and the form for each.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send
from twilio.request_validator import RequestValidator

from bot.request_bodies import BodyRefused, read_body
from bot.whatsapp.channel import STATUS_PATH, WEBHOOK_PATH
from models.base import NO_ID, id_from_text

if TYPE_CHECKING:
    from bot.whatsapp.channel import WhatsappChannel

log = logging.getLogger(__name__)

# Twilio's form posts are a few kilobytes: a WhatsApp message's text is at most 4096
# characters, percent-encoded at most nine bytes each, with a few dozen short fields.
MAX_FORM = 64_000
SIGNATURE = b"x-twilio-signature"
# An answer that sends nothing: replies go out through the outbox.
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class _Form(dict[str, str]):
    """A posted form with one value per name, as the validator asks for a name's values:
    a plain dict makes it try two other ways first, each an exception, for every name."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


class TwilioEndpoints:
    """`POST /whatsapp/webhook` and `POST /whatsapp/status`; any other request goes on to
    `then` (the Starlette app of the other routes)."""

    def __init__(self, channel: WhatsappChannel, then: ASGIApp) -> None:
        token = channel.settings.auth_token
        assert token is not None
        self.channel = channel
        self.then = then
        self._validator = RequestValidator(token.get_secret_value())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path != WEBHOOK_PATH and path != STATUS_PATH:
            await self.then(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _answer(send, 405, b"method not allowed", b"text/plain", [(b"allow", b"POST")])
            return
        query = scope["query_string"].decode("latin-1")
        try:
            form = await self._signed_form(scope, receive, query)
        except BodyRefused as refused:
            log.warning("whatsapp %s: refused %s", path, refused.reason)
            await _answer(send, refused.status, refused.reason.encode(), b"text/plain")
            return
        if path == WEBHOOK_PATH:
            await self.channel.receive(form)
            await _answer(send, 200, EMPTY_TWIML, b"text/xml")
        else:
            await self._status(query, form)
            await _answer(send, 204)

    async def _signed_form(self, scope: Scope, receive: Receive, query: str) -> dict[str, str]:
        """The posted form if Twilio signed it for the public URL of this path, else
        `BodyRefused`: 403 unsigned, 413 too long, 400 not a form."""
        headers = dict(scope["headers"])
        signature = headers.get(SIGNATURE, b"").decode("latin-1")
        if not signature:
            raise BodyRefused(403, "a request without a Twilio signature")
        body = await read_body(scope, receive, MAX_FORM)
        try:
            form = _Form(parse_qsl(body.decode(), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            raise BodyRefused(400, "a form that is not UTF-8") from None
        url = f"{self.channel.public_url}{scope['path']}" + (f"?{query}" if query else "")
        # Twilio signs the URL it called; `validate` computes two signatures every time, with
        # and without the port, for URLs signed the other way. The exact one comes first.
        computed = self._validator.compute_signature(url, form).encode()
        exact = hmac.compare_digest(computed, signature.encode("latin-1"))
        if not (exact or self._validator.validate(url, form, signature)):
            raise BodyRefused(403, "a request without a valid Twilio signature")
        return form

    async def _status(self, query: str, form: dict[str, str]) -> None:
        row = id_from_text(dict(parse_qsl(query)).get("row", ""))
        if row != NO_ID:
            await self.channel.record_status(row, form)
        else:
            log.warning("whatsapp status: a callback for no outbox row was ignored")


async def _answer(
    send: Send,
    status: int,
    body: bytes = b"",
    media_type: bytes | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-length", str(len(body)).encode()), *(extra or [])]
    if media_type is not None:
        headers.append((b"content-type", media_type + b"; charset=utf-8"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
