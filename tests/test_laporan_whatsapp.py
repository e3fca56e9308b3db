"""Staff's /laporan on WhatsApp: the summary, the chart as media that Twilio fetches from jbl,
and the spreadsheet as a link; both served under an unguessable token until it expires, and
nothing of the report without it."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import openpyxl
import pytest
from matplotlib.image import imread

from bot.bootstrap import App
from bot.cli.staff import add_staff
from handlers.results import XLSX
from models.files import KEEP_FILES
from tests import db
from tests.conftest import Clock
from tests.fake_twilio import FakeTwilio, Message, WhatsappUser
from tests.telegram_bot import Running
from tests.test_laporan import fire_report_job
from tests.test_results import friday  # noqa: F401 - the fixture
from tests.whatsapp_bot import NOTICE_TEMPLATE, PUBLIC_URL, running_whatsapp

STAFF_NUMBER = "+6281298760018"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FILE_LINK = re.compile(rf"{re.escape(PUBLIC_URL)}/media/([A-Za-z0-9_-]+)")


@pytest.fixture
async def whatsapp(
    friday: App,  # noqa: F811 - the fixture: the orders counted by hand in test_results
    database_url: str,
    clock: Clock,
    twilio: FakeTwilio,
) -> AsyncIterator[Running]:
    """`jbl run` with WhatsApp on the database the Friday's orders were placed in, with the
    approved template for what goes outside the 24-hour window."""
    async with running_whatsapp(
        database_url, clock, twilio, notice_content_sid=NOTICE_TEMPLATE
    ) as running:
        yield running


async def get(jbl: Running, path: str, method: str = "GET") -> httpx.Response:
    """What anyone on the internet gets at `path` of jbl's public URL (the proxy hands jbl
    the path)."""
    async with httpx.AsyncClient() as http:
        return await http.request(method, jbl.base + path)


def token_in(text: str) -> str:
    [token] = FILE_LINK.findall(text)
    return token


async def report_of(
    ana: WhatsappUser, twilio: FakeTwilio, label: str, *, typed: str | None = None
) -> list[Message]:
    """Chooses `label` in the menu (or types `typed`) and waits for the three replies,
    delivered."""
    before = len(ana.messages)
    if typed is None:
        await ana.choose(label)
    else:
        await ana.send(typed)

    def arrived() -> bool:
        sent = ana.messages[before:]
        return len(sent) >= 3 and all(message.settled for message in sent)

    await twilio.wait_for(arrived, 20, "the summary, the chart and the spreadsheet's link")
    return ana.messages[before:]


async def test_staff_on_whatsapp_get_the_summary_the_chart_as_media_and_a_link_to_the_sheet(
    whatsapp: Running, twilio: FakeTwilio
) -> None:
    await add_staff(whatsapp.app, f"whatsapp:{STAFF_NUMBER}")
    ana = twilio.user(STAFF_NUMBER, "Ana")
    menu = await ana.say("/laporan")
    assert "Jumat lalu (Jumat, 27 November 2026)" in menu.menu

    summary, chart, sheet = await report_of(ana, twilio, "Jumat lalu")

    # Counted by hand in tests/test_results.py.
    assert summary.media_urls == []
    assert summary.text.startswith("📊 Jumat, 27 November 2026\nSeluruh Jakarta\n")
    assert "Unit terjual: 8\nOmzet: Rp260.000" in summary.text
    # The chart is the message's media, fetched by Twilio from jbl before it sent it.
    [url] = chart.media_urls
    assert url.startswith(f"{PUBLIC_URL}/media/")
    assert chart.text.startswith("Omzet · Jumat, 27 November 2026 · Seluruh Jakarta")
    [fetched] = chart.fetched
    assert (fetched.status, fetched.content_type) == (200, "image/png")
    assert fetched.disposition.startswith('inline; filename="jbl-2026-11-27.png"')
    assert chart.status == sheet.status == "delivered"
    # The spreadsheet is no WhatsApp media: its link is in the text, with the kota to choose.
    assert sheet.media_urls == []
    assert "jbl-2026-11-27.xlsx" in sheet.text and "tautan berlaku 7 hari" in sheet.text
    assert "Jakarta Selatan" in sheet.menu

    png = await get(whatsapp, url.removeprefix(PUBLIC_URL))
    assert png.status_code == 200 and png.content.startswith(PNG_MAGIC)
    assert png.headers["cache-control"] == "private, no-store"
    height, width, _ = imread(io.BytesIO(png.content), format="png").shape
    assert width == 1080 and height >= 1080

    xlsx = await get(whatsapp, f"/media/{token_in(sheet.text)}")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == XLSX
    assert xlsx.headers["content-disposition"].startswith(
        'attachment; filename="jbl-2026-11-27.xlsx"'
    )
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames[:3] == ["Ringkasan", "Per kota", "Per kecamatan"]
    totals = {row[0]: row[1] for row in workbook["Ringkasan"].iter_rows(values_only=True)}
    assert (totals["Unit terjual"], totals["Omzet"]) == (8, 260000)
    assert len(workbook["Ringkasan"]._charts) == 1

    # Down into a kota: its own chart and sheet, under tokens of their own.
    summary, chart, kota_sheet = await report_of(ana, twilio, "Jakarta Selatan")
    assert summary.text.startswith("📊 Jumat, 27 November 2026\nJakarta Selatan\n")
    assert "Unit terjual: 2\nOmzet: Rp90.000" in summary.text
    assert chart.fetched[0].disposition.startswith(
        'inline; filename="jbl-2026-11-27-jakarta-selatan.png"'
    )
    assert token_in(kota_sheet.text) != token_in(sheet.text)
    selatan = await get(whatsapp, f"/media/{token_in(kota_sheet.text)}")
    kota = openpyxl.load_workbook(io.BytesIO(selatan.content))["Per kota"]
    assert ("Jakarta Selatan", 2, 90000) in [row[:3] for row in kota.iter_rows(values_only=True)]


async def test_only_the_exact_token_serves_a_file_and_only_until_it_expires(
    whatsapp: Running, twilio: FakeTwilio, clock: Clock
) -> None:
    await add_staff(whatsapp.app, f"whatsapp:{STAFF_NUMBER}")
    ana = twilio.user(STAFF_NUMBER, "Ana")
    await ana.say("/laporan")
    _, chart, sheet = await report_of(ana, twilio, "Jumat lalu")
    token = token_in(sheet.text)
    chart_token = chart.media_urls[0].rsplit("/", 1)[1]
    not_found = await get(whatsapp, f"/media/{'A' * len(token)}")
    assert not_found.status_code == 404

    # Forged or guessed: one character changed, the case changed, cut short, longer, with a
    # suffix or a path after it; and anything else that might list or name the files.
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    swapped = token.swapcase() if token.swapcase() != token else flipped
    forged = [
        f"/media/{flipped}",
        f"/media/{swapped}",
        f"/media/{token[:-1]}",
        f"/media/{token[:16]}",
        f"/media/{token}A",
        f"/media/{token}.xlsx",
        f"/media/{token}/",
        f"/media/{token}/jbl-2026-11-27.xlsx",
        f"/media/{chart_token[:16]}{token[16:]}",
        f"/media/%20{token}",
        "/media/jbl-2026-11-27.xlsx",
        "/media/",
        "/media",
        "/media/*",
        "/laporan",
        "/report",
        "/reports",
        "/",
    ]
    for path in forged:
        answer = await get(whatsapp, path)
        assert answer.status_code == 404, path
        assert "content-disposition" not in answer.headers, path
        assert answer.content in (not_found.content, b"Not Found"), (path, answer.content)
    # Only GET (and HEAD) read a file: nothing else answers for it.
    for method in ("POST", "PUT", "DELETE"):
        answer = await get(whatsapp, f"/media/{token}", method)
        assert answer.status_code in (404, 405), method
        assert not answer.content.startswith(b"PK"), method

    # Served until its lifetime ends, on jbl's clock (which stood still since the files were
    # made), then gone like a token that never was.
    clock.advance(KEEP_FILES - timedelta(seconds=1))
    assert (await get(whatsapp, f"/media/{token}")).content.startswith(b"PK")
    assert (await get(whatsapp, f"/media/{chart_token}")).content.startswith(PNG_MAGIC)
    clock.advance(timedelta(seconds=1))
    for gone in (token, chart_token):
        answer = await get(whatsapp, f"/media/{gone}")
        assert answer.status_code in (404, 410)
        assert answer.content == not_found.content
        assert "content-disposition" not in answer.headers


async def test_the_saturday_report_outside_the_24_hour_window_goes_as_templates_with_links(
    whatsapp: Running, twilio: FakeTwilio, clock: Clock
) -> None:
    await add_staff(whatsapp.app, f"whatsapp:{STAFF_NUMBER}")
    ana = twilio.user(STAFF_NUMBER, "Ana")
    await ana.say("halo")
    await db.sent_to(whatsapp.app, f"whatsapp:{STAFF_NUMBER}")
    before = len(ana.messages)
    # Ana last wrote more than a day ago: only approved templates reach her.
    clock.advance(timedelta(hours=25))
    queued = await fire_report_job(whatsapp.app)
    assert len(queued) == 1

    def templates() -> list[Message]:
        return [m for m in ana.messages[before:] if m.content_sid == NOTICE_TEMPLATE]

    def arrived() -> bool:
        sent = templates()
        return len(sent) >= 3 and all(message.settled for message in sent)

    await twilio.wait_for(arrived, 20, "the report as three templates")
    summary, chart, sheet = templates()
    assert all(message.status == "delivered" for message in (summary, chart, sheet))
    assert "Unit terjual: 8 · Omzet: Rp260.000" in summary.text
    assert chart.media_urls == [] and sheet.media_urls == []
    chart_link = FILE_LINK.search(chart.text)
    assert chart_link is not None
    png = await get(whatsapp, f"/media/{chart_link.group(1)}")
    assert png.content.startswith(PNG_MAGIC)
    xlsx = await get(whatsapp, f"/media/{token_in(sheet.text)}")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    # The template's menu is hers to answer: a kota's number brings its report.
    summary, _, _ = await report_of(ana, twilio, "Jakarta Selatan", typed="3")
    assert summary.text.startswith("📊 Jumat, 27 November 2026\nJakarta Selatan\n")
