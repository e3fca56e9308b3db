"""The HTTP side of `jbl run`: health for the operator, webhooks for the platforms."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from bot.whatsapp.webhook import TwilioEndpoints
from models.db import ping

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.telegram.channel import TelegramChannel
    from bot.whatsapp.channel import WhatsappChannel

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Channel(Protocol):
    channel: str
    running: bool


def build_web(
    engine: AsyncEngine,
    channels: Sequence[Channel],
    telegram: TelegramChannel | None,
    whatsapp: WhatsappChannel | None = None,
) -> ASGIApp:
    async def healthz(_request: Request) -> Response:
        checks = {"database": await _database(engine)}
        checks |= {c.channel: "up" if c.running else "down" for c in channels}
        healthy = all(state in ("ok", "up") for state in checks.values())
        return JSONResponse(checks, status_code=200 if healthy else 503)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if telegram is not None and telegram.webhook:
        routes.append(_telegram_webhook(telegram))
    web = Starlette(routes=routes)
    return web if whatsapp is None else TwilioEndpoints(whatsapp, web)


async def _database(engine: AsyncEngine) -> str:
    try:
        async with asyncio.timeout(2):
            await ping(engine)
    except Exception as error:
        log.warning("health: database unreachable: %s", error)
        return "unreachable"
    return "ok"


def _telegram_webhook(telegram: TelegramChannel) -> Route:
    settings = telegram.settings
    assert settings.webhook_url is not None and settings.secret_token is not None
    secret = settings.secret_token.get_secret_value().encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            log.warning("telegram webhook: refused a request without the secret token")
            return PlainTextResponse("forbidden", status_code=403)
        update = await _json_body(request)
        if update is None:
            return PlainTextResponse("not an update", status_code=400)
        # Handled before answering: if this process dies first, Telegram delivers it again
        # and the update id keeps it from being handled twice.
        await telegram.process(update)
        return Response(status_code=200)

    return Route(urlsplit(settings.webhook_url).path or "/", receive, methods=["POST"])


async def _json_body(request: Request) -> dict[str, Any] | None:
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return None
    body = await request.body()
    try:
        data = json.loads(body) if len(body) <= MAX_BODY else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    return data
