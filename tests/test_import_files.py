"""Import files as staff save them: CSV in every encoding and delimiter Excel writes, XLSX, and
the broken files a person may pick by mistake; what they are told, and what is read."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from handlers.import_errors import ErrorReport, error_report_path
from handlers.import_files import MAX_FILE_BYTES, UnreadableFile, open_table
from handlers.import_rows import (
    MERCHANT_COLUMNS,
    PRODUCT_COLUMNS,
    check_merchants,
    check_products,
)
from models.importing import MerchantRecord, ProductRecord

HEADER = ["jakpreneur_id", "sku", "name", "category", "price", "unit", "stock", "curated"]
ATIEK = ["JP-001", "KL-1", "Kue Lumpur Bu Atiék", "Makanan & Minuman", "15.000", "pcs", "12", "ya"]
ONDE = ["JP-001", "OO-2", "Onde-onde", "makanan-minuman", "Rp8.000", "", "0", "tidak"]


def write_csv(path: Path, rows: list[list[str]], encoding: str, delimiter: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], formulas: dict[tuple[int, int], str]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Produk")
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row)
    for (number, column), formula in formulas.items():
        sheet.write_formula(number, column, formula)
    workbook.close()
    return path


def products(path: Path) -> list[ProductRecord | list[str]]:
    """Each row's record, or the English texts of what is wrong with it."""
    with open_table(path, PRODUCT_COLUMNS) as table:
        return [
            checked.record or [problem.text("en") for problem in checked.problems]
            for checked in check_products(table)
        ]


def refusal(path: Path, columns=PRODUCT_COLUMNS, language: str = "en") -> str:
    with pytest.raises(UnreadableFile) as refused, open_table(path, columns) as table:
        list(table.rows)
    return refused.value.problem.text(language)


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_a_csv_is_read_in_every_encoding_and_delimiter_excel_writes(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    path = write_csv(tmp_path / "produk.csv", [HEADER, ATIEK, ONDE], encoding, delimiter)
    with open_table(path, PRODUCT_COLUMNS) as table:
        assert table.delimiter == delimiter
        assert table.header == tuple(HEADER)
        assert table.warnings == []
        checked = list(check_products(table))
    assert [c.problems for c in checked] == [(), ()]
    assert checked[0].record == ProductRecord(
        jakpreneur_id="JP-001",
        sku="KL-1",
        name="Kue Lumpur Bu Atiék",
        category="Makanan & Minuman",
        price=15000,
        stock=12,
        unit="pcs",
        description=None,
        photo_url=None,
        curated=True,
    )
    assert (checked[1].record.price, checked[1].record.stock) == (8000, 0)
    assert (checked[1].record.unit, checked[1].record.curated) == (None, False)
    assert [c.row.line for c in checked] == [2, 3]


def test_header_names_match_whatever_their_case_spaces_underscores_or_hyphens(
    tmp_path: Path,
) -> None:
    header = ["Jakpreneur ID", "SKU", "Name", "CATEGORY", "price", "Unit", "stock", " Curated "]
    url = "https://example.com/kue.jpg"
    path = write_csv(tmp_path / "produk.csv", [[*header, "Photo-URL"], [*ATIEK, url]], "utf-8", ";")
    with open_table(path, PRODUCT_COLUMNS) as table:
        assert table.warnings == []
    [record] = products(path)
    assert isinstance(record, ProductRecord)
    assert (record.jakpreneur_id, record.curated, record.photo_url) == ("JP-001", True, url)


def test_an_xlsx_is_read_from_its_first_sheet_with_numbers_as_typed(tmp_path: Path) -> None:
    rows: list[list[object]] = [HEADER, [*ATIEK[:4], 15000, "pcs", 12, "y"], ONDE]
    path = write_xlsx(tmp_path / "produk.xlsx", rows, {})
    with open_table(path, PRODUCT_COLUMNS) as table:
        assert table.delimiter is None
        records = [checked.record for checked in check_products(table)]
    assert [(r.name, r.price, r.stock, r.curated) for r in records] == [
        ("Kue Lumpur Bu Atiék", 15000, 12, True),
        ("Onde-onde", 8000, 0, False),
    ]


def test_a_formula_cell_refuses_its_row_and_not_the_file(tmp_path: Path) -> None:
    rows: list[list[object]] = [HEADER, ATIEK, ONDE]
    path = write_xlsx(tmp_path / "produk.xlsx", rows, {(1, 4): "=8000*2"})
    assert products(path) == [
        ["Formula cells are not read; please paste them as values (Paste Values) in column price"],
        products(write_csv(tmp_path / "onde.csv", [HEADER, ONDE], "utf-8", ","))[0],
    ]


def test_a_csv_cell_typed_as_a_formula_refuses_its_row(tmp_path: Path) -> None:
    formula = [*ATIEK[:6], "=A1+1", "ya"]
    path = write_csv(tmp_path / "produk.csv", [HEADER, formula, ONDE], "utf-8-sig", ";")
    first, second = products(path)
    assert first == [
        "Formula cells are not read; please paste them as values (Paste Values) in column stock"
    ]
    assert isinstance(second, ProductRecord)


def test_a_workbook_is_known_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    workbook = write_xlsx(tmp_path / "produk.csv", [HEADER, ATIEK], {})
    csv_named_xlsx = write_csv(tmp_path / "produk.xlsx", [HEADER, ATIEK], "utf-8", ";")
    for path in (workbook, csv_named_xlsx):
        [record] = products(path)
        assert isinstance(record, ProductRecord) and record.name == "Kue Lumpur Bu Atiék"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "kosong.csv"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\xef\xbb\xbf\r\n \r\n;;\r\n")
    expected = "The file is empty. Put the column names in the first row, then one row per entry."
    assert refusal(empty) == expected
    assert refusal(blank) == expected
    assert refusal(empty, language="id").startswith("Berkas ini kosong.")


def test_a_file_with_only_its_header_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "produk.csv", [HEADER], "utf-8", ",")
    assert refusal(path) == "The file holds only the column names and no rows yet."
    sheet = write_xlsx(tmp_path / "produk.xlsx", [HEADER], {})
    assert refusal(sheet) == "The file holds only the column names and no rows yet."


