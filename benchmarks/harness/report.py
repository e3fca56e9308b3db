"""The printed report of a run: its header, latency tables and the goals table."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from benchmarks.harness.stats import mean, percentile

# (figure, goal, measured, verdict): a row of the goals table. The verdict is PASS or FAIL for
# a figure that has a goal, "info" for one that is only reported.
Goal = tuple[str, str, str, str]

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("bot", "handlers", "models")


def code_fingerprint() -> str:
    """A hash of the app's source (bot, handlers, models): which code the figures are for."""
    digest = hashlib.sha256()
    newest = 0.0
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    changed = datetime.fromtimestamp(newest).strftime("%Y-%m-%d %H:%M:%S")
    return f"{digest.hexdigest()[:12]} (newest file {changed})"


def print_header(benchmark: str, where: str, software: Sequence[str]) -> str:
    """Prints what runs where, on which software and machine, and for which app source;
    returns the source's fingerprint, for `finish`."""
    fingerprint = code_fingerprint()
    print(
        f"== jbl {benchmark} benchmark: {where} ==\n"
        f"python {platform.python_version()}, {', '.join(software)}, {os.cpu_count()} CPUs,"
        f" {platform.platform()}\n"
        f"app source ({', '.join(APP_PACKAGES)}) {fingerprint}"
    )
    return fingerprint


@dataclass(frozen=True)
class LatencyTable:
    """Latencies in milliseconds, a row per label: count, percentiles, [mean,] max."""

    label: str  # the heading of the label column
    width: int  # of the label column
    percentiles: tuple[int, ...] = (50, 95, 99)
    mean: bool = False
    digits: int = 2
    indent: str = ""

    def header(self) -> str:
        columns = [f"p{p} ms" for p in self.percentiles] + ["mean ms"] * self.mean + ["max ms"]
        cells = "".join(f"{column:>10}" for column in columns)
        return f"{self.indent}{self.label:<{self.width}}{'count':>7}{cells}"

    def row(self, label: str, seconds: Sequence[float]) -> str:
        figures = [percentile(seconds, p) for p in self.percentiles]
        figures += [mean(seconds)] * self.mean + [max(seconds)]
        cells = "".join(f"{1000 * figure:>10.{self.digits}f}" for figure in figures)
        return f"{self.indent}{label:<{self.width}}{len(seconds):>7}{cells}"


def verdict_row(figure: str, goal: str, measured: str, passed: bool) -> Goal:
    """A row of the goals table for a figure that has a goal."""
    return (figure, goal, measured, "PASS" if passed else "FAIL")


def info_row(figure: str, measured: str, goal: str = "(report)") -> Goal:
    """A row of the goals table for a figure that is only reported."""
    return (figure, goal, measured, "info")


def print_goals(rows: Sequence[Goal]) -> None:
    print("\n-- goals --")
    width = max(len(r[0]) for r in rows) + 2
    goals = max(16, *(len(r[1]) + 2 for r in rows))
    print(f"{'figure':<{width}}{'goal':<{goals}}{'measured':>14}  verdict")
    for name, goal, measured, verdict in rows:
        print(f"{name:<{width}}{goal:<{goals}}{measured:>14}  {verdict}")


def finish(rows: Sequence[Goal], fingerprint: str) -> int:
    """Prints the goals table, and a warning if the app source changed during the run (see
    `print_header`); returns the exit status: 1 if any goal failed, else 0."""
    print_goals(rows)
    now = code_fingerprint()
    if now != fingerprint:
        print(f"\nWARNING: the app source changed during the run (now {now})")
    sys.stdout.flush()
    return 1 if any(verdict == "FAIL" for *_, verdict in rows) else 0
