"""Values written as cells of a CSV that people open in a spreadsheet."""

from __future__ import annotations

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
