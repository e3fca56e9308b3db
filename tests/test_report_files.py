"""The report's files as staff receive them: the spreadsheet opened again with openpyxl, and
the chart's PNG decoded."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from matplotlib.image import imread

from handlers.reports.chart import chart_png
from handlers.reports.workbook import write_workbook
from models.results import Dimension, Figures, Period, Report, Results, Row, Scope, Summary

ROOT = Path(__file__).resolve().parents[1]
FRIDAY = date(2026, 11, 27)


def figures(units: int, omzet: int, *, placed: int, sold: int, completed: int) -> Figures:
    return Figures(
        placed=placed,
        sold=sold,
        completed=completed,
        rejected=placed - sold,
        units=units,
        omzet=omzet,
        buyers=sold,
        new_buyers=min(sold, 1),
        merchants_with_sale=1 if sold else 0,
    )


SELATAN = figures(30, 1_050_000, placed=12, sold=10, completed=8)
TIMUR = figures(7, 175_000, placed=5, sold=3, completed=3)
SERIBU = figures(0, 0, placed=1, sold=0, completed=0)
TOTAL = Figures(
    placed=18,
    sold=13,
    completed=11,
    rejected=4,
    cancelled=1,
    units=37,
    omzet=1_225_000,
    buyers=12,
    new_buyers=5,
    merchants_with_sale=3,
    products_sold=4,
)
KOTA = [
    Row("Jakarta Selatan", SELATAN),
    Row("Jakarta Timur", TIMUR),
    Row("Kabupaten Administrasi Kepulauan Seribu", SERIBU),
]
KECAMATAN = [
    Row("Tebet", figures(20, 700_000, placed=7, sold=6, completed=5), parent="Jakarta Selatan"),
    Row("Cilandak", figures(10, 350_000, placed=5, sold=4, completed=3), parent="Jakarta Selatan"),
    Row("Cakung", TIMUR, parent="Jakarta Timur"),
    Row("Kepulauan Seribu Utara", SERIBU, parent="Kabupaten Administrasi Kepulauan Seribu"),
]
# Names are typed by merchants: one looks like a formula, one sold nothing.
MERCHANTS = [
    Row('=HYPERLINK("http://evil.example","klik")', SELATAN, parent="Tebet", id=11),
    Row("Kopi Cakung", TIMUR, parent="Cakung", id=12),
    Row("Toko Sepi", Figures(), parent="Kepulauan Seribu Utara", id=13),
]
PRODUCTS = [
    Row("=1+1 Kopi Susu $5$", SELATAN, parent=MERCHANTS[0].key, id=101),
    Row("Keripik Tempe", TIMUR, parent="Kopi Cakung", id=102),
]
SHEETS = ["Ringkasan", "Per kota", "Per kecamatan", "Per toko", "Per produk"]
HEADER_ROW = 6  # openpyxl counts from 1: the title, period, scope, note and a blank line first


def report(merchants: Iterator[Row] | None = None) -> Report:
    period, scope = Period.fridays(FRIDAY, 4), Scope()
    return Report(
        period,
        scope,
        summary=lambda: Summary(period, scope, TOTAL, KOTA, KECAMATAN),
        merchants=iter(MERCHANTS) if merchants is None else merchants,
        products=iter(PRODUCTS),
    )


def by_kota() -> Results:
    return Results(Period.fridays(FRIDAY, 4), Scope(), Dimension.KOTA, TOTAL, KOTA)


def written(language: str = "id") -> openpyxl.Workbook:
    buffer = io.BytesIO()
    write_workbook(buffer, report(), language)
    return openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))


def table(sheet) -> list[list[object]]:
    """The sheet's rows from the header on."""
    return [list(row) for row in sheet.iter_rows(min_row=HEADER_ROW, values_only=True)]


def test_the_workbook_has_a_sheet_each_with_the_period_and_scope_in_its_heading() -> None:
    book = written()
    assert book.sheetnames == SHEETS
    for sheet in book:
        assert sheet["A1"].value == "Jumat Beli Lokal — hasil penjualan"
        assert sheet["A2"].value == "6 November 2026 s.d. 27 November 2026"
        assert sheet["A3"].value == "Seluruh Jakarta"


def test_english_headers_come_from_the_english_texts() -> None:
    book = written("en")
    assert book.sheetnames == ["Summary", "By kota", "By kecamatan", "By merchant", "By product"]
    assert table(book["By kota"])[0][:4] == ["Kota", "Units sold", "Omzet", "Orders placed"]
    assert book["Summary"]["A3"].value == "All of Jakarta"


