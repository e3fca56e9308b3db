"""The files staff import (merchants, products): a CSV or an XLSX opened, its header matched to
the columns wanted, and its rows read one at a time, never the whole file at once.

What is wrong with the whole file raises `UnreadableFile`; what is wrong with a row (a formula
cell) is marked on the row, for the row's check (`handlers.import_rows`) to reject it alone."""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handlers.texts import text
from handlers.xlsx_process import sheet_rows
from handlers.xlsx_sheet import DamagedSheet, Formula

MAX_FILE_BYTES = 100 * 1024 * 1024
DELIMITERS = (",", ";")
# Our own error report's column: a fixed errors file imported again is not warned about it.
ERROR_COLUMN = "error"
# Enough of a file to know its kind by its first bytes.
_HEAD_BYTES = 8
_SCAN_CHUNK = 1 << 16
_ZIP = b"PK\x03\x04"
# Old Excel (.xls) and encrypted workbooks are OLE2 compound files.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SPREADSHEET_TYPES = (
    b"spreadsheetml.sheet.main",
    b"spreadsheetml.template.main",
    b"ms-excel.sheet.macroEnabled.main",
)
_SEPARATORS = re.compile(r"[\s_\-]+")


@dataclass(frozen=True)
class Problem:
    """What is wrong, as a text key and the values that fill it (`handlers/texts/`)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str) -> str:
        return text(language, self.key, **self.params)


class UnreadableFile(Exception):
    """The file cannot be imported at all; `problem` says why, in one line."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.problem = Problem(key, params)


@dataclass(frozen=True)
class Columns:
    """The columns a kind of file has, by their canonical names; only `required` must be there."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    """One row as read: `line` is its number as a spreadsheet shows it (the header's is 1), `cells`
    its values as text in the header's order, `formulas` the header names of its formula cells."""

    line: int
    cells: tuple[str, ...]
    formulas: tuple[str, ...] = ()
    # Non-empty cells beyond the header's columns (a value holding an unquoted delimiter).
    extra: tuple[str, ...] = ()


@dataclass
class Table:
    """An open import file: its header as read, where each known column is, the warnings about
    it, and its rows, read as they are iterated."""

    header: tuple[str, ...]
    index: dict[str, int]
    warnings: list[Problem]
    # The CSV's delimiter, for an error report that opens the same way; None for XLSX.
    delimiter: str | None
    rows: Iterator[Row]
    # About how many rows follow the header, for a progress bar; None where it cannot be told.
    expected_rows: int | None = None


def header_key(name: str) -> str:
    """`Jakpreneur ID`, `jakpreneur-id` and `JAKPRENEUR_ID` all → `jakpreneur_id`."""
    return _SEPARATORS.sub("_", name.strip().casefold()).strip("_")


@contextlib.contextmanager
def open_table(path: Path, columns: Columns) -> Iterator[Table]:
    """The import file at `path`, CSV or XLSX by its content, with its header matched to
    `columns`; raises `UnreadableFile` for a file that cannot be imported."""
    size = _size_of(path)
    if size == 0:
        raise UnreadableFile("import_empty")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(
            "import_too_large", size_mb=_megabytes(size), limit_mb=_megabytes(MAX_FILE_BYTES)
        )
    head = _head_of(path)
    with contextlib.ExitStack() as stack:
        if head.startswith(_ZIP):
            rows = stack.enter_context(_xlsx_rows(path))
            delimiter = None
        elif head.startswith(_OLE2):
            raise UnreadableFile("import_old_excel")
        elif head.startswith(_UTF16):
            raise UnreadableFile("import_utf16")
        else:
            rows, delimiter = _csv_rows(path, stack)
        table = _table(rows, columns, delimiter)
        table.expected_rows = _expected_rows(path, xlsx=delimiter is None)
        yield table


# The first sheet's extent, as the workbook states it at the top of the sheet's XML.
_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def _expected_rows(path: Path, *, xlsx: bool) -> int | None:
    """The rows below the header: a CSV's line breaks (a quoted cell may hold more), an XLSX
    sheet's stated extent."""
    if not xlsx:
        with path.open("rb") as file:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(_SCAN_CHUNK), b""))
        return max(lines - 1, 0)
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
            with archive.open(sheets[0]) as sheet:
                found = _DIMENSION.search(sheet.read(4096))
    except (zipfile.BadZipFile, IndexError, KeyError, OSError):
        return None
    return int(found.group(1)) - 1 if found else None


def _size_of(path: Path) -> int:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise UnreadableFile("import_no_file") from None
    except OSError as error:
        raise UnreadableFile("import_cannot_read", reason=error.strerror or str(error)) from None
    if not path.is_file():
        raise UnreadableFile("import_not_a_file")
    return stat.st_size


