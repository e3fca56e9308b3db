"""What tests/test_results.py leaves: the Friday by category and by kelurahan, the table as what
a terminal gets without --format, the compact numbers of the chat and the chart, and the chart
drawn without pyplot."""

from __future__ import annotations

import csv
import io
import os
import pty
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import App
from handlers.reports.cells import csv_cell
from handlers.reports.headings import compact_rupiah, count
from tests.conftest import Clock
from tests.people import Chatter
from tests.test_cli_and_console import JBL, run_jbl
from tests.test_report_files import ROOT
from tests.test_results import FRIDAY_0001, _order, friday  # noqa: F401 - the fixture

JAMU = ("Jamu Kunyit", "Jamu Kunyit Asam 500 ml")  # Produk Kesehatan: Rp18.000


@pytest.fixture
async def two_categories(friday: App, clock: Clock) -> App:  # noqa: F811 - the fixture
    """The Friday of tests/test_results.py, and Sari's 2 jamu at noon: health products."""
    back_to = clock()
    await _order(
        clock, Chatter(friday, "console:sari"), FRIDAY_0001 + timedelta(hours=12), (JAMU, 2)
    )
    clock.now = back_to
    return friday


def _rows(app: App, tmp_path: Path, *args: str) -> list[dict[str, str]]:
    result = run_jbl(
        "report", "--friday", "2026-11-27", *args, database_url=app.settings.database.url,
        cwd=tmp_path,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _picked(rows: list[dict[str, str]], *names: str) -> list[tuple[str, ...]]:
    return [tuple(row[name] for name in names) for row in rows]


async def test_a_friday_by_category_counts_each_categorys_items(
    two_categories: App, tmp_path: Path
) -> None:
    rows = _rows(two_categories, tmp_path, "--by", "category", "--format", "csv")
    assert _picked(rows, "level", "key", "placed", "sold", "lost", "units", "omzet", "buyers") == [
        ("total", "Jakarta", "8", "5", "3", "10", "296000", "3"),
        ("category", "Makanan & Minuman", "7", "4", "3", "8", "260000", "2"),
        ("category", "Produk Kesehatan", "1", "1", "0", "2", "36000", "1"),
    ]


async def test_a_friday_by_kelurahan_names_each_with_its_kecamatan(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    rows = _rows(friday, tmp_path, "--by", "kelurahan", "--format", "csv")
    picked = ("level", "key", "parent", "placed", "sold", "units", "omzet", "new_buyers")
    # Counted by hand from the fixture's orders (tests/test_results.py).
    assert _picked(rows, *picked) == [
        ("total", "Jakarta", "", "7", "4", "8", "260000", "1"),
        ("kelurahan", "Pegangsaan", "Menteng", "2", "2", "4", "140000", "1"),
        ("kelurahan", "Tebet Barat", "Tebet", "2", "1", "2", "90000", "1"),
        ("kelurahan", "Kwitang", "Senen", "2", "1", "2", "30000", "0"),
        ("kelurahan", "Pondok Labu", "Cilandak", "1", "0", "0", "0", "0"),
    ]


def _printed_on_a_terminal(app: App, cwd: Path, *args: str) -> str:
    """What `jbl` prints with its standard output on a (pseudo-)terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    env["JBL_DATABASE__URL"] = app.settings.database.url
    screen, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [JBL, *args], stdout=terminal, stderr=subprocess.PIPE, cwd=cwd, env=env, timeout=120
        )
        assert (done.returncode, done.stderr) == (0, b"")
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                read = os.read(screen, 65536)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not read:
                break
            shown += read
        return shown.decode().replace("\r\n", "\n")
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(screen)


async def test_a_terminal_gets_the_table_and_a_pipe_the_csv(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    shown = _printed_on_a_terminal(friday, tmp_path, "report", "--friday", "2026-11-27")
    assert shown.startswith("Friday 2026-11-27 (Health Products), Jakarta, by kota\n")
    [total] = [line.split() for line in shown.splitlines() if line.startswith("total")]
    assert total[:7] == ["total", "7", "4", "1", "3", "8", "Rp260.000"]
    piped = _rows(friday, tmp_path)
    assert piped[0]["level"] == "total" and piped[0]["omzet"] == "260000"


@pytest.mark.parametrize(
    ("amount", "language", "shown"),
    [
        # South Jakarta's first two Fridays, as the issue quotes them.
        (105_000_000, "id", "Rp105\xa0jt"),
        (105_000_000, "en", "Rp105M"),
        (260_000, "id", "Rp260\xa0rb"),
        (1_500_000_000, "id", "Rp1,5\xa0M"),
        (0, "id", "Rp0"),
    ],
)
def test_compact_rupiah_is_indonesian_and_says_rp_in_every_language(
    amount: int, language: str, shown: str
) -> None:
    assert compact_rupiah(amount, language) == shown


def test_counts_group_thousands_as_each_language_does() -> None:
    assert (count(3484, "id"), count(3484, "en")) == ("3.484", "3,484")


def test_the_chart_is_drawn_without_pyplot() -> None:
    # pyplot keeps figures in global state, which charts drawn in threads at once would share.
    code = (
        "import sys\n"
        "from tests.test_report_files import by_kota\n"
        "from handlers.reports.chart import chart_png\n"
        "assert chart_png(by_kota(), 'id').startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+62 812 Toko", "'+62 812 Toko"),
        ("-10% Diskon", "'-10% Diskon"),
        ("@Sambal", "'@Sambal"),
        ("Toko = Rumah", "Toko = Rumah"),
        ("Kopi Tubruk", "Kopi Tubruk"),
        ("", ""),
        (None, ""),
        (-5, -5),
    ],
)
def test_a_csv_cell_that_a_spreadsheet_would_run_is_written_as_text(
    typed: str | int | None, written: str | int
) -> None:
    # Through jbl report, "=" and "@" are checked in tests/test_results.py.
    assert csv_cell(typed) == written