NOT_A_TABLE = (
    "The file is neither CSV nor XLSX. Please save it from your spreadsheet as CSV or Excel "
    "Workbook (.xlsx)."
)


def office_zip(path: Path, part: str, kind: str, files: dict[str, str]) -> Path:
    """A zip that says it is an Office document of `kind`, holding `files`."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<Types><Override PartName="{part}" ContentType="application/'
            f'vnd.openxmlformats-officedocument.{kind}"/></Types>',
        )
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def test_binary_junk_a_word_document_and_a_pdf_are_not_read_as_tables(tmp_path: Path) -> None:
    junk = tmp_path / "data.csv"
    junk.write_bytes(bytes(range(256)) * 4)
    docx = office_zip(
        tmp_path / "merchants.docx",
        "/word/document.xml",
        "wordprocessingml.document.main+xml",
        {"word/document.xml": "<document/>"},
    )
    pdf = tmp_path / "merchants.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 5 >>\nstream\n\x00\x01\x02")
    plain_zip = tmp_path / "merchants.zip"
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("merchants.csv", "jakpreneur_id,name\n")
    for path in (junk, docx, pdf, plain_zip):
        assert refusal(path) == NOT_A_TABLE, path.name


def test_an_old_excel_file_and_unicode_text_are_told_how_to_save(tmp_path: Path) -> None:
    xls = tmp_path / "produk.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    utf16 = tmp_path / "produk.txt"
    utf16.write_text("\t".join(HEADER) + "\n", encoding="utf-16")
    assert "old Excel format (.xls)" in refusal(xls)
    assert "Unicode Text (UTF-16)" in refusal(utf16)


def test_a_damaged_workbook_is_refused_in_one_line(tmp_path: Path) -> None:
    path = office_zip(
        tmp_path / "produk.xlsx", "/xl/workbook.xml", "spreadsheetml.sheet.main+xml", {}
    )
    assert refusal(path).startswith("The XLSX file is damaged and cannot be read (")


def test_a_workbook_whose_sheet_is_cut_off_is_refused_in_one_line(tmp_path: Path) -> None:
    whole = write_xlsx(tmp_path / "whole.xlsx", [HEADER, ATIEK, ONDE], {})
    cut = tmp_path / "produk.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    assert refusal(cut).startswith("The XLSX file is damaged and cannot be read (")


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "besar.csv"
    path.touch()
    # Sparse: the size is there and no byte is written; a read would find only NULs.
    os.truncate(path, MAX_FILE_BYTES + 1)
    assert refusal(path) == (
        "The file is 100 MB, over the limit of 100 MB. Please split it into several files."
    )
    os.truncate(path, MAX_FILE_BYTES)
    assert refusal(path) == NOT_A_TABLE


def test_a_missing_file_or_a_folder_is_named_as_such(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.csv") == (
        "There is no such file. Please check its name and folder."
    )
    assert refusal(tmp_path) == "This is a folder, not a file. Please name a CSV or XLSX file."


def test_every_missing_required_column_is_named(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "toko.csv", [["jakpreneur_id", "nama"], ["JP-1", "Toko"]], "utf-8", ","
    )
    assert refusal(path, MERCHANT_COLUMNS) == (
        "Required columns are missing: name, phone, kota, kecamatan. The first row must hold "
        "the column names: jakpreneur_id, name, phone, kota, kecamatan, owner_name, kelurahan, "
        "address, pickup_allowed, delivery_allowed, description."
    )


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [[*HEADER, "Stock"], [*ATIEK, "3"]], "utf-8", ",")
    assert refusal(path) == "The column Stock appears twice in the header. Please keep only one."


def test_unknown_columns_are_a_warning_and_are_not_read(tmp_path: Path) -> None:
    header = ["Keterangan", *HEADER, "Catatan"]
    path = write_csv(tmp_path / "p.csv", [header, ["lama", *ATIEK, "=x"]], "cp1252", ";")
    with open_table(path, PRODUCT_COLUMNS) as table:
        assert [warning.text("en") for warning in table.warnings] == [
            "These columns are not known and are not read: Keterangan, Catatan."
        ]
        [checked] = check_products(table)
    assert checked.problems == ()
    assert checked.record is not None and checked.record.name == "Kue Lumpur Bu Atiék"


def test_a_row_with_more_cells_than_the_header_says_why(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        ",".join(HEADER) + "\nJP-001,KL-1,Kue Lumpur,Makanan,15.000,pcs,12,ya,,\n"
        "JP-001,KL-2,Kue, lumpur,Makanan,15.000,pcs,12,ya\n",
        encoding="utf-8",
    )
    first, second = products(path)
    assert isinstance(first, ProductRecord)
    assert second[0] == (
        'This row has more cells than the header has columns ("ya"); a value holding the '
        "delimiter must be in quotes"
    )


def test_the_error_report_holds_the_rejected_rows_as_read_with_what_to_fix(
    tmp_path: Path,
) -> None:
    header = ["Jakpreneur ID", "Nama Lama", *HEADER[1:]]
    bad = ["JP-002", "x", "KL-1", "Kue Lumpur Bu Atiék", "Makanan", "0", "pcs", " 3 ", "mungkin"]
    good = ["JP-001", "y", *ATIEK[1:]]
    path = write_csv(tmp_path / "produk.csv", [header, good, bad], "cp1252", ";")
    with open_table(path, PRODUCT_COLUMNS) as table:
        report_path = error_report_path(path)
        with ErrorReport(report_path, table.header, "id", table.delimiter) as report:
            for checked in check_products(table):
                if checked.problems:
                    report.add(checked.row, checked.problems)
    assert report.count == 1
    assert report_path.name == "produk.csv.errors.csv"
    content = report_path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    with report_path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    assert rows == [
        [*header, "error"],
        [*bad, 'price harus lebih dari 0; curated "mungkin" harus ya atau tidak'],
    ]
    # Fixed and imported again, the report's own error column is passed over in silence.
    rows[1][5], rows[1][8] = "15.000", "tidak"
    fixed = write_csv(tmp_path / "fixed.csv", rows, "utf-8-sig", ";")
    with open_table(fixed, PRODUCT_COLUMNS) as table:
        assert [warning.text("en") for warning in table.warnings] == [
            "These columns are not known and are not read: Nama Lama."
        ]
        [checked] = check_products(table)
    assert checked.record is not None
    assert (checked.record.price, checked.record.stock) == (15000, 3)


def test_a_merchants_workbook_reads_phones_saved_as_numbers(tmp_path: Path) -> None:
    header = ["jakpreneur_id", "name", "phone", "kota", "kecamatan", "kelurahan"]
    row: list[object] = ["JP-9", "Warung Bu Atiék", 6281234567890, "Jakarta Selatan", "Tebet"]
    path = write_xlsx(tmp_path / "toko.xlsx", [header, [*row, "Manggarai"]], {})
    with open_table(path, MERCHANT_COLUMNS) as table:
        [checked] = check_merchants(table)
    assert isinstance(checked.record, MerchantRecord)
    assert checked.record.phone == "+6281234567890"
    assert checked.record.kelurahan == "Manggarai"


def test_a_large_csv_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "besar.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(HEADER)
        for number in range(200_000):
            writer.writerow(
                [f"JP-{number // 10}", f"SKU-{number}", f"Produk nomor {number} Bu Atiék",
                 "Makanan & Minuman", "15.000", "pcs", "12", "ya"]
            )  # fmt: skip
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with open_table(path, PRODUCT_COLUMNS) as table:
            count = sum(1 for _ in table.rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert size > 10_000_000
    assert peak < size / 20


def sheet_xml_workbook(path: Path, shared: list[str], rows: str, prefix: str = "") -> Path:
    """A workbook as other tools write it: shared strings (rich text, a phonetic reading),
    `prefix` on every element of the sheet, and `rows` as the sheet's XML."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    p = f"{prefix}:" if prefix else ""
    namespace = f'xmlns{":" + prefix if prefix else ""}="{main}"'
    files = {
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Produk" sheetId="7" r:id="rId3"/><sheet name="Lain" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{package}">'
        '<Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId3" Type="x/worksheet" Target="/xl/worksheets/data.xml"/>'
        '<Relationship Id="rId9" Type="x/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>",
        "xl/sharedStrings.xml": f'<sst xmlns="{main}">' + "".join(shared) + "</sst>",
        "xl/worksheets/data.xml": f"<{p}worksheet {namespace}><{p}sheetData>"
        + rows.replace("<", f"<{p}").replace(f"<{p}/", f"</{p}")
        + f"</{p}sheetData></{p}worksheet>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData/></worksheet>',
    }
    return office_zip(path, "/xl/workbook.xml", "spreadsheetml.sheet.main+xml", files)


