"""The web console in a real browser: Debian's Chromium, driven through ChromeDriver, against a
real `jbl run`. Staff sign in with a link from the chat (and see it refused when reused or
expired), list and reject products, plan a Friday, pause and resume a running broadcast,
download the results' spreadsheet and open it; a form posted without its token is refused.
Each page is saved as a screenshot under the test's temporary folder."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from bot.admin.console import PREFIX
from bot.cli.friday import this_friday
from models.friday import FridayEdition
from tests import db
from tests.chromium import Chromium, ensure_chromium
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.test_curation import OPERATOR, add_product
from tests.test_paid_broadcast import subscribed
from tests.test_search import found
from tests.test_web_broadcast import broadcast_state, started
from tests.web_console import asked_link, console_jbl, staff_member


@pytest.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[Chromium]:
    ensure_chromium()
    shots, downloads = tmp_path / "screenshots", tmp_path / "downloads"
    shots.mkdir()
    downloads.mkdir()
    browser = Chromium(shots, downloads)
    try:
        yield browser
    finally:
        browser.quit()


async def sign_in(chromium: Chromium, link: str) -> str:
    """Opens the link and presses Masuk; the page that answers."""
    await chromium.open(link)
    await chromium.click_text("Masuk")
    return await chromium.until_text("Masuk sebagai", "Tautan ini tidak bisa dipakai")


async def test_staff_sign_in_in_the_browser_and_a_used_or_expired_link_is_refused(
    database_url: str, clock: Clock, tg: FakeTelegram, chromium: Chromium
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl:
        ana = await staff_member(jbl, tg)
        await chromium.open(f"{jbl.base}{PREFIX}/")
        assert "Ketik /masuk di chat" in await chromium.text()
        await chromium.screenshot("sign-in-page")

        link = await asked_link(ana)
        await chromium.open(link)
        await chromium.screenshot("sign-in-link")
        await chromium.click_text("Masuk")
        assert "Masuk sebagai Ana" in await chromium.until_text("Masuk sebagai Ana")
        await chromium.screenshot("home")

        again = await sign_in(chromium, link)
        assert "Tautan ini tidak bisa dipakai" in again
        await chromium.screenshot("link-used")

        late = await asked_link(ana)
        clock.advance(timedelta(minutes=11))
        assert "Tautan ini tidak bisa dipakai" in await sign_in(chromium, late)


async def test_staff_review_plan_download_and_a_tokenless_form_is_refused(
    database_url: str, clock: Clock, tg: FakeTelegram, chromium: Chromium
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl:
        penjual = Chatter(jbl.app, OPERATOR)
        budi = Chatter(jbl.app, "console:budi")
        await add_product(penjual, "Kue Ape Jadul")
        clock.advance(timedelta(minutes=1))
        await add_product(penjual, "Bika Ambon Medan")
        ana = await staff_member(jbl, tg)
        await sign_in(chromium, await asked_link(ana))

        # Review: list one, reject the other with a reason.
        await chromium.open(f"{jbl.base}{PREFIX}/kurasi")
        await chromium.until_text("2 produk menunggu")
        await chromium.screenshot("review")
        ape = await db.product(jbl.app, "Kue Ape Jadul")
        await chromium.click(f"#p{ape.id} button[value='approve']")
        await chromium.until_text("✅ Kue Ape Jadul tayang di katalog.")
        await budi.send("/cari kue ape")
        assert found(budi) == ["Kue Ape Jadul"]

        bika = await db.product(jbl.app, "Bika Ambon Medan")
        await chromium.type(f"#p{bika.id} textarea[name='note']", "Bukan produk buatan sendiri.")
        await chromium.click(f"#p{bika.id} button[value='reject']")
        await chromium.until_text("❌ Bika Ambon Medan ditolak.")
        await penjual.read_notices()
        assert "Bukan produk buatan sendiri." in penjual.text

        # A Friday's category.
        await chromium.open(f"{jbl.base}{PREFIX}/jumat")
        form = f"form[action='{PREFIX}/jumat/2026-12-04']"
        await chromium.choose(f"{form} select[name='category']", "Produk Kesehatan")
        await chromium.click(f"{form} button")
        await chromium.until_text("Rencana Jumat, 4 Desember 2026 disimpan.")
        await chromium.screenshot("friday-plan")
        async with jbl.app.sessions() as session:
            edition = await session.get(FridayEdition, this_friday(jbl.app) + timedelta(weeks=1))
        assert edition is not None and edition.category.slug == "produk-kesehatan"

        # The results' spreadsheet, downloaded and opened.
        await chromium.open(f"{jbl.base}{PREFIX}/hasil")
        await chromium.until_text("Unduh XLSX")
        await chromium.screenshot("results")
        await chromium.click_text("⬇️ Unduh XLSX")
        sheet = await chromium.downloaded(".xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(sheet.read_bytes()), read_only=True)
        assert len(workbook.sheetnames) >= 3

        # Another page's script posting a form without its token.
        status = await chromium.script(
            """const done = arguments[arguments.length - 1];
            fetch(arguments[0], {method: "POST", body: new URLSearchParams({x: "1"})})
              .then(answer => done(answer.status));""",
            f"{PREFIX}/keluar",
        )
        assert status == 403
        # The other pages, for people to look at.
        for name, path in (
            ("audit", "/audit"),
            ("picks", "/kurasi/pilihan"),
            ("shops", "/toko?cari=ibu"),
            ("shop", f"/toko/{ape.merchant_id}"),
            ("imports", "/impor"),
            ("broadcast", "/siaran"),
        ):
            await chromium.open(f"{jbl.base}{PREFIX}{path}")
            assert "Masuk sebagai Ana" in await chromium.until_text("Masuk sebagai Ana")
            await chromium.screenshot(name)

        # On a phone every page fits the screen's width; wide tables scroll within themselves.
        await chromium.run(chromium.driver.set_window_size, 390, 844)
        for path in ("/", "/hasil", "/kurasi/pilihan", "/jumat", "/toko?cari=ibu", "/audit"):
            await chromium.open(f"{jbl.base}{PREFIX}{path}")
            await chromium.until_text("Masuk sebagai Ana")
            wider = await chromium.run(
                chromium.driver.execute_script,
                "return document.documentElement.scrollWidth - window.innerWidth",
            )
            assert wider <= 0, (path, wider)
        await chromium.screenshot("phone-shops")


async def test_staff_pause_and_resume_a_running_broadcast_in_the_browser(
    database_url: str, clock: Clock, tg: FakeTelegram, chromium: Chromium
) -> None:
    async with console_jbl(database_url, clock, tg, telegram={"rate_per_s": 1}) as jbl:
        await subscribed(tg, 12)
        ana = await staff_member(jbl, tg)
        await sign_in(chromium, await asked_link(ana))
        await started(jbl.app, clock)

        await chromium.open(f"{jbl.base}{PREFIX}/siaran")
        await chromium.until_text("Status: sedang dikirim")
        await chromium.screenshot("broadcast-running")
        await chromium.click_text("⏸️ Jeda")
        await chromium.until_text("Jeda siaran?")
        assert await broadcast_state(jbl.app) == "sending"
        await chromium.click_text("Ya")
        await chromium.until_text("⏸️ Siaran dijeda.")
        assert await broadcast_state(jbl.app) == "paused"
        await chromium.screenshot("broadcast-paused")

        await chromium.click_text("▶️ Lanjutkan")
        await chromium.until_text("Lanjutkan siaran?")
        await chromium.click_text("Ya")
        await chromium.until_text("▶️ Siaran dilanjutkan.")
        assert await broadcast_state(jbl.app) == "sending"
