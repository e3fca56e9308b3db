"""Staff find shops in the web console by name, Jakpreneur id, kota or kecamatan, and open one:
its operators, its products and their states, its last four Fridays, and an invite for a new
operator whose code works in chat."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.admin.console import PREFIX
from models.catalog import Merchant
from models.staff import StaffAction
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.test_results import FRIDAY_0001, KLEPON, _order
from tests.test_web_audit import rows
from tests.web_console import Browser, console_jbl, signed_in_staff

SHOPS = f"{PREFIX}/toko"


async def test_staff_find_a_shop_see_its_page_and_invite_an_operator_who_joins_in_chat(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        await _order(clock, Chatter(jbl.app, "console:ani"), FRIDAY_0001, (KLEPON, 2))
        clock.now = FRIDAY_0001 + timedelta(days=1)
        await db.set_merchant(jbl.app, "Kue Basah Ibu Ratna", jakpreneur_id="JP-0042")
        home = await signed_in_staff(jbl, tg, browser)

        by_name = rows((await browser.get(f"{SHOPS}?cari=ratna")).text)
        assert [row[0] for row in by_name] == ["Kue Basah Ibu Ratna"]
        by_id = rows((await browser.get(f"{SHOPS}?cari=JP-0042")).text)
        assert [row[:2] for row in by_id] == [["Kue Basah Ibu Ratna", "JP-0042"]]
        in_senen = rows((await browser.get(f"{SHOPS}?kecamatan=Senen")).text)
        assert "Kue Basah Ibu Ratna" in [row[0] for row in in_senen]
        assert all(row[2] == "Senen" for row in in_senen)
        nothing = await browser.get(f"{SHOPS}?cari=%25%25&kota=Atlantis")
        assert "Tidak ada toko yang cocok." in nothing.text

        async with jbl.app.sessions() as session:
            ratna = await session.scalar(
                select(Merchant).where(Merchant.name == "Kue Basah Ibu Ratna")
            )
        assert ratna is not None
        page = await browser.get(f"{SHOPS}/{ratna.id}")
        assert "Senen, Jakarta Pusat" in page.text
        assert "Klepon Gula Merah" in page.text and "tayang" in page.text
        fridays = [row for row in rows(page.text) if row[0].startswith("Jumat")]
        assert fridays[0] == ["Jumat, 27 November 2026", "1", "2", "Rp30.000"]
        assert len(fridays) == 4

        invited = await browser.post(f"{SHOPS}/{ratna.id}/undang", {"csrf": browser.csrf(home)})
        code = re.search(r"Kode undangan: ([A-Z0-9]+)", invited.text)
        assert code is not None
        assert f"/gabung {code.group(1)}" in invited.text
        assert f"start=join_{code.group(1)}" in invited.text

        new = Chatter(jbl.app, "console:dewi")
        await new.send(f"/gabung {code.group(1)}")
        assert "Kue Basah Ibu Ratna" in new.text
        again = await browser.get(f"{SHOPS}/{ratna.id}")
        assert "console:dewi" in again.text
        async with jbl.app.sessions() as session:
            invite = await session.scalar(
                select(StaffAction).where(StaffAction.action == "merchant_invite")
            )
        assert invite is not None and invite.actor == "web"

        missing = await browser.get(f"{SHOPS}/999999")
        assert missing.status_code == 404 and "Toko itu tidak ada." in missing.text
        for forged in ("abc", "²", "9" * 30):
            refused = await browser.get(f"{SHOPS}/{forged}")
            assert refused.status_code == 404 and "Toko itu tidak ada." in refused.text
