"""Staff import their merchants and products files with `jbl import`: a dry run first, which
writes nothing, then the import, which a second run leaves unchanged; rejected rows go to
FILE.errors.csv with what to fix, and what was imported is what residents find."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import func, select

from bot.bootstrap import App
from handlers.imports import BATCH_ROWS
from models.catalog import Merchant, Product
from tests.people import Chatter
from tests.test_cli_and_console import JBL, run_jbl
from tests.test_cli_errors import assert_one_line
from tests.test_import_files import sheet_readers
from tests.test_search import found

MERCHANTS = [
    ["jakpreneur_id", "name", "phone", "kota", "kecamatan", "kelurahan"],
    ["JKP-1", "Dapur Sari", "0812-9990-0001", "Jakarta Selatan", "Tebet", "Manggarai"],
    ["JKP-2", "Toko Tiga", "0812-9990-0002", "Jakarta Selatn", "Tebet", ""],
    ["JKP-3", "Bengkel Joko", "", "Jakarta Timur", "Cakung", ""],
]
PRODUCTS = [
    ["jakpreneur_id", "sku", "name", "category", "price", "stock"],
    ["JKP-1", "S-1", "Sambal Cakalang Sari", "Makanan & Minuman", "35.000", "12"],
    ["JKP-1", "S-2", "Abon Tongkol Sari", "makanan-minuman", "Rp40.000", "5"],
    ["JKP-9", "S-1", "Kopi Entah", "Makanan & Minuman", "20000", "3"],
]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ";") -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet()
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row)
    workbook.close()
    return path


def jbl_import(database_url: str, cwd: Path, *args: str) -> str:
    """`jbl import …`, which must succeed; its last line of output."""
    result = run_jbl("import", *args, database_url=database_url, cwd=cwd)
    assert (result.returncode, "Traceback" in result.stderr) == (0, False), result.stderr
    return result.stdout.splitlines()[-1]


async def imported(app: App) -> tuple[int, int]:
    async with app.sessions() as session:
        shops = await session.scalar(
            select(func.count()).where(Merchant.jakpreneur_id.is_not(None))
        )
        products = await session.scalar(select(func.count()).where(Product.sku.is_not(None)))
    return int(shops or 0), int(products or 0)


def errors_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file, delimiter=";"))


async def test_a_dry_run_counts_every_row_writes_nothing_and_reports_the_rows_to_fix(
    app: App, database_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "toko.csv", MERCHANTS)
    last = jbl_import(database_url, tmp_path, "merchants", str(path), "--dry-run")
    assert last == "merchants (dry run): 2 to create, 0 to update, 0 unchanged, 1 in error"
    assert await imported(app) == (0, 0)
    assert errors_of(tmp_path / "toko.csv.errors.csv") == [
        [*MERCHANTS[0], "error"],
        [*MERCHANTS[2], 'kota "Jakarta Selatn" tidak ada di Jakarta; maksudnya Jakarta Selatan?'],
    ]


async def test_a_second_import_of_the_same_files_changes_nothing_and_residents_find_them(
    app: App, database_url: str, tmp_path: Path, budi: Chatter
) -> None:
    shops = write_xlsx(tmp_path / "toko.xlsx", MERCHANTS)
    goods = write_xlsx(tmp_path / "produk.xlsx", PRODUCTS)
    assert jbl_import(database_url, tmp_path, "merchants", str(shops)) == (
        "merchants: 2 created, 0 updated, 0 unchanged, 1 in error"
    )
    assert jbl_import(database_url, tmp_path, "products", str(goods), "--language", "en") == (
        "products: 2 created, 0 updated, 0 unchanged, 1 in error"
    )
    with (tmp_path / "produk.xlsx.errors.csv").open(encoding="utf-8-sig") as file:
        assert list(csv.reader(file))[1] == [
            *PRODUCTS[3],
            "No merchant has this jakpreneur_id yet; import the merchants file first",
        ]
    assert await imported(app) == (2, 2)
    assert jbl_import(database_url, tmp_path, "merchants", str(shops)) == (
        "merchants: 0 created, 0 updated, 2 unchanged, 1 in error"
    )
    assert jbl_import(database_url, tmp_path, "products", str(goods)) == (
        "products: 0 created, 0 updated, 2 unchanged, 1 in error"
    )
    await budi.send("/cari sambal cakalang")
    assert "Sambal Cakalang Sari" in found(budi)


async def test_a_file_with_every_row_right_leaves_no_error_report(
    app: App, database_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "toko.csv", [MERCHANTS[0], MERCHANTS[1]], delimiter=",")
    (tmp_path / "toko.csv.errors.csv").write_text("from an earlier run\n")
    assert jbl_import(database_url, tmp_path, "merchants", str(path)) == (
        "merchants: 1 created, 0 updated, 0 unchanged, 0 in error"
    )
    assert not (tmp_path / "toko.csv.errors.csv").exists()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "kosong"),
        (b"\x00\x01PDF-1.7 binary \xff\xfe junk", "bukan CSV atau XLSX"),
        (b"jakpreneur_id;name\nJKP-1;Dapur Sari\n", "phone, kota, kecamatan"),
    ],
    ids=["empty", "not-a-table", "missing-columns"],
)
async def test_a_file_that_cannot_be_imported_says_why_in_one_line_and_writes_nothing(
    app: App, database_url: str, tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "toko.csv"
    path.write_bytes(content)
    result = run_jbl("import", "merchants", str(path), database_url=database_url, cwd=tmp_path)
    assert_one_line(result, "toko.csv", said)
    assert await imported(app) == (0, 0)
    assert not (tmp_path / "toko.csv.errors.csv").exists()


async def test_the_templates_print_a_header_and_a_row_that_imports(
    app: App, database_url: str, tmp_path: Path
) -> None:
    for kind in ("merchants", "products"):
        printed = run_jbl("import", "template", kind, database_url=database_url, cwd=tmp_path)
        assert printed.returncode == 0, printed.stderr
        (tmp_path / f"{kind}.csv").write_text(printed.stdout, encoding="utf-8")
        assert len(printed.stdout.splitlines()) == 2
        assert jbl_import(database_url, tmp_path, kind, f"{kind}.csv") == (
            f"{kind}: 1 created, 0 updated, 0 unchanged, 0 in error"
        )
    assert await imported(app) == (1, 1)


# More shops than ten batches, so that an import stopped after its first is stopped half-way.
SHOPS_ROWS = 10 * BATCH_ROWS + 17
MANY_SHOPS = [MERCHANTS[0]] + [
    [f"JKP-{n:05}", f"Toko {n}", "", "Jakarta Timur", "Cakung", ""] for n in range(SHOPS_ROWS)
]


@contextlib.asynccontextmanager
async def importing_half_way(
    app: App, database_url: str, path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`jbl import merchants PATH` in its own process group (as a terminal's foreground job),
    handed over once its first batch is in; killed if the block leaves it running."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    env["JBL_DATABASE__URL"] = database_url
    importing = await asyncio.create_subprocess_exec(
        JBL, "import", "merchants", str(path), cwd=path.parent, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        # A condition in another process, looked at again shortly.
        async with asyncio.timeout(60):
            while (await imported(app))[0] == 0:
                assert importing.returncode is None, "the import ended before it was stopped"
                await asyncio.sleep(0.01)
        yield importing
    finally:
        if importing.returncode is None:
            importing.kill()
            await importing.communicate()


async def finishes_what_was_left(app: App, database_url: str, path: Path) -> None:
    """Whole batches were written, and a second run writes the rest."""
    written, _ = await imported(app)
    assert written % BATCH_ROWS == 0 and 0 < written < SHOPS_ROWS
    assert jbl_import(database_url, path.parent, "merchants", str(path)) == (
        f"merchants: {SHOPS_ROWS - written:,} created, 0 updated, {written:,} unchanged, 0 in error"
    )
    assert await imported(app) == (SHOPS_ROWS, 0)


async def test_an_import_killed_half_way_leaves_whole_batches_and_a_second_run_finishes_it(
    app: App, database_url: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "toko.csv", MANY_SHOPS)
    async with importing_half_way(app, database_url, path) as importing:
        importing.kill()
        await importing.communicate()
    await finishes_what_was_left(app, database_url, path)


async def test_ctrl_c_stops_a_workbook_import_between_batches_quietly_and_with_its_reader(
    app: App, database_url: str, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "toko.xlsx", MANY_SHOPS)
    async with importing_half_way(app, database_url, path) as importing:
        # Ctrl-C reaches the whole foreground process group: the sheet's reader too.
        os.killpg(importing.pid, signal.SIGINT)
        _, stderr = await importing.communicate()
    # Nothing but the progress lines: no traceback, neither the importer's nor its reader's.
    said = [line for line in stderr.decode().splitlines() if not line.startswith("rows done: ")]
    assert (importing.returncode, said) == (130, [])
    assert sheet_readers(path) == []
    await finishes_what_was_left(app, database_url, path)


async def test_columns_jbl_does_not_know_are_named_in_a_warning_and_ignored(
    app: App, database_url: str, tmp_path: Path
) -> None:
    rows = [[*MERCHANTS[0], "Catatan"], [*MERCHANTS[1], "pelanggan lama"]]
    write_csv(tmp_path / "toko.csv", rows)
    result = run_jbl("import", "merchants", "toko.csv", database_url=database_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "jbl: toko.csv: Kolom ini tidak dikenal dan tidak dibaca: Catatan." in result.stderr
    assert result.stdout.splitlines()[-1] == (
        "merchants: 1 created, 0 updated, 0 unchanged, 0 in error"
    )


async def test_deactivate_missing_hides_what_the_file_leaves_out_after_a_dry_run_counts_it(
    app: App, database_url: str, tmp_path: Path, budi: Chatter
) -> None:
    shops = write_csv(tmp_path / "toko.csv", [MERCHANTS[0], MERCHANTS[1], MERCHANTS[3]])
    goods = write_csv(tmp_path / "produk.csv", PRODUCTS[:3])
    jbl_import(database_url, tmp_path, "merchants", str(shops))
    jbl_import(database_url, tmp_path, "products", str(goods))
    fewer = write_csv(tmp_path / "produk-baru.csv", PRODUCTS[:2])
    dry = run_jbl(
        "import", "products", str(fewer), "--deactivate-missing", "--dry-run",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert dry.stdout.splitlines() == [
        "products missing from the file, would be hidden: 1",
        "products (dry run): 0 to create, 0 to update, 1 unchanged, 0 in error",
    ]
    await budi.send("/cari abon tongkol sari")
    assert found(budi) == ["Abon Tongkol Sari"]
    done = run_jbl(
        "import", "products", str(fewer), "--deactivate-missing",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert done.stdout.splitlines()[0] == "products missing from the file, hidden: 1"
    await budi.send("/cari abon tongkol sari")
    assert found(budi) == []
    # A shops file without Dapur Sari hides her products, the one left included.
    without_sari = write_csv(tmp_path / "toko-baru.csv", [MERCHANTS[0], MERCHANTS[3]])
    gone = run_jbl(
        "import", "merchants", str(without_sari), "--deactivate-missing",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert gone.stdout.splitlines()[0] == (
        "shops whose products are missing from the file, hidden: 1"
    )
    await budi.send("/cari sambal cakalang")
    assert "Sambal Cakalang Sari" not in found(budi)


async def test_deactivate_missing_hides_nothing_while_rows_are_in_error(
    app: App, database_url: str, tmp_path: Path
) -> None:
    jbl_import(database_url, tmp_path, "merchants", str(write_csv(tmp_path / "t.csv", MERCHANTS)))
    jbl_import(database_url, tmp_path, "products", str(write_csv(tmp_path / "p.csv", PRODUCTS)))
    broken = write_csv(tmp_path / "p2.csv", [PRODUCTS[0], PRODUCTS[3]])
    result = run_jbl(
        "import", "products", str(broken), "--deactivate-missing",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert "nothing hidden: fix the rows in error first" in result.stderr
    async with app.sessions() as session:
        shown = await session.scalar(
            select(func.count()).where(Product.sku.is_not(None), Product.active)
        )
    assert shown == 2
