"""The error report of an import, `FILE.errors.csv`: the rejected rows as they were read, in the
file's columns and order, with an `error` column saying what to fix. Staff fix that file and
import it again (its `error` column is then ignored)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from handlers.import_files import ERROR_COLUMN, Problem, Row

# Excel opens a CSV as UTF-8 only when it starts with a byte order mark.
ENCODING = "utf-8-sig"


def error_report_path(path: Path) -> Path:
    """`toko.xlsx` → `toko.xlsx.errors.csv`, beside it."""
    return path.with_name(path.name + ".errors.csv")


def problems_text(problems: Iterable[Problem], language: str) -> str:
    return "; ".join(problem.text(language) for problem in problems)


class ErrorReport:
    """Rejected rows written as they come, so a report of many is never held whole.

    The delimiter is the imported CSV's (Excel in an Indonesian locale splits on `;`), or `,`.
    """

    def __init__(
        self, path: Path, header: tuple[str, ...], language: str, delimiter: str | None = None
    ) -> None:
        self.path = path
        self.header = header
        self.language = language
        self.delimiter = delimiter or ","
        self.count = 0
        self._file: IO[str] | None = None

    def __enter__(self) -> ErrorReport:
        self._file = self.path.open("w", encoding=ENCODING, newline="")
        self._writer = csv.writer(self._file, delimiter=self.delimiter)
        self._writer.writerow((*self.header, ERROR_COLUMN))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()

    def add(self, row: Row, problems: Iterable[Problem]) -> None:
        """One rejected row, its cells exactly as read, and what to fix in it."""
        self._writer.writerow((*row.cells, problems_text(problems, self.language)))
        self.count += 1