@pytest.mark.parametrize("prefix", ["", "x"])
def test_a_workbook_of_another_tool_is_read_from_its_first_sheet_as_excel_shows_it(
    tmp_path: Path, prefix: str
) -> None:
    shared = [f"<si><t>{name}</t></si>" for name in HEADER] + [
        "<si><r><t>Kue Lumpur </t></r><r><rPr><b/></rPr><t>Bu Atiék</t></r>"
        "<rPh><t>クエ</t></rPh></si>",
        "<si><t>JP-001</t></si>",
    ]
    header = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(HEADER)))
    # Row 3 is left out and row 4 leaves column B (sku) out; numbers as Excel stores them, one
    # an error, cells without a reference follow the one before.
    rows = (
        f'<row r="1">{header}</row>'
        '<row r="2"><c r="A2" t="s"><v>9</v></c><c r="B2" t="inlineStr"><is><t>KL-1</t></is></c>'
        '<c r="C2" t="s"><v>8</v></c><c r="D2" t="inlineStr"><is><t>Makanan &amp; Minuman'
        '</t></is></c><c r="E2"><v>15000.0</v></c><c t="str"><v>pcs</v></c><c><v>12</v></c>'
        '<c r="H2" t="b"><v>1</v></c></row>'
        '<row r="4"><c r="A4" t="s"><v>9</v></c><c r="C4" t="inlineStr"><is><t>Onde</t></is>'
        '</c><c r="D4" t="inlineStr"><is><t>makanan-minuman</t></is></c><c r="E4" t="e">'
        '<v>#N/A</v></c><c r="G4"><v>1.5</v></c></row>'
    )
    path = sheet_xml_workbook(tmp_path / f"lain{prefix}.xlsx", shared, rows, prefix)
    with open_table(path, PRODUCT_COLUMNS) as table:
        checked = list(check_products(table))
    atiek, onde = checked
    assert atiek.record is not None
    record = atiek.record
    assert (record.sku, record.name, record.price, record.unit, record.stock, record.curated) == (
        "KL-1", "Kue Lumpur Bu Atiék", 15000, "pcs", 12, True
    )  # fmt: skip
    assert onde.row.line == 4
    problems = [problem.text("en") for problem in onde.problems]
    assert any("sku" in problem for problem in problems), problems
    assert any("#N/A" in problem for problem in problems), problems
    assert any("1.5" in problem for problem in problems), problems


