"""A report asked for wrongly: on the command line one line on standard error and a non-zero
exit, in chat a polite answer; either way nothing is read, written or stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.cli.staff import add_staff
from models.areas import kecamatan_by_kota
from models.files import StoredFile
from models.outbox import OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.telegram_bot import Running
from tests.test_attachments import jbl, whatsapp_jbl  # noqa: F401 - the fixtures
from tests.test_cli_and_console import run_jbl
from tests.test_cli_errors import assert_one_line

KOTA = sorted(kecamatan_by_kota())
KECAMATAN = sorted(name for names in kecamatan_by_kota().values() for name in names)
PUSAT = sorted(kecamatan_by_kota()["Jakarta Pusat"])


def listed(names: list[str]) -> str:
    return "one of " + ", ".join(names)


# Beside those of tests/test_results.py: the whole list named, a kecamatan of another kota, the
# Friday of a Saturday, days the calendar has not, and --friday with a range.
BAD_INPUT = [
    (["--kota", "Bandung"], ["no kota named 'Bandung': " + listed(KOTA)]),
    (["--kota", "selatan"], ["did you mean Jakarta Selatan? " + listed(KOTA)]),
    (["--kecamatan", "Kebayoran Bar"], ["did you mean Kebayoran Baru? " + listed(KECAMATAN)]),
    (
        ["--kota", "Jakarta Pusat", "--kecamatan", "tebet"],
        [
            "no kecamatan in Jakarta Pusat named 'tebet': Tebet is in Jakarta Selatan; "
            + listed(PUSAT)
        ],
    ),
    (
        ["--friday", "2026-11-28"],
        ["2026-11-28 is a Saturday, not a Friday", "Friday 2026-12-04"],
    ),
    (["--friday", "2026-02-30"], ["--friday 2026-02-30: there is no such day"]),
    (["--from", "2026-11-20", "--to", "2026-11-31"], ["--to 2026-11-31: there is no such day"]),
    (
        ["--friday", "2026-11-27", "--from", "2026-11-20"],
        ["give --friday or --from and --to, not both"],
    ),
    (
        ["--friday", "2026-11-27", "--to", "2026-11-30"],
        ["give --friday or --from and --to, not both"],
    ),
]


@pytest.mark.parametrize(
    ("args", "expected"), [pytest.param(*case, id=" ".join(case[0])) for case in BAD_INPUT]
)
async def test_jbl_report_refuses_bad_input_in_one_line_and_writes_nothing(
    app: App, tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    output = tmp_path / "laporan.xlsx"
    result = run_jbl(
        "report", *args, "--format", "xlsx", "--output", str(output),
        database_url=app.settings.database.url, cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(result, *expected)
    assert result.stdout == ""
    assert not output.exists()


@pytest.mark.parametrize("format_", ["table", "xlsx"])
async def test_an_existing_output_file_is_refused_without_force_and_kept(
    app: App, tmp_path: Path, format_: str
) -> None:
    output = tmp_path / f"laporan.{format_}"
    output.write_bytes(b"kept")
    result = run_jbl(
        "report", "--friday", "2026-11-27", "--format", format_, "--output", str(output),
        database_url=app.settings.database.url, cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(result, f"{output} exists: add --force to replace it")
    assert output.read_bytes() == b"kept"
    replaced = run_jbl(
        "report", "--friday", "2026-11-27", "--format", format_, "--output", str(output),
        "--force", database_url=app.settings.database.url, cwd=tmp_path,
    )  # fmt: skip
    assert (replaced.returncode, replaced.stderr) == (0, "")
    assert output.read_bytes() != b"kept"


# ---- chat ------------------------------------------------------------------------------------


async def stored_files(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(StoredFile)) or 0)


# Forged, or kept from an older menu: a day that is no Friday or none at all, a number of
# Fridays the menu never offers, a kota past the last.
FORGED = [
    "rp:20261126:1",
    "rp:20261128:4",
    "rp:20260230:1",
    "rp:99999999:1",
    "rp:20261127:0",
    "rp:20261127:2",
    "rp:20261127:9",
    "rp:20261127:1:6",
    "rp:20261127:1:9",
    "rp:20261126:1:0",
    "rp:20261127:3:0",
]


async def test_a_staff_members_forged_report_button_gets_the_report_menu_and_makes_nothing(
    app: App,
) -> None:
    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    for payload in FORGED:
        await ana.send_payload(payload)
        assert ana.text.startswith("📊 Laporan Jumat Beli Lokal: unit dan omzet per kota. Pilih")
        assert ana.labels[-1] == "🏠 Menu" and "4 Jumat terakhir" in ana.labels, payload
    assert await stored_files(app) == 0


async def test_someone_not_staff_on_telegram_is_told_the_command_is_unknown(
    jbl: Running,  # noqa: F811 - the fixture
    tg: FakeTelegram,
) -> None:
    budi = tg.user(7101, "Budi")
    answer = await budi.wait_for_reply(budi.send("/laporan"))
    assert "Perintah /laporan tidak dikenal" in (answer.text or "")
    # A forged press of a report's button makes no report either.
    menu = await budi.wait_for_reply(budi.send("/menu"))
    answer = await budi.wait_for_reply(budi.press_data("rp:20261120:1", menu.message_id))
    assert "Perintah /laporan tidak dikenal" in (answer.text or "")
    assert budi.last.document is None and budi.last.photo is None
    assert await stored_files(jbl.app) == 0


async def test_someone_not_staff_on_whatsapp_is_told_the_command_is_unknown(
    whatsapp_jbl: Running,  # noqa: F811 - the fixture
    twilio: FakeTwilio,
) -> None:
    budi = twilio.user("+6281298760042", "Budi")
    answer = await budi.say("/laporan")
    assert "Perintah /laporan tidak dikenal" in answer.text
    answer = await budi.say("/report")
    assert "tidak dikenal" in answer.text
    assert all(message.media_urls == [] for message in budi.messages)
    assert await stored_files(whatsapp_jbl.app) == 0
    async with whatsapp_jbl.app.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert rows == len(budi.messages)  # the two answers, nothing else queued