def _head_of(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(_HEAD_BYTES)
    except OSError as error:
        raise UnreadableFile("import_cannot_read", reason=error.strerror or str(error)) from None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def _table(rows: Iterator[tuple[str, ...]], columns: Columns, delimiter: str | None) -> Table:
    numbered = enumerate(rows, start=1)
    for _line, cells in numbered:
        if any(cell.strip() for cell in cells):
            break
    else:
        raise UnreadableFile("import_empty")
    header = tuple(cell.strip() for cell in cells)
    index, problems = _match(header, columns)
    rows = _rows(numbered, header, index)
    first = next(rows, None)
    if first is None:
        raise UnreadableFile("import_no_rows")
    return Table(header, index, problems, delimiter, itertools.chain([first], rows))


def _match(header: tuple[str, ...], columns: Columns) -> tuple[dict[str, int], list[Problem]]:
    known = {header_key(name): name for name in columns.required + columns.optional}
    index: dict[str, int] = {}
    unknown: list[str] = []
    for position, name in enumerate(header):
        key = header_key(name)
        if not key or key == ERROR_COLUMN:
            continue
        if key not in known:
            unknown.append(name)
        elif known[key] in index:
            raise UnreadableFile("import_column_twice", column=name)
        else:
            index[known[key]] = position
    missing = [name for name in columns.required if name not in index]
    if missing:
        raise UnreadableFile(
            "import_missing_columns",
            missing=", ".join(missing),
            expected=", ".join(columns.required + columns.optional),
        )
    problems = (
        [Problem("import_unknown_columns", {"columns": ", ".join(unknown)})] if unknown else []
    )
    return index, problems


def _rows(
    numbered: Iterator[tuple[int, tuple[str, ...]]],
    header: tuple[str, ...],
    index: dict[str, int],
) -> Iterator[Row]:
    width = len(header)
    for line, cells in numbered:
        if not any(cell.strip() for cell in cells):
            continue
        extra = tuple(cell for cell in cells[width:] if cell.strip())
        cells = cells[:width] + ("",) * (width - len(cells))
        formulas = tuple(
            header[position]
            for position in sorted(index.values())
            if isinstance(cells[position], Formula)
        )
        yield Row(line, cells, formulas, extra)


def _csv_rows(path: Path, stack: contextlib.ExitStack) -> tuple[Iterator[tuple[str, ...]], str]:
    encoding = _encoding_of(path)
    file = stack.enter_context(path.open(encoding=encoding, newline=""))
    delimiter = _delimiter_of(file)
    file.seek(0)
    reader = csv.reader(file, delimiter=delimiter)
    return _csv_records(reader), delimiter


def _csv_records(reader: Any) -> Iterator[tuple[str, ...]]:
    try:
        for record in reader:
            # A CSV holds no formulas, but a cell typed as one was meant as one.
            if any(cell.startswith("=") for cell in record):
                record = [Formula(cell) if cell.startswith("=") else cell for cell in record]
            yield tuple(record)
    except csv.Error as error:
        raise UnreadableFile("import_bad_csv", line=reader.line_num, reason=str(error)) from None


def _encoding_of(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else Windows-1252 (what Excel writes as "CSV"
    on Indonesian and English Windows); anything neither, or holding NUL, is no CSV."""
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as file:
                while chunk := file.read(_SCAN_CHUNK):
                    if b"\x00" in chunk:
                        raise UnreadableFile("import_not_a_table")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile("import_not_a_table")


def _delimiter_of(file: Any) -> str:
    """The delimiter that splits the first non-blank line into the most cells."""
    for line in file:
        if line.strip():
            break
    else:
        raise UnreadableFile("import_empty")
    return max(DELIMITERS, key=lambda delimiter: len(next(csv.reader([line], delimiter=delimiter))))


@contextlib.contextmanager
def _xlsx_rows(path: Path) -> Iterator[Iterator[tuple[str, ...]]]:
    if not _is_xlsx(path):
        raise UnreadableFile("import_not_a_table")
    try:
        with sheet_rows(path) as rows:
            yield _readable(rows)
    except DamagedSheet as error:
        raise UnreadableFile("import_bad_xlsx", reason=str(error)) from None


def _readable(rows: Iterator[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    try:
        yield from rows
    except DamagedSheet as error:
        raise UnreadableFile("import_bad_xlsx", reason=str(error)) from None


def _is_xlsx(path: Path) -> bool:
    """A zip holding `[Content_Types].xml` that declares a workbook (a .docx, a document)."""
    try:
        with zipfile.ZipFile(path) as archive:
            types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError):
        return False
    return any(kind in types for kind in _SPREADSHEET_TYPES)
