"""`jbl run`: every configured channel, the outbox senders and the HTTP server, one loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

import aiohttp
import uvicorn
from telegram.error import InvalidToken, TelegramError
from twilio.base.exceptions import TwilioRestException

from bot.admin.console import build_console
from bot.bootstrap import App, init_database
from bot.delivery import EVERY_ROW, FREE, PAID_BROADCAST, Limits, OutboxSender
from bot.failures import ChannelFailed
from bot.telegram.channel import PaidBroadcast, TelegramChannel
from bot.telegram.links import bot_username
from bot.web import build_web
from bot.whatsapp.channel import PER_CHAT_PER_S, WhatsappChannel
from scheduler.setup import JobContext, build_scheduler, start_scheduler, stop_scheduler

log = logging.getLogger(__name__)


class NothingToRun(Exception):
    """No channel is configured."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `jbl run` stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run(app: App, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
    """Runs until `stop` is set, then stops in order: no new updates, the fetched ones
    handled, the sends in flight finished and recorded, claimed unsent rows given back.

    `ready` is set once the channels are up and the HTTP port accepts connections.
    """
    settings = app.settings
    if settings.telegram.token is None and not settings.whatsapp.enabled:
        raise NothingToRun(
            "no channel configured: set JBL_TELEGRAM__TOKEN to run the Telegram bot, or"
            " JBL_WHATSAPP__ACCOUNT_SID, JBL_WHATSAPP__AUTH_TOKEN and JBL_WHATSAPP__FROM_NUMBER"
            " for WhatsApp, or try `jbl chat --demo` for a chat in this terminal"
        )
    await init_database(app, demo=False)
    # Before anything takes a photo it could not keep.
    await app.conversation.media.check()
    # Listening first: a webhook set at start may bring an update at once.
    try:
        listening = _listen(settings.http.host, settings.http.port)
    except OSError as error:
        raise ChannelFailed(
            f"http: cannot listen on {settings.http.host}:{settings.http.port}: {error.strerror}"
        ) from error
    telegram = whatsapp = None
    senders: list[OutboxSender] = []
    try:
        if settings.telegram.token is not None:
            telegram = await _start_telegram(app)
            senders += telegram_senders(app, telegram)
        if settings.whatsapp.enabled:
            whatsapp = await _start_whatsapp(app)
            limits = Limits(settings.whatsapp.rate_per_s, PER_CHAT_PER_S)
            sender = OutboxSender(app.sessions, whatsapp, limits, app.clock)
            whatsapp.attach(sender)
            senders.append(sender)
    except ChannelFailed:
        listening.close()
        if telegram is not None:
            await telegram.stop()
        raise
    channels = [channel for channel in (telegram, whatsapp) if channel is not None]
    app.metrics.watch(senders)
    console = build_console(app, _bot_name(app))
    web = build_web(app.engine, channels, telegram, whatsapp, app.metrics, console)
    # No proxy headers and no access log: nothing reads the client's address, and both cost
    # work on every request (three per WhatsApp message). uvicorn's lines go through jbl's
    # log, in its format (`[log] format`).
    config = uvicorn.Config(
        web,
        log_level="warning",
        log_config=None,
        lifespan="off",
        proxy_headers=False,
        access_log=False,
    )
    server = _Server(config)
    context = JobContext(
        app.sessions,
        app.clock,
        remind_after=timedelta(minutes=settings.orders.remind_after_minutes),
        expire_after=timedelta(minutes=settings.orders.expire_after_minutes),
        pay_within=timedelta(minutes=settings.orders.pay_within_minutes),
        send_time=app.conversation.config.send_time,
        files=app.conversation.files,
        report_weekday=settings.reports.weekday,
        report_at=settings.reports.at,
        demote_after_fridays=settings.catalog.demote_after_fridays,
        paid_broadcast=settings.telegram.paid_broadcast,
    )
    scheduler = build_scheduler(context, settings.database.url, settings.timezone)
    app.metrics.listen_to(scheduler)
    start_scheduler(scheduler)
    sending = [
        asyncio.create_task(sender.run(stop), name=f"outbox-{sender.transport.channel}")
        for sender in senders
    ]
    serving = asyncio.create_task(server.serve(sockets=[listening]), name="http")
    if ready is not None:
        ready.set()
    try:
        await _first_of(stop, serving)
    finally:
        stop_scheduler(scheduler)
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        if telegram is not None:
            await telegram.stop()
        if whatsapp is not None:
            await whatsapp.stop()
        stop.set()
        await asyncio.gather(*sending)
        if whatsapp is not None:
            await whatsapp.close()
        log.info("jbl stopped")


async def _start_telegram(app: App) -> TelegramChannel:
    telegram = TelegramChannel(app.settings.telegram, app.conversation, app.engine)
    try:
        await telegram.start()
    except TelegramError as error:
        await telegram.stop()
        reason = "the token was refused" if isinstance(error, InvalidToken) else "cannot start"
        raise ChannelFailed(f"telegram: {reason}: {error}") from error
    return telegram


def _bot_name(app: App) -> Callable[[], Awaitable[str | None]] | None:
    """How the web console names the Telegram bot in invite links: by asking Telegram."""
    settings = app.settings.telegram
    if settings.token is None:
        return None

    async def named() -> str | None:
        try:
            return await bot_username(settings)
        except ChannelFailed as error:
            log.warning("web console: no bot name for invite links: %s", error)
            return None

    return named


def telegram_senders(app: App, telegram: TelegramChannel) -> list[OutboxSender]:
    """Telegram's sender at the free rate; with paid broadcast on, beside it the paid
    broadcast's, at the paid rate, which takes only the rows of a broadcast sent paid."""
    settings = app.settings.telegram
    free = Limits(settings.rate_per_s, settings.per_chat_per_s)
    if not settings.paid_broadcast:
        return [OutboxSender(app.sessions, telegram, free, app.clock, EVERY_ROW)]
    paid = Limits(settings.paid_rate_per_s, settings.per_chat_per_s)
    return [
        OutboxSender(app.sessions, telegram, free, app.clock, FREE),
        OutboxSender(app.sessions, PaidBroadcast(telegram), paid, app.clock, PAID_BROADCAST),
    ]


async def _start_whatsapp(app: App) -> WhatsappChannel:
    whatsapp = WhatsappChannel(app.settings.whatsapp, app.conversation, app.whatsapp_replies)
    try:
        await whatsapp.start()
    except (TwilioRestException, aiohttp.ClientError, TimeoutError) as error:
        await whatsapp.close()
        refused = isinstance(error, TwilioRestException) and error.status in (401, 403, 404)
        reason = "the account or auth token was refused" if refused else "cannot reach Twilio"
        detail = error.msg if isinstance(error, TwilioRestException) else str(error)
        raise ChannelFailed(f"whatsapp: {reason}: {detail}") from error
    return whatsapp


async def _first_of(stop: asyncio.Event, serving: asyncio.Task[None]) -> None:
    """Waits for a stop request, or for the HTTP server to end on its own (port taken)."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([stopping, serving], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if serving.done() and not stop.is_set():
        serving.result()
        raise ChannelFailed("http: the server stopped unexpectedly")


def _listen(host: str, port: int) -> socket.socket:
    """The HTTP socket, bound here so that a taken port is a clear error, not an exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
        # Listening already: connections wait in the backlog until the server takes them.
        listening.listen(128)
    except OSError:
        listening.close()
        raise
    return listening


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
