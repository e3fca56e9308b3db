"""`jbl run` with WhatsApp in the test's event loop, against the fake Twilio."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bot.settings import (
    DatabaseSettings,
    HttpSettings,
    Settings,
    TelegramSettings,
    WhatsappSettings,
)
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio, Template
from tests.telegram_bot import TOKEN, Running, free_port, running_app

ACCOUNT_SID = "AC" + "5e1f0a2b" * 4
AUTH_TOKEN = "9c0ffee5" * 4
SENDER = "whatsapp:+622150001000"
# Where Twilio believes jbl is; the fake posts to 127.0.0.1 and signs for this, as behind a proxy.
PUBLIC_URL = "https://jbl.example.go.id"
NOTICE_TEMPLATE = "HX" + "a1" * 16
BROADCAST_TEMPLATE = "HX" + "b2" * 16
TEMPLATES = {
    NOTICE_TEMPLATE: Template("Kabar dari Jumat Beli Lokal: {{1}}"),
    BROADCAST_TEMPLATE: Template("Jumat Beli Lokal minggu ini: {{1}}"),
}


def whatsapp_settings(twilio: FakeTwilio, **settings: Any) -> WhatsappSettings:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": SENDER,
        "public_url": PUBLIC_URL,
        "api_base_url": twilio.base_url,
    }
    return WhatsappSettings(**(values | settings))


@contextlib.asynccontextmanager
async def running_whatsapp(
    database_url: str, clock: Any, twilio: FakeTwilio, **whatsapp: Any
) -> AsyncIterator[Running]:
    """`jbl run` with the demo catalog and WhatsApp on the fake Twilio, whose webhooks reach
    it; stopped as SIGTERM would stop it when the block ends."""
    async with _running(database_url, clock, twilio, whatsapp_settings(twilio, **whatsapp)) as jbl:
        yield jbl


@contextlib.asynccontextmanager
async def running_both(
    database_url: str, clock: Any, tg: FakeTelegram, twilio: FakeTwilio, **sections: Any
) -> AsyncIterator[Running]:
    """`jbl run` with Telegram on the fake Bot API and WhatsApp on the fake Twilio at once, and
    any other sections of the settings (`catalog=…`, `media=…`)."""
    telegram = TelegramSettings(token=TOKEN, api_base_url=tg.base_url)
    async with _running(
        database_url, clock, twilio, whatsapp_settings(twilio), telegram=telegram, **sections
    ) as jbl:
        yield jbl


@contextlib.asynccontextmanager
async def _running(
    database_url: str,
    clock: Any,
    twilio: FakeTwilio,
    whatsapp: WhatsappSettings,
    **sections: Any,
) -> AsyncIterator[Running]:
    port = free_port()
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        http=HttpSettings(port=port),
        whatsapp=whatsapp,
        **sections,
    )
    twilio.connect(f"http://127.0.0.1:{port}", PUBLIC_URL)
    async with running_app(settings, clock) as running:
        yield running
