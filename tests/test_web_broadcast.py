"""Staff watch this Friday's broadcast in the web console: a preview exactly as subscribers get
it, its state and progress (also as JSON for the page's refresh), and pause, resume and cancel,
each only after a confirmation; the outbox holds, sends again or drops the rest accordingly."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from bot.admin.console import PREFIX
from bot.bootstrap import App
from bot.cli.friday import this_friday
from handlers.broadcast import broadcast_reply
from models import broadcasts
from models.outbox import CANCELLED, PAUSED, OutboxMessage
from models.staff import StaffAction
from models.uow import UnitOfWork
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.test_paid_broadcast import subscribed
from tests.web_console import Browser, console_jbl, staff_form_token

PAGE = f"{PREFIX}/siaran"


async def started(app: App, clock: Clock) -> int:
    """This Friday's broadcast, started now; how many it goes to."""
    async with UnitOfWork(app.sessions) as uow:
        friday = this_friday(app)
        broadcast = await broadcasts.plan(uow.session, friday, clock(), clock())
        count = await broadcasts.start(uow.session, broadcast, clock())
        await uow.commit()
    return count


async def rows_in(app: App, status: str) -> int:
    async with app.sessions() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.broadcast_id.is_not(None), OutboxMessage.status == status)
        )
    return found or 0


def shown(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


async def test_staff_see_the_preview_and_pause_resume_and_cancel_after_confirming(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    # One message a second: the broadcast is still going while staff act on it.
    async with (
        console_jbl(database_url, clock, tg, telegram={"rate_per_s": 1}) as jbl,
        Browser(jbl) as browser,
    ):
        await subscribed(tg, 12)
        csrf = await staff_form_token(jbl, tg, browser)

        before = await browser.get(PAGE)
        assert "Pratinjau, persis seperti yang diterima pelanggan:" in before.text
        async with jbl.app.sessions() as session:
            content = await broadcasts.content_for(session, None, this_friday(jbl.app))
        expected = broadcast_reply("id", content)
        assert html.escape(expected.text, quote=False) in before.text
        assert expected.buttons[0].label in html.unescape(before.text)
        assert "Status: dijadwalkan" in before.text

        assert await started(jbl.app, clock) == 12
        running = await browser.get(PAGE)
        assert "Status: sedang dikirim" in running.text
        assert 'data-live="yes"' in running.text
        assert "⏸️ Jeda" in running.text

        # The first press only asks; nothing changes until staff confirm.
        asked = await browser.post(f"{PAGE}/jeda", {"csrf": csrf})
        assert "Jeda siaran? Pesan yang belum terkirim menunggu" in asked.text
        assert (await broadcast_state(jbl.app)) == broadcasts.RUNNING
        paused = await browser.post(f"{PAGE}/jeda", {"csrf": csrf, "yakin": "ya"})
        assert "⏸️ Siaran dijeda." in paused.text
        assert "Status: dijeda" in paused.text
        assert (await broadcast_state(jbl.app)) == broadcasts.HALTED
        assert await rows_in(jbl.app, PAUSED) > 0

        progress = (await browser.get(f"{PAGE}/kemajuan")).json()
        assert progress["status"] == "paused"
        assert any("Status: dijeda" in line for line in progress["lines"])

        again = await browser.post(f"{PAGE}/jeda", {"csrf": csrf, "yakin": "ya"})
        assert "Siaran sudah berubah sementara itu; tidak ada yang diubah." in again.text

        resumed = await browser.post(f"{PAGE}/lanjutkan", {"csrf": csrf, "yakin": "ya"})
        assert "▶️ Siaran dilanjutkan." in resumed.text
        assert await rows_in(jbl.app, PAUSED) == 0

        cancelled = await browser.post(f"{PAGE}/batalkan", {"csrf": csrf, "yakin": "ya"})
        assert "🛑 Siaran dibatalkan." in cancelled.text
        assert "dibatalkan" in shown(cancelled.text)
        assert (await broadcast_state(jbl.app)) == broadcasts.STOPPED
        assert await rows_in(jbl.app, CANCELLED) > 0
        assert "⏸️ Jeda" not in cancelled.text and "▶️ Lanjutkan" not in cancelled.text

        forged = await browser.post(f"{PAGE}/hapus", {"csrf": csrf, "yakin": "ya"})
        assert "Isian formulir tidak sah" in forged.text

        async with jbl.app.sessions() as session:
            actions = list(
                await session.scalars(
                    select(StaffAction.action)
                    .where(StaffAction.actor == "web")
                    .order_by(StaffAction.id)
                )
            )
        assert actions == ["broadcast_pause", "broadcast_resume", "broadcast_cancel"]


async def broadcast_state(app: App) -> str:
    async with app.sessions() as session:
        broadcast = await broadcasts.broadcast_for(session, this_friday(app))
        assert broadcast is not None
        return broadcast.status
