"""Staff read the results in the web console: a Friday's figures by kota as a summary, a chart
and a table, largest omzet first, with the broadcast's funnel; and the same as a CSV and as
the XLSX `jbl report` writes, downloaded and opened."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl

from bot.admin.console import PREFIX
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.test_results import FRIDAY_0001, KLEPON, KOPI, SATURDAY_0001, _order
from tests.test_web_audit import rows
from tests.web_console import Browser, console_jbl, signed_in_staff

RESULTS = f"{PREFIX}/hasil"


async def test_a_fridays_results_as_summary_chart_table_csv_and_xlsx(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        # Ani buys 2 klepon (Jakarta Pusat, Rp15.000) and Budi 2 kopi (Jakarta Selatan,
        # Rp45.000) on Friday 27 November.
        await _order(clock, Chatter(jbl.app, "console:ani"), FRIDAY_0001, (KLEPON, 2))
        later = FRIDAY_0001 + timedelta(hours=9)
        await _order(clock, Chatter(jbl.app, "console:budi"), later, (KOPI, 2))
        clock.now = SATURDAY_0001 + timedelta(hours=2)
        await signed_in_staff(jbl, tg, browser)

        page = await browser.get(RESULTS)
        assert page.status_code == 200
        assert "Jumat, 27 November 2026" in page.text
        assert "Omzet: Rp120.000" in page.text
        table = rows(page.text)
        assert [(row[0], row[1], row[2]) for row in table] == [
            ("Jakarta Selatan", "2", "Rp90.000"),
            ("Jakarta Pusat", "2", "Rp30.000"),
        ]

        chart = await browser.get(f"{RESULTS}/grafik.png?jumat=2026-11-27&per=kota")
        assert chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(b"\x89PNG")

        download = await browser.get(f"{RESULTS}/hasil.csv?jumat=2026-11-27&per=kecamatan")
        assert "attachment" in download.headers["content-disposition"]
        lines = list(csv.reader(io.StringIO(download.content.decode())))
        assert lines[0][:3] == ["level", "key", "parent"]
        total = dict(zip(lines[0], lines[1], strict=True))
        assert (total["level"], total["omzet"], total["units"]) == ("total", "120000", "4")
        assert {line[1] for line in lines[2:]} == {"Senen", "Tebet"}

        sheet = await browser.get(f"{RESULTS}/hasil.xlsx?jumat=2026-11-27")
        assert sheet.headers["content-disposition"].endswith('.xlsx"')
        workbook = openpyxl.load_workbook(io.BytesIO(sheet.content), read_only=True)
        cells = {
            cell
            for name in workbook.sheetnames
            for line in workbook[name].iter_rows(values_only=True)
            for cell in line
        }
        assert 120000 in cells and "Jakarta Selatan" in cells

        by_kota = await browser.get(f"{RESULTS}?jumat=2026-11-27&kota=Jakarta+Pusat")
        assert [row[0] for row in rows(by_kota.text)] == ["Senen (Jakarta Pusat)"]


async def test_a_forged_query_gets_last_fridays_report_and_says_so(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        await signed_in_staff(jbl, tg, browser)
        for query in (
            "jumat=2026-11-26",
            "jumat=besok",
            "dari=2026-11-30&sampai=2026-11-01",
            "kota=Atlantis",
            "per=galaxy",
        ):
            page = await browser.get(f"{RESULTS}?{query}")
            assert page.status_code == 200, query
            assert "Pilihan laporan tidak sah" in page.text, query
            assert "Jumat, 20 November 2026" in page.text, query
        download = await browser.get(f"{RESULTS}/hasil.csv?kota=Atlantis")
        assert download.status_code == 200
