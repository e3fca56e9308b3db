"""Staff import a merchants file in the web console: upload it, see the dry run with the rows
in error as a table and as the error file, import it, and find the shops; a broken file, a
missing one and another person's upload are refused politely and change nothing."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from bot.admin.console import PREFIX
from bot.cli.staff import add_staff
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.test_import_cli import MERCHANTS, imported, write_csv, write_xlsx
from tests.test_web_audit import rows
from tests.web_console import (
    Browser,
    asked_link,
    console_jbl,
    staff_form_token,
)

IMPORTS = f"{PREFIX}/impor"


async def upload(browser: Browser, csrf: str, path: Path, kind: str = "merchants") -> str:
    """Chooses the file in the form and presses Check; the page that answers."""
    with path.open("rb") as chosen:
        answer = await browser.client.post(
            f"{browser.base}{IMPORTS}",
            data={"csrf": csrf, "kind": kind},
            files={"file": (path.name, chosen)},
            headers={"Origin": browser.base},
        )
    return answer.text


async def test_staff_check_a_file_download_its_errors_then_import_it(
    database_url: str, clock: Clock, tg: FakeTelegram, tmp_path: Path
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        csrf = await staff_form_token(jbl, tg, browser)
        checked = await upload(browser, csrf, write_xlsx(tmp_path / "toko.xlsx", MERCHANTS))
        assert "Pemeriksaan toko.xlsx (belum ada yang diubah)" in checked
        assert re.search(r"Akan dibuat: <strong>2</strong>", checked)
        assert re.search(r"Baris bermasalah: <strong>1</strong>", checked)
        errors = rows(checked)
        assert errors[0][1] == "Toko Tiga"
        assert "maksudnya Jakarta Selatan?" in errors[0][-1]
        assert await imported(jbl.app) == (0, 0)

        link = re.search(r'href="(/admin/impor/[^"]+/kesalahan.csv)"', checked)
        assert link is not None
        error_file = await browser.get(link.group(1))
        lines = list(csv.reader(io.StringIO(error_file.content.decode("utf-8-sig"))))
        assert lines[0] == [*MERCHANTS[0], "error"]
        assert lines[1][:2] == ["JKP-2", "Toko Tiga"]

        confirm = re.search(r'action="(/admin/impor/[^"/]+)"', checked)
        assert confirm is not None
        done = await browser.post(confirm.group(1), {"csrf": csrf})
        assert "toko.xlsx sudah diimpor" in done.text
        assert re.search(r"Dibuat: <strong>2</strong>", done.text)
        assert await imported(jbl.app) == (2, 0)
        shops = rows((await browser.get(f"{PREFIX}/toko?cari=JKP-1")).text)
        assert [row[0] for row in shops] == ["Dapur Sari"]

        # Another staff member cannot see or use this upload.
        async with Browser(jbl) as other:
            dewi = tg.user(7002, "Dewi")
            await dewi.wait_for_reply(dewi.send("/start"))
            await add_staff(jbl.app, f"telegram:{dewi.id}")
            other_home = await other.sign_in(await asked_link(dewi))
            theirs = await other.post(confirm.group(1), {"csrf": other.csrf(other_home)})
            assert "Berkas itu tidak ada lagi" in theirs.text
            assert (await other.get(link.group(1))).status_code == 404


async def test_a_broken_file_a_missing_file_and_a_forged_kind_change_nothing(
    database_url: str, clock: Clock, tg: FakeTelegram, tmp_path: Path
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        csrf = await staff_form_token(jbl, tg, browser)
        broken = tmp_path / "toko.xlsx"
        broken.write_bytes(b"PK\x03\x04 not really a workbook")
        said = await upload(browser, csrf, broken)
        assert 'class="error"' in said
        plain = write_csv(tmp_path / "toko.csv", MERCHANTS)
        forged = await upload(browser, csrf, plain, kind="orders")
        assert "Isian formulir tidak sah" in forged
        empty = await browser.client.post(
            f"{browser.base}{IMPORTS}",
            data={"csrf": csrf, "kind": "merchants"},
            headers={"Origin": browser.base},
        )
        assert "Pilih berkas CSV atau XLSX" in empty.text
        gone = await browser.post(f"{IMPORTS}/{'a' * 32}", {"csrf": csrf})
        assert "Berkas itu tidak ada lagi" in gone.text
        assert await imported(jbl.app) == (0, 0)
