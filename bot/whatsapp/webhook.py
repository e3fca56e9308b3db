"""Twilio's requests to jbl: incoming WhatsApp messages and message status callbacks.

Each request is signed by Twilio (`X-Twilio-Signature`) over the URL it called and the form it
posted; the URL is rebuilt from `[whatsapp] public_url`, since behind a proxy the app sees
another host. A request whose signature does not hold is refused with 403 and changes nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

from bot.whatsapp.channel import STATUS_PATH, WEBHOOK_PATH

if TYPE_CHECKING:
    from bot.whatsapp.channel import WhatsappChannel

log = logging.getLogger(__name__)

# Twilio's form posts are a few kilobytes.
MAX_FORM = 64_000
# An answer that sends nothing: replies go out through the outbox.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class _Form(dict[str, str]):
    """A posted form with one value per name, as the validator asks for a name's values:
    a plain dict makes it try two other ways first, each an exception, for every name."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def whatsapp_routes(channel: WhatsappChannel) -> list[Route]:
    token = channel.settings.auth_token
    assert token is not None
    validator = RequestValidator(token.get_secret_value())

    async def signed_form(request: Request) -> dict[str, str] | None:
        """The posted form if Twilio signed it for the public URL of this path, else None."""
        if int(request.headers.get("content-length") or 0) > MAX_FORM:
            return None
        body = await request.body()
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature or len(body) > MAX_FORM:
            return None
        try:
            form = _Form(parse_qsl(body.decode(), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            return None
        query = request.url.query
        url = f"{channel.public_url}{request.url.path}" + (f"?{query}" if query else "")
        return form if validator.validate(url, form, signature) else None

    async def receive(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            log.warning("whatsapp webhook: refused a request without a valid Twilio signature")
            return PlainTextResponse("forbidden", status_code=403)
        await channel.receive(form)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def status(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            log.warning("whatsapp status: refused a request without a valid Twilio signature")
            return PlainTextResponse("forbidden", status_code=403)
        row = request.query_params.get("row", "")
        if row.isdigit() and len(row) <= 18:
            await channel.record_status(int(row), form)
        else:
            log.warning("whatsapp status: a callback for no outbox row was ignored")
        return Response(status_code=204)

    return [
        Route(WEBHOOK_PATH, receive, methods=["POST"]),
        Route(STATUS_PATH, status, methods=["POST"]),
    ]
