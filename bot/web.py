"""The HTTP side of `jbl run`: health for the operator, webhooks for the platforms, and the
staff web console."""

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
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from bot.admin.console import PREFIX
from bot.file_links import files_route
from bot.metrics import Metrics, metrics_route
from bot.request_bodies import BodyRefused, read_body
from bot.whatsapp.webhook import TwilioEndpoints
from models.db import ping
from models.uow import once_more_if_disconnected

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.telegram.channel import TelegramChannel
    from bot.whatsapp.channel import WhatsappChannel

log = logging.getLogger(__name__)

# Telegram's updates are small: a message's text is at most 4096 characters, and an update
# with the message it quotes, their entities and a button's message is tens of kilobytes.
MAX_UPDATE = 256 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Channel(Protocol):
    channel: str
    running: bool


def build_web(
    engine: AsyncEngine,
    channels: Sequence[Channel],
    telegram: TelegramChannel | None,
    whatsapp: WhatsappChannel | None = None,
    metrics: Metrics | None = None,
    console: ASGIApp | None = None,
) -> ASGIApp:
    async def healthz(_request: Request) -> Response:
        checks: dict[str, str] = {"database": await _database(engine)}
        checks |= {c.channel: "up" if c.running else "down" for c in channels}
        healthy = all(state in ("ok", "up") for state in checks.values())
        answer = {"status": "ok" if healthy else "down"} | checks
        if healthy and metrics is not None:
            # Up, but people wait for their replies: still 200, so no proxy takes it out.
            lagging = await _lagging(metrics)
            answer["outbox"] = "ok" if lagging is None else "lagging"
            if lagging is not None:
                answer |= {"status": "degraded", "reason": lagging}
        return JSONResponse(answer, status_code=200 if healthy else 503)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if metrics is not None:
        routes.append(metrics_route(metrics))
    if telegram is not None and telegram.webhook:
        routes.append(_telegram_webhook(telegram))
    if whatsapp is not None:
        # Twilio fetches a reply's file from here to send it as media.
        routes.append(files_route(whatsapp.conversation))
    if console is not None:
        routes += [
            Route(PREFIX, lambda _request: RedirectResponse(f"{PREFIX}/", status_code=308)),
            Mount(PREFIX, app=console),
        ]
    web = Starlette(routes=routes)
    # Every path is exact. Starlette would answer `/media/<anything>/` with a redirect to the
    # path without its slash, rebuilt from the request's own scheme and host: behind the TLS
    # proxy that is an http:// link carrying a file's token; 404 alike is all it gets.
    web.router.redirect_slashes = False
    return web if whatsapp is None else TwilioEndpoints(whatsapp, web)


async def _database(engine: AsyncEngine) -> str:
    try:
        async with asyncio.timeout(2):
            await once_more_if_disconnected(lambda: ping(engine), "health")
    except Exception as error:
        log.warning("health: database unreachable: %s", error)
        return "unreachable"
    return "ok"


async def _lagging(metrics: Metrics) -> str | None:
    try:
        async with asyncio.timeout(2):
            return await metrics.lagging()
    except Exception as error:
        log.warning("health: the outbox could not be read: %s", error)
        return "the outbox could not be read"


def _telegram_webhook(telegram: TelegramChannel) -> Route:
    settings = telegram.settings
    assert settings.webhook_url is not None and settings.secret_token is not None
    secret = settings.secret_token.get_secret_value().encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            log.warning("telegram webhook: refused a request without the secret token")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            update = await _update_body(request)
        except BodyRefused as refused:
            log.warning("telegram webhook: refused %s", refused.reason)
            return PlainTextResponse("not an update", status_code=refused.status)
        # Handled before answering: if this process dies first, Telegram delivers it again
        # and the update id keeps it from being handled twice.
        if not await telegram.process(update):
            return PlainTextResponse("not an update", status_code=400)
        return Response(status_code=200)

    return Route(urlsplit(settings.webhook_url).path or "/", receive, methods=["POST"])


async def _update_body(request: Request) -> dict[str, Any]:
    """The posted update as JSON, or `BodyRefused` saying why it is none."""
    body = await read_body(request.scope, request.receive, MAX_UPDATE)
    try:
        data = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8
        raise BodyRefused(400, "a body that is not JSON") from None
    except RecursionError:
        raise BodyRefused(400, "JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise BodyRefused(400, "JSON without an update_id")
    return data
