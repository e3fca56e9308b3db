"""The first worksheet of an XLSX file as rows of text, streamed: the sheet's XML is parsed as
it is unzipped (expat), so a million rows are read in constant memory and several times faster
than openpyxl builds a cell object for each value.

Each cell is given as the text a CSV of the sheet would hold: shared and inline strings as
written, numbers without a trailing `.0`, booleans as TRUE/FALSE, errors as their code (`#N/A`),
and a formula as its `=…` text, marked `Formula` so that its row can be refused."""

from __future__ import annotations

import contextlib
import posixpath
import re
import zipfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

_SHARED_STRINGS = "/sharedStrings"
_CHUNK = 1 << 16
_LETTERS = re.compile(r"[A-Z]{1,3}")
_INTEGER = re.compile(r"-?\d+")
# Shared strings kept as one text per block with the blocks' end offsets: a list of a million
# Python strings costs several times the text it holds.
_BLOCK = 4096


class DamagedSheet(Exception):
    """The workbook or its first sheet cannot be read; the message says what was met."""


class Formula(str):
    """A formula cell's text (`=…`): marked so that its row is refused, never read as a value."""

    __slots__ = ()


@contextlib.contextmanager
def first_sheet_rows(path: Path) -> Iterator[Iterator[tuple[str, ...]]]:
    """The rows of the workbook's first sheet, from row 1, an empty tuple for a row the sheet
    leaves out. Raises `DamagedSheet`, on opening or while the rows are read."""
    with contextlib.ExitStack() as stack:
        # Only what opening meets is the workbook's fault: not what the caller raises.
        with _failures():
            archive = stack.enter_context(zipfile.ZipFile(path))
            sheet, strings = _parts(archive)
            shared = _read_shared_strings(archive, strings) if strings else _SharedStrings()
            xml = stack.enter_context(archive.open(sheet))
        yield _checked(_rows(xml, shared))


@contextlib.contextmanager
def _failures() -> Iterator[None]:
    try:
        yield
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        KeyError,
        IndexError,
        ValueError,
        EOFError,
        OSError,
    ) as error:
        raise DamagedSheet(str(error) or type(error).__name__) from None
    except expat.ExpatError as error:
        raise DamagedSheet(f"XML: {expat.ErrorString(error.code)}") from None


