"""`jbl report --format xlsx|png`: the spreadsheet and the chart written to a file, opened
again here; a binary format never goes to a terminal."""

from __future__ import annotations

import io
import os
import pty
import resource
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
from matplotlib.image import imread

from bot.bootstrap import App
from handlers.reports.streaming import write_report_streaming
from handlers.reports.workbook import HEADER_ROW
from models.results import Period, Scope
from tests.test_cli_and_console import JBL, run_jbl
from tests.test_results import FRIDAY, friday  # noqa: F401 - the fixture


def _on_a_terminal(app: App, cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """jbl with its standard output on a terminal (a pseudo-terminal here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    env["JBL_DATABASE__URL"] = app.settings.database.url
    screen, terminal = pty.openpty()
    try:
        return subprocess.run(
            [JBL, *args], stdout=terminal, stderr=subprocess.PIPE, cwd=cwd, env=env, timeout=120
        )
    finally:
        os.close(terminal)
        os.close(screen)


def _written(app: App, tmp_path: Path, *args: str) -> None:
    result = run_jbl("report", *args, database_url=app.settings.database.url, cwd=tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


async def test_the_spreadsheet_has_every_sheet_with_the_fridays_totals_and_a_chart(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    target = tmp_path / "laporan.xlsx"
    _written(
        friday, tmp_path, "--friday", "2026-11-27", "--format", "xlsx", "--output", "laporan.xlsx"
    )

    workbook = openpyxl.load_workbook(target)
    assert workbook.sheetnames == [
        "Ringkasan", "Per kota", "Per kecamatan", "Per toko", "Per produk",
    ]  # fmt: skip
    summary = {row[0]: row[1] for row in workbook["Ringkasan"].iter_rows(values_only=True)}
    assert (summary["Unit terjual"], summary["Omzet"]) == (8, 260000)
    assert len(workbook["Ringkasan"]._charts) == 1
    merchants = [row[1] for row in workbook["Per toko"].iter_rows(values_only=True)]
    assert "Mbak Rini" in " ".join(str(name) for name in merchants)


async def test_the_chart_is_a_png_a_phone_shows_whole(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    _written(
        friday, tmp_path, "--friday", "2026-11-27", "--by", "kecamatan", "--format", "png",
        "--output", "omzet.png",
    )  # fmt: skip

    image = imread(tmp_path / "omzet.png", format="png")
    height, width, _ = image.shape
    assert width == 1080 and height >= 1080
    assert len({tuple(pixel) for pixel in image.reshape(-1, image.shape[2])[::97]}) > 10


async def test_an_existing_file_is_kept_without_force(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    (tmp_path / "omzet.png").write_bytes(b"kept")
    result = run_jbl(
        "report", "--format", "png", "--output", "omzet.png",
        database_url=friday.settings.database.url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0 and "--force" in result.stderr
    assert (tmp_path / "omzet.png").read_bytes() == b"kept"


async def test_a_binary_format_is_refused_on_a_terminal(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    done = _on_a_terminal(friday, tmp_path, "report", "--format", "xlsx")
    assert done.returncode != 0
    assert b"--format xlsx is not for a terminal: add --output FILE" in done.stderr


def _rows(sheet: Any) -> list[tuple[Any, ...]]:
    """The sheet's table: name, parent, units and omzet per row, the total last."""
    return [row[1:5] for row in sheet.iter_rows(min_row=HEADER_ROW + 2, values_only=True)]


async def test_the_spreadsheet_lists_every_merchant_and_product_of_the_friday(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    _written(
        friday, tmp_path, "--friday", "2026-11-27", "--format", "xlsx", "--output", "laporan.xlsx"
    )
    from_cli = openpyxl.load_workbook(tmp_path / "laporan.xlsx")
    # A batch of one row makes the writer wait on the queue and the reader on the writer.
    one_by_one = io.BytesIO()
    await write_report_streaming(
        one_by_one, friday.sessions, Period.friday(FRIDAY), Scope(), friday.settings.timezone,
        "id", products=friday.settings.reports.sheet_products, size=1,
    )  # fmt: skip
    streamed = openpyxl.load_workbook(one_by_one)

    for workbook in (from_cli, streamed):
        assert _rows(workbook["Per toko"]) == [
            ("Sambal Dapur Mak Ijah", "Menteng", 4, 140000),
            ("Kopi Tubruk Mbak Rini", "Tebet", 2, 90000),
            ("Kue Basah Ibu Ratna", "Senen", 2, 30000),
            ("Keripik Pedas Neng Lala", "Cilandak", 0, 0),
            (None, "Total", 8, 260000),
        ]
        assert _rows(workbook["Per produk"]) == [
            ("Sambal Bawang Pedas 200 g", "Sambal Dapur Mak Ijah", 4, 140000),
            ("Kopi Robusta Bubuk 250 g", "Kopi Tubruk Mbak Rini", 2, 90000),
            ("Klepon Gula Merah isi 10", "Kue Basah Ibu Ratna", 2, 30000),
            ("Keripik Singkong Pedas Level 5 200 g", "Keripik Pedas Neng Lala", 0, 0),
            (None, "Total", 8, 260000),
        ]


def _run_limited(
    app: App, cwd: Path, largest_file: int, *args: str
) -> subprocess.CompletedProcess[str]:
    """jbl report, whose files cannot grow beyond `largest_file` bytes (`RLIMIT_FSIZE`):
    writing past it fails as a full disk would, in the middle of the file."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest_file, largest_file))

    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    env["JBL_DATABASE__URL"] = app.settings.database.url
    return subprocess.run(
        [JBL, "report", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
        preexec_fn=limit,
    )  # fmt: skip


async def test_a_report_that_fails_half_written_leaves_no_file_and_keeps_the_old_one(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    (tmp_path / "omzet.png").write_bytes(b"kept")
    failed = _run_limited(
        friday, tmp_path, 40_000,
        "--friday", "2026-11-27", "--format", "png", "--output", "omzet.png", "--force",
    )  # fmt: skip
    assert (failed.returncode, failed.stderr) == (
        2,
        "jbl: cannot write omzet.png: File too large\n",
    )
    assert [name for name in os.listdir(tmp_path) if "omzet" in name] == ["omzet.png"]
    assert (tmp_path / "omzet.png").read_bytes() == b"kept"

    _written(
        friday, tmp_path, "--friday", "2026-11-27", "--format", "png", "--output", "omzet.png",
        "--force",
    )  # fmt: skip
    assert [name for name in os.listdir(tmp_path) if "omzet" in name] == ["omzet.png"]
    assert (tmp_path / "omzet.png").stat().st_size > 40_000


async def test_the_product_sheet_lists_the_largest_products_up_to_the_setting_and_says_so(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    result = run_jbl(
        "report", "--friday", "2026-11-27", "--format", "xlsx", "--output", "laporan.xlsx",
        database_url=friday.settings.database.url, cwd=tmp_path,
        extra_env={"JBL_REPORTS__SHEET_PRODUCTS": "2"},
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")

    workbook = openpyxl.load_workbook(tmp_path / "laporan.xlsx")
    products = workbook["Per produk"]
    assert products.cell(HEADER_ROW, 1).value == (
        "Hanya produk dengan omzet terbesar yang dicantumkan; 2 produk lainnya tidak."
        " Daftar lengkap: jbl report --by product --format csv"
    )
    assert _rows(products) == [
        ("Sambal Bawang Pedas 200 g", "Sambal Dapur Mak Ijah", 4, 140000),
        ("Kopi Robusta Bubuk 250 g", "Kopi Tubruk Mbak Rini", 2, 90000),
        (None, "Total", 8, 260000),
    ]
    # Every merchant is still there, and no other sheet has the note.
    assert len(_rows(workbook["Per toko"])) == 5
    assert workbook["Per toko"].cell(HEADER_ROW, 1).value is None
