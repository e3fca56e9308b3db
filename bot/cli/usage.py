"""What `jbl`'s commands accept, and the error for what they cannot use."""

from __future__ import annotations

import argparse

from models.base import LARGEST_ID


class UsageError(Exception):
    """The command was given something it cannot use; the message says what."""


def row_id(typed: str) -> int:
    """A product's or merchant's id as typed: a number no larger than an id can be."""
    try:
        number = int(typed)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid int value: {typed!r}") from error
    if abs(number) > LARGEST_ID:
        raise argparse.ArgumentTypeError(f"{typed} is out of range")
    return number