def test_a_workbook_written_by_openpyxl_reads_like_its_csv(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (HEADER, ATIEK, ONDE):
        sheet.append(row)
    workbook.save(tmp_path / "produk.xlsx")
    csv_file = write_csv(tmp_path / "produk.csv", [HEADER, ATIEK, ONDE], "utf-8", ",")
    assert products(tmp_path / "produk.xlsx") == products(csv_file)


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="2"><c r="A2"><v>1</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>',
        '<row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>1</v></c></row>',
        '<row r="1"><c r="A1" t="s"><v>99</v></c></row>',
        '<row r="1"><c r="A1"><v>1</v></c>',
        '<row r="1"><c r="15"><v>1</v></c></row>',
    ],
    ids=[
        "rows out of order",
        "cells out of order",
        "no such shared string",
        "cut off",
        "a reference without its column",
    ],
)
def test_a_sheet_that_breaks_the_format_is_refused_in_one_line(tmp_path: Path, rows: str) -> None:
    path = sheet_xml_workbook(tmp_path / "produk.xlsx", ["<si><t>a</t></si>"], rows)
    assert refusal(path).startswith("The XLSX file is damaged and cannot be read (")


def sheet_readers(path: Path) -> list[int]:
    """The processes reading `path`'s sheet (`handlers.xlsx_process`), by their pids."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            arguments = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"handlers.xlsx_process" in arguments and os.fsencode(path) in arguments:
            found.append(int(proc.name))
    return found


def many_products(path: Path, count: int) -> Path:
    rows = [HEADER] + [[*ATIEK[:1], f"KL-{n}", *ATIEK[2:]] for n in range(count)]
    return write_xlsx(path, rows, {})


def test_a_workbook_put_down_half_read_leaves_no_reader_behind(tmp_path: Path) -> None:
    path = many_products(tmp_path / "produk.xlsx", 20_000)
    with open_table(path, PRODUCT_COLUMNS) as table:
        first = next(table.rows)
        assert len(sheet_readers(path)) == 1
    assert first.cells[1] == "KL-0"
    assert sheet_readers(path) == []


def test_a_reader_killed_half_way_is_told_in_one_line_and_not_taken_for_the_end(
    tmp_path: Path,
) -> None:
    path = many_products(tmp_path / "produk.xlsx", 20_000)
    read = 0
    with pytest.raises(UnreadableFile) as refused, open_table(path, PRODUCT_COLUMNS) as table:
        [reader] = sheet_readers(path)
        os.kill(reader, signal.SIGKILL)
        for _row in table.rows:
            read += 1
    assert 0 < read < 20_000
    assert refused.value.problem.text("en") == (
        "The XLSX file is damaged and cannot be read (its reader was stopped, exit status -9)."
        " Please open it in Excel and save it again."
    )


def test_a_reader_whose_importer_died_ends_quietly(tmp_path: Path) -> None:
    path = many_products(tmp_path / "produk.xlsx", 20_000)
    errors = tmp_path / "stderr"
    # As the importer starts it; the importer then dies (kill -9) and its end of the pipe closes.
    with (
        errors.open("wb") as stderr,
        subprocess.Popen(
            [sys.executable, "-m", "handlers.xlsx_process", str(path)],
            stdout=subprocess.PIPE,
            stderr=stderr,
        ) as reader,
    ):
        assert reader.stdout is not None and reader.stdout.read(1)
        reader.stdout.close()
        assert reader.wait(timeout=60) == 1
    assert errors.read_text() == ""
