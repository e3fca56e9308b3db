"""What a console page reads from a query or a form, as people or forged requests type it."""

from __future__ import annotations

from datetime import date

from models.base import NO_ID, id_from_text


def number(typed: object) -> int | None:
    """A whole number written in ASCII digits, up to the largest id a row can have; None for
    anything else (a forged value never reaches a query)."""
    if not isinstance(typed, str):
        return None
    found = id_from_text(typed)
    return None if found == NO_ID else found


def day(typed: object) -> date | None:
    """A date written YYYY-MM-DD, as a date input sends it; None for anything else."""
    if not isinstance(typed, str) or len(typed) != 10:
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return None