def test_units_and_omzet_stand_beside_placed_sold_completed_and_lost() -> None:
    rows = table(written()["Per kota"])
    assert rows[0] == [
        "Kota",
        "Unit terjual",
        "Omzet",
        "Pesanan masuk",
        "Pesanan terjual",
        "Pesanan selesai",
        "Pesanan batal (ditolak, dibatalkan, kedaluwarsa)",
        "Pembeli",
        "Rata-rata per pesanan",
    ]
    assert rows[1] == ["Jakarta Selatan", 30, 1_050_000, 12, 10, 8, 2, 10, 105_000]
    assert rows[3] == ["Kabupaten Administrasi Kepulauan Seribu", 0, 0, 1, 0, 0, 1, 0, 0]
    assert rows[-1] == ["Total", 37, 1_225_000, 18, 13, 11, 5, 12, 94_230]


def test_every_breakdown_ends_with_the_reports_total() -> None:
    book = written()
    expected_kecamatan = [["Tebet", "Jakarta Selatan", 20, 700_000], ["Cakung", "Jakarta Timur"]]
    kecamatan = table(book["Per kecamatan"])
    assert kecamatan[1][:4] == expected_kecamatan[0]
    assert kecamatan[3][:2] == expected_kecamatan[1]
    for name in SHEETS[1:]:
        last = table(book[name])[-1]
        assert "Total" in last
        assert last[last.index("Total") + 1 : last.index("Total") + 3] == [37, 1_225_000]


def test_the_summary_lists_every_figure_of_the_total() -> None:
    summary = {row[0]: row[1] for row in table(written()["Ringkasan"])[1:] if row[0]}
    assert summary["Unit terjual"] == 37
    assert summary["Omzet"] == 1_225_000
    assert summary["Pesanan masuk"] == 18
    assert summary["Pesanan batal (ditolak, dibatalkan, kedaluwarsa)"] == 5
    assert summary["Pesanan dibatalkan"] == 1
    assert summary["Pembeli kembali"] == 7
    assert summary["Rata-rata per pesanan"] == 94_230
    assert summary["Produk terjual"] == 4


def test_money_cells_carry_the_rupiah_format_and_counts_do_not() -> None:
    book = written()
    kota = book["Per kota"]
    assert "Rp" in kota.cell(HEADER_ROW + 1, 3).number_format
    assert "Rp" in kota.cell(HEADER_ROW + 1, 9).number_format
    assert "Rp" not in kota.cell(HEADER_ROW + 1, 2).number_format
    assert kota.cell(HEADER_ROW + 1, 2).number_format == "#,##0"
    summary = book["Ringkasan"]
    formats = {row[0].value: row[1].number_format for row in summary.iter_rows(min_row=7)}
    assert "Rp" in formats["Omzet"]
    assert "Rp" not in formats["Unit terjual"]


def test_names_typed_by_people_stay_text_and_a_merchant_without_sale_is_listed() -> None:
    book = written()
    merchants = book["Per toko"]
    rows = table(merchants)
    assert rows[0][:3] == ["ID", "Toko", "Wilayah"]
    formula_like = merchants.cell(HEADER_ROW + 1, 2)
    assert formula_like.value == MERCHANTS[0].key
    assert formula_like.data_type == "s"
    assert rows[3][:5] == [13, "Toko Sepi", "Kepulauan Seribu Utara", 0, 0]
    product = book["Per produk"].cell(HEADER_ROW + 1, 2)
    assert (product.value, product.data_type) == ("=1+1 Kopi Susu $5$", "s")


def test_the_summary_has_a_native_chart_of_omzet_per_kota() -> None:
    summary = written()["Ringkasan"]
    assert len(summary._charts) == 1
    (series,) = summary._charts[0].series
    assert series.val.numRef.f == "'Per kota'!$C$7:$C$9"
    assert series.cat.strRef.f == "'Per kota'!$A$7:$A$9"
    cached = [point.v for point in series.cat.strRef.strCache.pt]
    assert cached == [row.key for row in KOTA]


def test_the_workbook_is_written_to_a_path_too(tmp_path: Path) -> None:
    target = tmp_path / "laporan.xlsx"
    write_workbook(target, report(), "id")
    assert openpyxl.load_workbook(target).sheetnames == SHEETS


