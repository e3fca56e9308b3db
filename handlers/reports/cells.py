"""Values written as cells of a CSV that people open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import IO

from models.results import Figures, Results

# A spreadsheet reads a cell that starts with one of these as a formula; names and headlines
# are typed by people, so such a cell is written as text.
FORMULA_STARTS = ("=", "+", "-", "@")


def csv_cell(value: str | int | None) -> str | int:
    """The value as a CSV cell that a spreadsheet shows as typed and never runs."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


CSV_HEADER = (
    "level",
    "key",
    "parent",
    "id",
    "placed",
    "sold",
    "completed",
    "rejected",
    "cancelled",
    "expired",
    "lost",
    "units",
    "omzet",
    "buyers",
    "new_buyers",
    "returning_buyers",
    "average_order_value",
    "merchants_with_sale",
    "products_sold",
)


def _csv_figures(figures: Figures) -> list[int]:
    return [
        figures.placed,
        figures.sold,
        figures.completed,
        figures.rejected,
        figures.cancelled,
        figures.expired,
        figures.lost,
        figures.units,
        figures.omzet,
        figures.buyers,
        figures.new_buyers,
        figures.returning_buyers,
        figures.average_order_value,
        figures.merchants_with_sale,
        figures.products_sold,
    ]


def write_results_csv(found: Results, out: IO[bytes]) -> None:
    """UTF-8 with a header row; the total first (level `total`), then a line per row."""
    lines = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        writer = csv.writer(lines, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        writer.writerow(["total", csv_cell(found.scope.name), "", "", *_csv_figures(found.total)])
        for row in found.rows:
            writer.writerow(
                [
                    found.by.value,
                    csv_cell(row.key),
                    csv_cell(row.parent),
                    csv_cell(row.id),
                    *_csv_figures(row.figures),
                ]
            )
        lines.flush()
    finally:
        # The stream is the caller's: left open, whatever happened.
        lines.detach()
