"""What `jbl`'s commands accept, how each is described in `--help`, and the error for what
they cannot use."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from models.base import LARGEST_ID

if TYPE_CHECKING:
    from typing import TypeAlias

    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


class UsageError(Exception):
    """The command was given something it cannot use; the message says what."""


def add_command(
    commands: Commands, name: str, summary: str, details: str = ""
) -> argparse.ArgumentParser:
    """A command (or a group's action) of `jbl`, described in one style everywhere.

    `summary` is its one line in its group's `--help`, written as argparse writes its own
    ("show this help message and exit": lower case, no full stop); its own `--help` opens
    with it as a sentence, then `details`. Arguments' help is written as `summary` is."""
    sentence = f"{summary[0].upper()}{summary[1:]}."
    return commands.add_parser(
        name, help=summary, description=f"{sentence} {details}" if details else sentence
    )


def add_actions(group: argparse.ArgumentParser, dest: str) -> Commands:
    """The actions of a command group (`jbl merchant list`, `invite`…), one of which is required."""
    return group.add_subparsers(
        dest=dest,
        required=True,
        metavar="ACTION",
        help=f"one of these; `{group.prog} ACTION --help` tells more",
    )


def row_id(typed: str) -> int:
    """A product's or merchant's id as typed: a number no larger than an id can be."""
    try:
        number = int(typed)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid int value: {typed!r}") from error
    if abs(number) > LARGEST_ID:
        raise argparse.ArgumentTypeError(f"{typed} is out of range")
    return number
