"""The staff web console as a test drives it: `jbl run` with the console at its own HTTP
address, a browser that keeps the cookie and posts forms with their page's Origin, and a staff
member who asks for a sign-in link in chat."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bot.admin.console import PREFIX
from bot.cli.staff import add_staff
from bot.settings import DatabaseSettings, HttpSettings, Settings, TelegramSettings, WebSettings
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, TelegramUser
from tests.telegram_bot import TOKEN, Running, free_port, running_app

LINK = re.compile(r"(http://\S+/admin/masuk/\S+)")


@contextlib.asynccontextmanager
async def console_jbl(
    database_url: str,
    clock: Clock,
    tg: FakeTelegram,
    telegram: dict[str, Any] | None = None,
    **web: Any,
) -> AsyncIterator[Running]:
    """`jbl run` whose web console is at its own HTTP address; `telegram`: more of its
    Telegram settings."""
    port = free_port()
    web.setdefault("public_url", f"http://127.0.0.1:{port}")
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        http=HttpSettings(port=port),
        telegram=TelegramSettings(token=TOKEN, api_base_url=tg.base_url, **(telegram or {})),
        web=WebSettings(**web),
    )
    async with running_app(settings, clock) as running:
        yield running


class Browser:
    """Keeps the console's cookie as a browser does, and posts forms as one: with the Origin
    of the page the form is on."""

    def __init__(self, jbl: Running) -> None:
        self.base = jbl.base
        self.client = httpx.AsyncClient(follow_redirects=True)

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    async def get(self, path_or_url: str) -> httpx.Response:
        url = path_or_url if path_or_url.startswith("http") else f"{self.base}{path_or_url}"
        return await self.client.get(url)

    async def post(self, path: str, form: dict[str, str], origin: bool = True) -> httpx.Response:
        headers = {"Origin": self.base} if origin else {}
        return await self.client.post(f"{self.base}{path}", data=form, headers=headers)

    async def sign_in(self, link: str) -> httpx.Response:
        """Opens the link and presses Sign in."""
        page = await self.get(link)
        assert page.status_code == 200, page.text
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token is not None, page.text
        return await self.post(f"{PREFIX}/masuk", {"token": token.group(1)})

    def csrf(self, page: httpx.Response) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None, page.text
        return found.group(1)


async def asked_link(person: TelegramUser, command: str = "/masuk", pattern: str = "") -> str:
    """The sign-in link the bot answers `command` with."""
    await person.wait_for_reply(person.send(command))
    found = (
        re.search(pattern, person.last.text or "")
        if pattern
        else LINK.search(person.last.text or "")
    )
    assert found is not None, person.last.text
    return found.group(1)


async def staff_member(jbl: Running, tg: FakeTelegram) -> TelegramUser:
    ana = tg.user(7001, "Ana")
    await ana.wait_for_reply(ana.send("/start"))
    await add_staff(jbl.app, f"telegram:{ana.id}")
    return ana


async def signed_in_staff(jbl: Running, tg: FakeTelegram, browser: Browser) -> httpx.Response:
    """Ana, made staff, signs in with a link from the chat; the console's home page."""
    ana = await staff_member(jbl, tg)
    return await browser.sign_in(await asked_link(ana))


async def staff_form_token(jbl: Running, tg: FakeTelegram, browser: Browser) -> str:
    """Ana, made staff, signs in; the form token of her session."""
    return browser.csrf(await signed_in_staff(jbl, tg, browser))
