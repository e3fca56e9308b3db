"""The command line every benchmark shares: `python -m benchmarks.NAME [--quick]
[--database-url URL]`, the sizes `--quick` makes small, and the options of runs that keep a
temporary file, reset a database or seed one in a child process."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


class BenchmarkParser(argparse.ArgumentParser):
    """The parser of one benchmark's command line; its description is the first line of the
    benchmark's docstring."""

    def __init__(
        self,
        name: str,
        doc: str | None,
        *,
        database: str,
        quick: str = "small counts for a smoke run",
    ) -> None:
        super().__init__(
            prog=f"python -m benchmarks.{name}", description=(doc or "").split("\n")[0]
        )
        self.add_argument("--database-url", help=database)
        self.add_argument("--quick", action="store_true", help=quick)
        self._sizes: dict[str, tuple[float, float]] = {}

    def sized(self, flag: str, *, full: float, quick: float, help: str) -> None:
        """A count or rate with one default for a full run and one for `--quick`."""
        action = self.add_argument(
            flag,
            type=type(full),
            help=f"{help} (default {_number(full)}; --quick {_number(quick)})",
        )
        self._sizes[action.dest] = (full, quick)

    def keep(self, help: str = "keep the temporary SQLite file") -> None:
        self.add_argument("--keep", action="store_true", help=help)

    def reset_database(self) -> None:
        self.add_argument(
            "--reset-database",
            action="store_true",
            help="drop and recreate the public schema of a PostgreSQL database that has tables",
        )

    def seeding(self) -> None:
        """`--seed`, and the options of the child process that seeds (see `seeding`)."""
        self.add_argument("--seed", type=int, default=2026, help="random seed")
        self.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
        self.add_argument("--seed-report", help=argparse.SUPPRESS)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        parsed = super().parse_args(args, namespace)
        for dest, (full, quick) in self._sizes.items():
            if not getattr(parsed, dest):
                setattr(parsed, dest, quick if parsed.quick else full)
        return parsed
