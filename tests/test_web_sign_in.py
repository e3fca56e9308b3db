"""Staff sign in to the web console at /admin with a single-use link from the chat (/masuk) or
from the operator (`jbl staff login-link`). A real `jbl run` with the fake Bot API; the browser
is an HTTP client that keeps cookies and sends the Origin a browser sends with a form."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Route

from bot.admin.console import PREFIX, ConsoleConfig, console_app
from bot.cli.staff import add_staff, login_link, remove_staff
from models.staff import StaffAction
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.web_console import Browser, asked_link, console_jbl, staff_form_token, staff_member


async def test_staff_sign_in_with_the_link_from_chat_and_it_works_once(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        ana = await staff_member(jbl, tg)
        link = await asked_link(ana)
        assert "10 menit" in (ana.last.text or "")

        # Opening the link does not use it (a chat app's preview fetches it too).
        await browser.get(link)
        home = await browser.sign_in(link)
        assert home.status_code == 200
        assert "Masuk sebagai Ana" in home.text
        assert "Keluar" in home.text
        cookie = next(c for c in browser.client.cookies.jar if c.name == "jbl_staff")
        assert cookie.path == PREFIX and cookie.has_nonstandard_attr("HttpOnly")

        async with Browser(jbl) as other:
            again = await other.sign_in(link)
            assert again.status_code == 400
            assert "sudah dipakai, kedaluwarsa" in again.text
            assert (await other.get(f"{PREFIX}/")).status_code == 401

        async with jbl.app.sessions() as session:
            asked = await session.scalar(
                select(StaffAction).where(StaffAction.action == "web_link")
            )
        assert asked is not None and asked.actor == f"telegram:{ana.id}"


async def test_a_link_expires_after_ten_minutes(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        ana = await staff_member(jbl, tg)
        link = await asked_link(ana, "/login")
        clock.advance(timedelta(minutes=10, seconds=1))
        refused = await browser.sign_in(link)
        assert refused.status_code == 400
        assert (await browser.get(f"{PREFIX}/")).status_code == 401


async def test_residents_get_no_link_and_the_sign_in_page_tells_how(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        budi = tg.user(1001, "Budi")
        await budi.wait_for_reply(budi.send("/masuk"))
        assert "tidak dikenal" in (budi.last.text or "")
        assert "/admin" not in (budi.last.text or "")

        page = await browser.get(f"{PREFIX}/")
        assert page.status_code == 401
        assert "Ketik /masuk di chat" in page.text


async def test_removing_the_staff_role_ends_the_session_at_once(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        ana = await staff_member(jbl, tg)
        unused = await asked_link(ana)
        await browser.sign_in(await asked_link(ana))
        assert (await browser.get(f"{PREFIX}/")).status_code == 200

        await remove_staff(jbl.app, f"telegram:{ana.id}")
        gone = await browser.get(f"{PREFIX}/")
        assert gone.status_code == 401
        # Made staff again: what was hers before the removal stays ended.
        await add_staff(jbl.app, f"telegram:{ana.id}")
        assert (await browser.get(f"{PREFIX}/")).status_code == 401
        async with Browser(jbl) as other:
            assert (await other.sign_in(unused)).status_code == 400


async def test_a_session_lasts_session_hours(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with (
        console_jbl(database_url, clock, tg, session_hours=2) as jbl,
        Browser(jbl) as browser,
    ):
        ana = await staff_member(jbl, tg)
        await browser.sign_in(await asked_link(ana))
        clock.advance(timedelta(hours=1, minutes=59))
        assert (await browser.get(f"{PREFIX}/")).status_code == 200
        clock.advance(timedelta(minutes=2))
        assert (await browser.get(f"{PREFIX}/")).status_code == 401


async def test_a_form_without_its_token_or_from_elsewhere_is_refused(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        csrf = await staff_form_token(jbl, tg, browser)

        without = await browser.post(f"{PREFIX}/keluar", {})
        forged = await browser.post(f"{PREFIX}/keluar", {"csrf": "x" * len(csrf)})
        elsewhere = await browser.post(f"{PREFIX}/keluar", {"csrf": csrf}, origin=False)
        for refused in (without, forged, elsewhere):
            assert refused.status_code == 403
            assert "Formulir ini tidak berlaku lagi" in refused.text
        assert (await browser.get(f"{PREFIX}/")).status_code == 200

        out = await browser.post(f"{PREFIX}/keluar", {"csrf": csrf})
        assert out.status_code == 200 and "Anda sudah keluar" in out.text
        assert (await browser.get(f"{PREFIX}/")).status_code == 401


async def test_the_operator_prints_a_link_for_staff_only(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        ana = await staff_member(jbl, tg)
        printed = await login_link(jbl.app, f"telegram:{ana.id}")
        assert "(single use, until" in printed
        home = await browser.sign_in(printed.splitlines()[0])
        assert "Masuk sebagai Ana" in home.text
        with pytest.raises(LookupError, match="is not staff"):
            await login_link(jbl.app, "telegram:1001")


async def test_without_a_public_address_staff_are_told_who_can_set_it(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg, public_url=None) as jbl:
        ana = await staff_member(jbl, tg)
        await ana.wait_for_reply(ana.send("/masuk"))
        assert "[web] public_url" in (ana.last.text or "")
        with pytest.raises(LookupError, match="JBL_WEB__PUBLIC_URL"):
            await login_link(jbl.app, f"telegram:{ana.id}")


async def test_every_page_without_a_session_is_the_sign_in_page(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    # The routes come from the console itself: a page added later is checked too.
    config = ConsoleConfig(None, clock, 12, None, None, "id", None)  # type: ignore[arg-type]
    routes = [r for r in console_app(config).router.routes if isinstance(r, Route)]
    public = {f"{PREFIX}/masuk/{{token}}", f"{PREFIX}/masuk"}
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        checked = []
        for route in routes:
            path = f"{PREFIX}{route.path}"
            if path in public:
                continue
            for method in sorted(route.methods or {"GET"}):
                if method == "HEAD":
                    continue
                url = f"{jbl.base}{path.replace('{', '').replace('}', '')}"
                answer = await browser.client.request(
                    method, url, headers={"Origin": jbl.base}, data={"csrf": "x"}
                )
                assert answer.status_code == 401, (method, path)
                assert "Masuk ke konsol staf" in answer.text, (method, path)
                checked.append((method, path))
        for stray in ("/admin/nothing", "/admin/masuk/x/y", "/admin//"):
            answer = await browser.get(stray)
            assert answer.status_code == 401, stray
        bare = await browser.get("/admin")
        assert bare.status_code == 401 and "Masuk ke konsol staf" in bare.text
    assert ("GET", f"{PREFIX}/") in checked and ("POST", f"{PREFIX}/keluar") in checked


async def test_the_cookie_is_secure_when_the_console_is_at_an_https_address(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    public = "https://konsol.jbl.example"
    async with console_jbl(database_url, clock, tg, public_url=public) as jbl:
        ana = await staff_member(jbl, tg)
        link = await asked_link(ana, pattern=r"(https://\S+/admin/masuk/(\S+))")
        token = link.rsplit("/", 1)[1]
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{jbl.base}{PREFIX}/masuk", data={"token": token}, headers={"Origin": public}
            )
        cookie = answer.headers["set-cookie"]
        assert answer.status_code == 303
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_a_staff_member_who_chats_in_english_gets_the_console_in_english(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        ana = await staff_member(jbl, tg)
        await ana.wait_for_reply(ana.send("/language"))
        await ana.wait_for_reply(ana.press("🇬🇧 English"))
        link = await asked_link(ana, "/login")
        assert "valid for 10 minutes" in (ana.last.text or "")
        home = await browser.sign_in(link)
        assert "Signed in as Ana" in home.text and "Sign out" in home.text
        fridays = await browser.get(f"{PREFIX}/jumat")
        assert "Friday plan" in fridays.text and "Friday, 27 November 2026" in fridays.text
        # Before signing in, the browser's language decides.
        async with Browser(jbl) as stranger:
            english = await stranger.client.get(
                f"{jbl.base}{PREFIX}/", headers={"Accept-Language": "en-US,en;q=0.9"}
            )
            assert "Sign in to the staff console" in english.text
