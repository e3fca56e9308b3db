"""Staff plan the coming Fridays in the web console: the next eight with their category and
headline, saved as `jbl friday set` saves them, and seen in the chat's /jadwal; a Friday whose
broadcast has started, a day that has passed and a forged category are refused politely."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from bot.admin.console import PREFIX
from bot.bootstrap import App
from bot.cli.friday import this_friday
from models.broadcasts import plan
from models.friday import FridayEdition
from models.staff import StaffAction
from models.uow import UnitOfWork
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.web_console import (
    Browser,
    console_jbl,
    signed_in_staff,
    staff_form_token,
)

FRIDAYS = f"{PREFIX}/jumat"


def category_ids(page: str) -> dict[str, str]:
    """The categories offered, by name: id."""
    found = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page)
    return {name: value for value, name in found}


async def test_staff_change_a_fridays_category_and_headline_and_the_chat_shows_it(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        home = await signed_in_staff(jbl, tg, browser)
        page = await browser.get(FRIDAYS)
        assert page.status_code == 200
        assert page.text.count('<form class="card row"') == 8
        assert "Jumat, 27 November 2026" in page.text
        next_friday = date(2026, 12, 4)

        saved = await browser.post(
            f"{FRIDAYS}/{next_friday}",
            {
                "csrf": browser.csrf(home),
                "category": category_ids(page.text)["Produk Kesehatan"],
                "headline": "  Sehat bersama UMKM Jakarta  ",
            },
        )
        assert saved.status_code == 200
        assert "Rencana Jumat, 4 Desember 2026 disimpan." in saved.text

        async with jbl.app.sessions() as session:
            edition = await session.get(FridayEdition, next_friday)
            action = await session.scalar(
                select(StaffAction).where(StaffAction.action == "friday_set")
            )
        assert edition is not None and edition.headline == "Sehat bersama UMKM Jakarta"
        assert edition.category.slug == "produk-kesehatan"
        assert action is not None and action.actor == "web" and action.person_id is not None
        assert action.detail["friday"] == "2026-12-04"

        ana = tg.user(7001, "Ana")
        await ana.wait_for_reply(ana.send("/jadwal"))
        schedule = ana.last.text or ""
        assert "Jumat, 4 Desember 2026" in schedule
        assert "Sehat bersama UMKM Jakarta" in schedule


async def test_a_started_broadcast_a_passed_day_and_a_forged_category_are_refused(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        csrf = await staff_form_token(jbl, tg, browser)
        page = await browser.get(FRIDAYS)
        health = category_ids(page.text)["Produk Kesehatan"]
        friday = this_friday(jbl.app)
        async with UnitOfWork(jbl.app.sessions) as uow:
            broadcast = await plan(uow.session, friday, clock(), clock())
            broadcast.status = "sending"
            await uow.commit()
        before = await planned(jbl.app)

        started = await browser.post(f"{FRIDAYS}/{friday}", {"csrf": csrf, "category": health})
        passed = await browser.post(f"{FRIDAYS}/2026-11-20", {"csrf": csrf, "category": health})
        forged = await browser.post(f"{FRIDAYS}/2026-12-04", {"csrf": csrf, "category": "999"})
        not_a_day = await browser.post(f"{FRIDAYS}/kemarin", {"csrf": csrf, "category": health})
        thursday = await browser.post(f"{FRIDAYS}/2026-12-03", {"csrf": csrf, "category": health})

        assert started.status_code == 400
        assert "Siaran 2026-11-27 sudah dimulai" in started.text
        assert passed.status_code == 400 and "2026-11-20 sudah lewat." in passed.text
        assert forged.status_code == 400 and "Isian formulir tidak sah" in forged.text
        assert not_a_day.status_code == 400 and "Isian formulir tidak sah" in not_a_day.text
        assert thursday.status_code == 400 and "2026-12-03 bukan hari Jumat." in thursday.text
        # The started Friday's form offers nothing to change.
        assert 'action="/admin/jumat/2026-11-27"' in started.text
        assert started.text.count("disabled") == 2

        assert await planned(jbl.app) == before
        async with jbl.app.sessions() as session:
            actions = await session.scalar(
                select(StaffAction).where(StaffAction.action == "friday_set")
            )
        assert actions is None


async def planned(app: App) -> list[tuple[date, int, str | None]]:
    async with app.sessions() as session:
        editions = await session.scalars(select(FridayEdition).order_by(FridayEdition.date))
        return [(e.date, e.category_id, e.headline) for e in editions]
