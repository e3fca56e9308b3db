"""Staff's /laporan: a Friday's results in chat as a summary, a chart and a spreadsheet, per
kota and down into one kota's kecamatan; nobody else gets anything."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import openpyxl
from matplotlib.image import imread
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.cli.staff import add_staff
from bot.console import ConsoleChat
from handlers.messages import DOCUMENT, PHOTO
from handlers.results import kota_names
from models.catalog import Merchant
from models.files import StoredFile
from scheduler.jobs import weekly_report
from scheduler.setup import REPORT_JOB, build_scheduler
from tests.conftest import Clock, job_context
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.telegram_bot import Running
from tests.test_attachments import jbl  # noqa: F401 - the fixture
from tests.test_results import friday  # noqa: F401 - the fixture

STAFF_CHAT = 7017
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def count(app: App, model: type) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_staff_get_last_fridays_summary_chart_and_sheet_and_drill_into_a_kota(
    friday: App,  # noqa: F811 - the fixture
) -> None:
    await add_staff(friday, "console:ana")
    ana = Chatter(friday, "console:ana")
    await ana.send("/laporan")
    assert ana.labels == [
        "Jumat ini (Jumat, 4 Desember 2026)",
        "Jumat lalu (Jumat, 27 November 2026)",
        "4 Jumat terakhir",
        "🏆 Terlaris",
        "📉 Belum laku",
        "🏠 Menu",
    ]

    summary, chart, sheet = await ana.press("Jumat lalu (Jumat, 27 November 2026)")
    # Counted by hand in tests/test_results.py.
    assert summary.text.startswith("📊 Jumat, 27 November 2026\nSeluruh Jakarta\n")
    assert "Unit terjual: 8\nOmzet: Rp260.000 (Rp260\xa0rb)\n" in summary.text
    assert "Pesanan: 7 masuk, 4 terjual, 1 selesai, 3 batal\n" in summary.text
    assert "Pembeli: 2 (1 baru, 1 kembali)\n" in summary.text
    assert "Rata-rata per pesanan: Rp65.000\nToko dengan penjualan: 3" in summary.text
    assert "jbl report" in summary.text
    assert chart.attachment is not None and chart.attachment.kind == PHOTO
    assert chart.attachment.name == "jbl-2026-11-27.png"
    assert sheet.attachment is not None and sheet.attachment.kind == DOCUMENT
    assert (sheet.attachment.name, sheet.attachment.media_type) == ("jbl-2026-11-27.xlsx", XLSX)
    assert [b.label for b in sheet.buttons] == [
        *(kota for kota in kota_names()),
        "📊 Laporan lain",
        "🏠 Menu",
    ]

    summary, chart, sheet = await ana.press("Jakarta Selatan")
    assert summary.text.startswith("📊 Jumat, 27 November 2026\nJakarta Selatan\n")
    assert "Unit terjual: 2\nOmzet: Rp90.000" in summary.text
    assert chart.attachment is not None
    assert chart.attachment.name == "jbl-2026-11-27-jakarta-selatan.png"
    assert [b.label for b in sheet.buttons] == ["📊 Laporan lain", "🏠 Menu"]

    await ana.press("📊 Laporan lain")
    summary, _, _ = await ana.press("4 Jumat terakhir")
    assert summary.text.startswith("📊 6 November 2026 s.d. 27 November 2026\n")


async def test_the_console_saves_the_chart_and_the_spreadsheet_to_open(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    await add_staff(friday, "console:ana")
    screen = io.StringIO()
    ana = ConsoleChat(friday, "ana", screen, tmp_path)
    await ana.say("/laporan")
    await ana.say("2")

    height, width, _ = imread(tmp_path / "jbl-2026-11-27.png", format="png").shape
    assert width == 1080 and height >= 1080
    workbook = openpyxl.load_workbook(tmp_path / "jbl-2026-11-27.xlsx")
    assert workbook.sheetnames[:3] == ["Ringkasan", "Per kota", "Per kecamatan"]
    kota = [row for row in workbook["Per kota"].iter_rows(values_only=True) if row[0]]
    assert ("Jakarta Pusat", 6, 170000) in [row[:3] for row in kota]
    shown = screen.getvalue()
    assert re.search(r"\[file\] jbl-2026-11-27\.xlsx \(.+\): saved as ", shown)


async def test_anyone_else_is_told_the_command_is_unknown_and_nothing_is_stored(
    app: App, budi: Chatter
) -> None:
    await budi.send("/laporan")
    assert "Perintah /laporan tidak dikenal" in budi.text
    # A forged button press makes no report either.
    await budi.send_payload("rp:20261127:1")
    assert "Perintah /laporan tidak dikenal" in budi.text
    await budi.send_payload("rp:20261127:1:4")
    assert "Perintah /laporan tidak dikenal" in budi.text
    assert await count(app, StoredFile) == 0
    await budi.send("/report")
    assert "tidak dikenal" in budi.text


# ---- Telegram ------------------------------------------------------------------------------


async def test_staff_on_telegram_get_the_chart_as_a_photo_and_the_sheet_as_a_document(
    jbl: Running,  # noqa: F811 - the fixture
    tg: FakeTelegram,
) -> None:
    await add_staff(jbl.app, f"telegram:{STAFF_CHAT}")
    ana = tg.user(STAFF_CHAT, "Ana")
    await ana.wait_for_reply(ana.send("/laporan"))
    # It is Friday 27 November there: this Friday, so far.
    ana.press("Jumat ini (Jumat, 27 November 2026)")
    await tg.wait_for(lambda: len(ana.bot_messages) >= 3, what="summary, photo and document")

    # The menu pressed becomes the summary; the files follow it.
    summary, photo, document = ana.bot_messages
    assert (summary.text or "").startswith("📊 Jumat, 27 November 2026\nSeluruh Jakarta")
    assert photo.photo == "upload:jbl-2026-11-27.png"
    assert photo.upload is not None and photo.upload.content_type == "image/png"
    assert photo.upload.size > 10_000
    assert photo.text == "Omzet · Jumat, 27 November 2026 · Seluruh Jakarta"
    assert document.document is not None and document.upload is not None
    assert document.document["file_name"] == "jbl-2026-11-27.xlsx"
    assert document.upload.content_type == XLSX
    assert document.document["file_size"] == document.upload.size > 5_000
    assert "Jakarta Selatan" in document.buttons


# ---- the Saturday report -------------------------------------------------------------------


async def fire_report_job(app: App) -> list[int]:
    return await weekly_report(
        app.sessions, app.clock, app.conversation.files, app.settings.timezone
    )


async def test_each_staff_member_gets_last_fridays_report_once_however_often_it_fires(
    friday: App,  # noqa: F811 - the fixture
    clock: Clock,
) -> None:
    await add_staff(friday, "console:ana")
    await add_staff(friday, "console:eko")
    ana, eko = Chatter(friday, "console:ana"), Chatter(friday, "console:eko")
    await eko.send("/language")
    await eko.press("English")
    context = replace(job_context(friday), report_weekday=5, report_at=time(7, 0))
    scheduler = build_scheduler(context, friday.settings.database.url, friday.settings.timezone)
    trigger = scheduler.get_job(REPORT_JOB).trigger
    # Saturday 07:00 in Jakarta, from Friday morning.
    saturday_7am = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, saturday_7am - timedelta(days=1)) == saturday_7am

    # It fires late (jbl was down at 07:00), then again, and again the day after.
    queued = await fire_report_job(friday)
    assert sorted(queued) == sorted([(await ana.person()).id, (await eko.person()).id])
    assert await fire_report_job(friday) == []
    clock.advance(timedelta(days=1))
    assert await fire_report_job(friday) == []

    summary, chart, sheet = await ana.read_notices()
    assert summary.text.startswith("📊 Jumat, 27 November 2026\nSeluruh Jakarta\n")
    assert "Unit terjual: 8\nOmzet: Rp260.000" in summary.text
    assert chart.attachment is not None and chart.attachment.name == "jbl-2026-11-27.png"
    assert sheet.attachment is not None and sheet.attachment.name == "jbl-2026-11-27.xlsx"
    assert "Jakarta Selatan" in [b.label for b in sheet.buttons]
    assert await ana.read_notices() == []
    summary, _, _ = await eko.read_notices()
    assert summary.text.startswith("📊 Friday, 27 November 2026\nAll of Jakarta\n")

    # The next Saturday is the next Friday's.
    clock.advance(timedelta(days=6))
    assert len(await fire_report_job(friday)) == 2
    summary, _, _ = await ana.read_notices()
    assert summary.text.startswith("📊 Jumat, 4 Desember 2026\n")


# ---- the merchant's own Fridays ------------------------------------------------------------


async def test_a_merchant_sees_their_last_friday_beside_the_one_before(
    friday: App,  # noqa: F811 - the fixture
    clock: Clock,
) -> None:
    async with friday.sessions() as session:
        tebet = await session.scalar(select(Merchant.id).where(Merchant.kecamatan == "Tebet"))
    # Mbak Rini's operator, who moved her orders in the fixture.
    rini = Chatter(friday, f"console:op{tebet}")

    await rini.send("/toko")
    assert (
        "Jumat lalu, Jumat, 27 November 2026: 2 unit · omzet Rp90.000\n"
        "Jumat sebelumnya, Jumat, 20 November 2026: 0 unit · omzet Rp0"
    ) in rini.text

    clock.advance(timedelta(weeks=1))
    await rini.send("/toko")
    assert (
        "Jumat lalu, Jumat, 4 Desember 2026: 0 unit · omzet Rp0\n"
        "Jumat sebelumnya, Jumat, 27 November 2026: 2 unit · omzet Rp90.000"
    ) in rini.text