def _checked(rows: Iterator[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    with _failures():
        yield from rows


def _parts(archive: zipfile.ZipFile) -> tuple[str, str | None]:
    """The first sheet's part name and the shared strings' (None when there are none)."""
    targets = _relationships(archive, "xl/workbook.xml")
    first: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if _local(name) == "sheet" and not first:
            first.extend(value for key, value in attributes.items() if _local(key) == "id")

    _parse(archive, "xl/workbook.xml", start)
    if not first or first[0] not in targets:
        raise DamagedSheet("the workbook names no worksheet")
    strings = next(
        (target for kind, target in targets.values() if kind.endswith(_SHARED_STRINGS)), None
    )
    return targets[first[0]][1], strings


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id → (type, the target's part name in the archive)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    found: dict[str, tuple[str, str]] = {}

    def start(element: str, attributes: dict[str, str]) -> None:
        if _local(element) == "Relationship":
            target = attributes.get("Target", "")
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            found[attributes.get("Id", "")] = (attributes.get("Type", ""), target)

    _parse(archive, rels, start)
    return found


def _parse(archive: zipfile.ZipFile, part: str, start: Any) -> None:
    parser = _parser(start)
    with archive.open(part) as xml:
        parser.ParseFile(xml)


def _parser(start: Any, end: Any = None, characters: Any = None) -> expat.XMLParserType:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if characters is not None:
        parser.CharacterDataHandler = characters
    return parser


def _local(name: str) -> str:
    """Generators differ in the prefixes they write (`x:c`, `r:id`): names are read without."""
    return name[name.rfind(":") + 1 :]


class _SharedStrings:
    """The workbook's shared strings by index, compactly."""

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._ends: list[array[int]] = []
        self._pending: list[str] = []

    def append(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) == _BLOCK:
            self.close()

    def close(self) -> None:
        if not self._pending:
            return
        ends = array("L")
        total = 0
        for text in self._pending:
            total += len(text)
            ends.append(total)
        self._blocks.append("".join(self._pending))
        self._ends.append(ends)
        self._pending = []

    def __getitem__(self, index: int) -> str:
        block, at = divmod(index, _BLOCK)
        ends = self._ends[block]
        return self._blocks[block][ends[at - 1] if at else 0 : ends[at]]


def _read_shared_strings(archive: zipfile.ZipFile, part: str) -> _SharedStrings:
    shared = _SharedStrings()
    parts: list[str] = []
    local = _LocalNames()
    # Text inside <t>, except a phonetic reading's (<rPh>), which Excel does not show.
    state = {"text": False, "phonetic": False}

    def start(name: str, _attributes: dict[str, str]) -> None:
        name = local[name]
        if name == "t":
            state["text"] = not state["phonetic"]
        elif name == "rPh":
            state["phonetic"] = True
        elif name == "si":
            parts.clear()

    def end(name: str) -> None:
        name = local[name]
        if name == "t":
            state["text"] = False
        elif name == "rPh":
            state["phonetic"] = False
        elif name == "si":
            shared.append("".join(parts))

    def characters(data: str) -> None:
        if state["text"]:
            parts.append(data)

    parser = _parser(start, end, characters)
    with archive.open(part) as xml:
        parser.ParseFile(xml)
    shared.close()
    return shared


def _rows(xml: IO[bytes], shared: _SharedStrings) -> Iterator[tuple[str, ...]]:
    """Parses the sheet a chunk at a time and hands on the rows each chunk completed."""
    done: list[tuple[str, ...]] = []
    cells: list[str] = []
    parts: list[str] = []
    formula: list[str] = []
    local = _LocalNames()
    # The cell being read: its type, where it goes, whether its text is being collected and
    # whether it holds a formula; the row's number, and the last row handed on. Plain locals:
    # these handlers run a few million times a sheet.
    kind, column, collecting, has_formula = "n", 0, False, False
    number = last = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal kind, column, collecting, has_formula, number
        name = local[name]
        if name == "c":
            kind = attributes.get("t", "n")
            reference = attributes.get("r")
            column = _column_of(reference) if reference else len(cells)
            has_formula = False
            parts.clear()
        elif name == "v" or name == "t":
            collecting = True
        elif name == "f":
            has_formula = collecting = True
            formula.clear()
        elif name == "row":
            cells.clear()
            given = attributes.get("r")
            number = int(given) if given else last + 1

    def end(name: str) -> None:
        nonlocal collecting, last
        name = local[name]
        if name == "v" or name == "t":
            collecting = False
        elif name == "c":
            if column < len(cells):
                raise DamagedSheet(f"row {number}: cells out of order")
            if column > len(cells):
                cells.extend([""] * (column - len(cells)))
            cells.append(_value(kind, has_formula, parts, formula, shared))
        elif name == "f":
            collecting = False
            formula.extend(parts)
            parts.clear()
        elif name == "row":
            if number <= last:
                raise DamagedSheet(f"row {number} comes after row {last}")
            if number > last + 1:
                done.extend([()] * (number - last - 1))
            done.append(tuple(cells))
            last = number

    def characters(data: str) -> None:
        if collecting:
            parts.append(data)

    parser = _parser(start, end, characters)
    while chunk := xml.read(_CHUNK):
        parser.Parse(chunk, False)
        yield from done
        done.clear()
    parser.Parse(b"", True)
    yield from done


def _value(
    kind: str, has_formula: bool, parts: list[str], formula: list[str], shared: _SharedStrings
) -> str:
    if has_formula:
        text = "".join(formula)
        return Formula(text if text.startswith("=") else "=" + text)
    value = "".join(parts)
    if kind == "inlineStr" or kind == "str" or not value:
        return value
    if kind == "s":
        return shared[int(value)]
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    if kind == "e" or kind == "d":
        return value
    if _INTEGER.fullmatch(value):
        return value
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


class _LocalNames(dict[str, str]):
    """An element's name without its prefix (`x:c` → `c`), worked out once per name."""

    def __missing__(self, name: str) -> str:
        local = self[name] = _local(name)
        return local


_COLUMNS: dict[str, int] = {}


def _column_of(reference: str) -> int:
    """The column of a cell reference: `C5` → 2."""
    letters = reference.rstrip("0123456789")
    found = _COLUMNS.get(letters)
    if found is None:
        if not _LETTERS.fullmatch(letters) or letters == reference:
            raise DamagedSheet(f"a cell reference reads {reference!r}")
        found = _COLUMNS[letters] = _column(letters)
    return found


def _column(letters: str) -> int:
    """`A` → 0, `Z` → 25, `AA` → 26."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1