def test_100000_merchants_stream_through_without_being_held(tmp_path: Path) -> None:
    count = 100_000
    # Objects allocated since the first merchant, looked at as the writer asks for more. Held
    # in memory, these rows' cells were over a million objects; streamed, a few hundred.
    # (tracemalloc would give bytes, but made this test several times slower.)
    growth: list[int] = []

    def merchants() -> Iterator[Row]:
        start = sys.getallocatedblocks()
        for number in range(count):
            if number % 5_000 == 0:
                growth.append(sys.getallocatedblocks() - start)
            yield Row(f"Toko {number}", SELATAN, parent="Tebet", id=number)

    target = tmp_path / "year.xlsx"
    write_workbook(target, report(merchants()), "id")
    assert len(growth) == count // 5_000
    assert max(growth) < 20_000, growth
    sheet = openpyxl.load_workbook(target, read_only=True)["Per toko"]
    # The header, the merchants and the total.
    assert sheet.max_row == HEADER_ROW + count + 1


def pixels(png: bytes):
    return imread(io.BytesIO(png), format="png")


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_chart_is_a_phone_sized_png_with_something_drawn(language: str) -> None:
    image = pixels(chart_png(by_kota(), language))
    height, width, _ = image.shape
    assert width == 1080
    assert height >= 1080
    colours = {tuple(pixel) for pixel in image.reshape(-1, image.shape[2])[::97]}
    assert len(colours) > 10


def test_many_rows_make_a_taller_chart_of_the_largest_only() -> None:
    rows = [
        Row(
            f"Toko dengan nama yang panjang sekali {n}",
            figures(n, n * 1000, placed=n, sold=n, completed=n),
        )
        for n in range(40, 0, -1)
    ]
    results = Results(
        Period.friday(FRIDAY), Scope(kota="Jakarta Selatan"), Dimension.MERCHANT, TOTAL, rows
    )
    few = Results(results.period, results.scope, Dimension.MERCHANT, TOTAL, rows[:3])
    tall = pixels(chart_png(results, "id"))
    short = pixels(chart_png(few, "id"))
    assert tall.shape[1] == short.shape[1] == 1080
    assert tall.shape[0] > short.shape[0]


def test_a_period_without_sales_still_draws_a_chart_that_says_so() -> None:
    empty = Results(Period.friday(FRIDAY), Scope(), Dimension.KOTA, Figures())
    image = pixels(chart_png(empty, "id"))
    assert image.shape[1] == 1080
    assert len({tuple(pixel) for pixel in image.reshape(-1, image.shape[2])[::31]}) > 2


def test_importing_jbl_does_not_import_matplotlib() -> None:
    # Its first import builds a font cache: that cost belongs to the first chart, not start-up.
    code = (
        "import sys, handlers.reports.chart, handlers.reports.workbook\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# Names as people type them: spaces around, XML's own characters, a control character, text
# that looks like Excel's escape, a tab and a new line, emoji, a non-character.
TYPED_NAMES = [
    "  Toko Spasi  ",
    'Kopi & Teh <Asli> "Enak"',
    "Bel\x07 Toko",
    "Kode _x0041_ tetap",
    "Tab\tdan\nbaris",
    "Ünïcödé 🍜",
    "Akhir\ufffe",
]


def test_names_typed_by_people_read_back_as_xlsxwriter_itself_writes_them(tmp_path: Path) -> None:
    merchants = iter([Row(name, SELATAN, parent=name, id=n) for n, name in enumerate(TYPED_NAMES)])
    ours = tmp_path / "ours.xlsx"
    write_workbook(ours, report(merchants), "id")
    plain = tmp_path / "plain.xlsx"
    workbook = xlsxwriter.Workbook(plain, {"constant_memory": True})
    sheet = workbook.add_worksheet()
    for row, name in enumerate(TYPED_NAMES):
        sheet.write_string(row, 0, name)
    workbook.close()

    expected = [row[0] for row in openpyxl.load_workbook(plain).active.iter_rows(values_only=True)]
    rows = table(openpyxl.load_workbook(ours)["Per toko"])[1:-1]
    assert [row[1] for row in rows] == expected
    assert [row[2] for row in rows] == expected
    assert expected[0] == "  Toko Spasi  "


def test_a_product_sheet_cut_short_says_how_many_are_left_out_and_where_they_are() -> None:
    buffer = io.BytesIO()
    write_workbook(buffer, replace(report(), products_left_out=lambda: 1_234), "en")
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    note = (
        "Only the products with the largest omzet are listed; 1,234 more are not."
        " The full list: jbl report --by product --format csv"
    )
    assert book["By product"].cell(HEADER_ROW - 1, 1).value == note
    assert [row[1] for row in table(book["By product"])[1:-1]] == [row.key for row in PRODUCTS]
    assert all(book[name].cell(HEADER_ROW - 1, 1).value is None for name in book.sheetnames[:4])
