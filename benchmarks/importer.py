"""Staff's bulk import at Jakarta scale: every UMKM Jakpreneur coaches and their products,
loaded with `jbl import merchants` and `jbl import products` from CSV and from XLSX.

    python -m benchmarks.importer                                # SQLite file in a temp dir
    python -m benchmarks.importer --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_importer
    python -m benchmarks.importer --quick                        # 5,600 merchants, 20,000 products
    python -m benchmarks.importer --format xlsx                  # the XLSX files only

Goals (issue 19; the goals table at the end; the exit status is 1 if one fails), for the CSV
files and for the XLSX files each:
- the full import into an empty catalog (merchants, then products) at most 5 min together
  (`FULL_IMPORT_GOAL_S`), each command's peak RSS at most 300 MB (`PEAK_RSS_GOAL_MB`);
- a re-import of the same unchanged files at most 2 min together (`REIMPORT_GOAL_S`);
- a dry run (`--dry-run`) of them at most 2 min together (`DRY_RUN_GOAL_S`).
These hold on PostgreSQL at full size; on SQLite (the default) or smaller they are reported
only. Checked at every size: the full import creates every row of the files and finds none in
error, and neither the re-import nor the dry run creates or updates a row.

The files are generated into a temporary directory, the way staff's spreadsheets hold them:
the columns the README documents, valid values (kota, kecamatan and kelurahan from
`models/data/jakarta_kelurahan.csv`, a distinct `08…` phone per merchant, categories by their
names as `models.demo.CATEGORIES` spells them, prices written `15.000` in the CSV and as
numbers in the XLSX), short names and some optional columns left empty so that the products
CSV stays under the importer's 100 MB limit. The XLSX files are written by xlsxwriter in
constant_memory mode, every text a plain string (a URL too).

Each command runs as its own child process, `jbl …` with `JBL_DATABASE__URL` set, as staff
run it; its wall time is timed around it, and its peak RSS is its own (`os.wait4`) or, where
more, the sum of its and its XLSX reader's, sampled every tenth of a second. Its last
line of standard output (the counts created, updated, unchanged and in error) is parsed. The
database is prepared by `jbl db init` (the real migrations and the categories), and reset and
prepared again before the XLSX files are imported.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

from benchmarks.harness.cli import BenchmarkParser
from benchmarks.harness.databases import (
    EMPTY_SCHEMA_HELP,
    database_url,
    is_sqlite,
    prepare_database,
    prepare_postgres,
    scratch_dir,
    sqlite_path,
)
from benchmarks.harness.memory import kib_to_mib, tree_rss_kib
from benchmarks.harness.report import Goal, finish, info_row, print_header, verdict_row
from models.areas import kecamatan_by_kota, kelurahan_by_kecamatan
from models.demo import CATEGORIES

FULL = {"merchants": 280_000, "products": 1_000_000}
QUICK = {"merchants": 5_600, "products": 20_000}
FULL_IMPORT_GOAL_S = 300.0
REIMPORT_GOAL_S = 120.0
DRY_RUN_GOAL_S = 120.0
PEAK_RSS_GOAL_MB = 300
SAMPLE_S = 0.1
JBL = str(Path(sys.executable).parent / "jbl")
MERCHANT_HEADER = (
    "jakpreneur_id", "name", "owner_name", "phone", "kota", "kecamatan", "kelurahan", "address",
    "pickup_allowed", "delivery_allowed", "description",
)  # fmt: skip
PRODUCT_HEADER = (
    "jakpreneur_id", "sku", "name", "category", "price", "unit", "stock", "description",
    "photo_url", "curated",
)  # fmt: skip
TABLES = ("merchants", "products")
FORMATS = ("csv", "xlsx")
# The command's last line: `merchants: 1,234 created, 5 updated, 6 unchanged, 7 in error`, or
# `merchants (dry run): 1,234 to create, 5 to update, 6 unchanged, 7 in error`.
SUMMARY = re.compile(
    r"^(?:merchants|products)(?: \(dry run\))?: ([\d,]+) (?:created|to create),"
    r" ([\d,]+) (?:updated|to update), ([\d,]+) unchanged, ([\d,]+) in error$"
)
PHOTO_EVERY = 10  # one product in ten has a photo URL, the rest leave the column empty

Row = tuple[Any, ...]


class Catalog:
    """The rows of the two files, drawn the same way for CSV and for XLSX."""

    def __init__(self, merchants: int, products: int) -> None:
        self.merchants, self.products = merchants, products
        self.areas = [
            (kota, kecamatan, kelurahan)
            for kota, names in kecamatan_by_kota().items()
            for kecamatan in names
            for kelurahan in kelurahan_by_kecamatan()[kecamatan]
        ]
        self.categories = [name_id for _, name_id, _ in CATEGORIES]

    def merchant_rows(self) -> Iterator[Row]:
        for n in range(self.merchants):
            kota, kecamatan, kelurahan = self.areas[(n * 7919) % len(self.areas)]
            pickup, delivery = ("ya", "tidak") if n % 3 else ("ya", "ya")
            yield (
                f"JP{n:06d}", f"UMKM {n}", f"Ibu {n}", f"0812{n:08d}", kota, kecamatan,
                kelurahan, f"Jl. Lokal {n % 997}", pickup, delivery, "",
            )  # fmt: skip

    def product_rows(self, numbers: bool) -> Iterator[Row]:
        """With `numbers`, price and stock as a spreadsheet holds them; else as text, the
        price written the Indonesian way (`15.000`)."""
        categories = self.categories
        for n in range(self.products):
            price = 5_000 * (1 + n % 40)
            stock = n % 200
            photo = f"https://img.jbl.id/{n}.jpg" if n % PHOTO_EVERY == 0 else ""
            yield (
                f"JP{n % self.merchants:06d}", f"P{n}", f"Produk {n}",
                categories[n % len(categories)],
                price if numbers else f"{price:,}".replace(",", "."),
                "pcs", stock if numbers else str(stock), "", photo, "ya",
            )  # fmt: skip


def write_csv(path: Path, header: Row, rows: Iterator[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path: Path, header: Row, rows: Iterator[Row]) -> None:
    # URLs as plain text, as in the CSV: xlsxwriter would make them hyperlinks, and leave the
    # cells of those past Excel's limit per sheet empty.
    options = {"constant_memory": True, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a cell xlsxwriter would leave out ends the run
            sheet = workbook.add_worksheet()
            sheet.write_row(0, 0, header)
            for number, row in enumerate(rows, start=1):
                sheet.write_row(number, 0, row)
    finally:
        workbook.close()


def generate(
    catalog: Catalog, directory: Path, formats: tuple[str, ...]
) -> dict[tuple[str, str], Path]:
    """The files of `formats`, by (format, table); prints each one's size and time."""
    files: dict[tuple[str, str], Path] = {}
    print("\n-- generating the files --")
    for fmt in formats:
        writer = write_csv if fmt == "csv" else write_xlsx
        for table in TABLES:
            path = directory / f"{table}.{fmt}"
            header = MERCHANT_HEADER if table == "merchants" else PRODUCT_HEADER
            rows = (
                catalog.merchant_rows()
                if table == "merchants"
                else catalog.product_rows(numbers=fmt == "xlsx")
            )
            started = time.perf_counter()
            writer(path, header, rows)
            seconds = time.perf_counter() - started
            size = path.stat().st_size
            print(f"{path.name:<16}{size / 1e6:>10.1f} MB  written in {seconds:.1f} s")
            files[fmt, table] = path
    return files


@dataclass(frozen=True)
class Run:
    """One `jbl` command: its wall time, its peak RSS and the counts it printed."""

    seconds: float
    peak_kib: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated


def child_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    return env | {"JBL_DATABASE__URL": url}


def run_jbl(args: list[str], url: str, directory: Path) -> tuple[float, int, str]:
    """Runs `jbl ARGS` in `directory`; returns its wall time, its peak RSS (KiB) and the last
    line of its output. A failed command ends the benchmark with its standard error."""
    out_path, err_path = directory / "jbl.out", directory / "jbl.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [JBL, *args], stdout=out, stderr=err, cwd=directory, env=child_env(url)
        )
        # Its peak is its own or, while it reads an XLSX in a child process, theirs together,
        # looked at every tenth of a second.
        together = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            together = max(together, tree_rss_kib(process.pid))
            time.sleep(SAMPLE_S)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    lines = out_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if process.returncode:
        error = err_path.read_text(encoding="utf-8", errors="replace").strip()
        raise SystemExit(f"jbl {' '.join(args)}: exit {process.returncode}\n{error}")
    return seconds, max(usage.ru_maxrss, together), lines[-1] if lines else ""


def counts(line: str, command: str) -> tuple[int, int, int, int]:
    found = SUMMARY.match(line)
    if not found:
        raise SystemExit(f"jbl {command}: unexpected last line {line!r}")
    created, updated, unchanged, errors = (int(n.replace(",", "")) for n in found.groups())
    return created, updated, unchanged, errors


def import_file(table: str, path: Path, url: str, dry_run: bool) -> Run:
    args = ["import", table, str(path), *(["--dry-run"] if dry_run else [])]
    seconds, peak, line = run_jbl(args, url, path.parent)
    run = Run(seconds, peak, *counts(line, " ".join(args)))
    rate = (run.created + run.updated + run.unchanged + run.errors) / seconds
    print(
        f"  {path.name:<16}{seconds:>9.1f} s{kib_to_mib(peak):>10}{rate:>10,.0f} rows/s  {line}",
        flush=True,
    )
    return run


def init_database(url: str, directory: Path, fresh: bool) -> float:
    """`jbl db init` into an empty database (the one given, or reset when `fresh`)."""
    if fresh:
        if is_sqlite(url):
            path = sqlite_path(url)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            asyncio.run(prepare_postgres(url, reset=True))
    seconds, _, _ = run_jbl(["db", "init"], url, directory)
    return seconds


def import_pass(
    fmt: str, files: dict[tuple[str, str], Path], url: str, dry_run: bool = False
) -> list[Run]:
    return [import_file(table, files[fmt, table], url, dry_run) for table in TABLES]


@dataclass(frozen=True)
class Passes:
    """A format's three passes: full import, re-import, dry run; a Run per table each."""

    full: list[Run]
    again: list[Run]
    dry: list[Run]


def run_format(fmt: str, files: dict[tuple[str, str], Path], url: str, fresh: bool) -> Passes:
    directory = files[fmt, TABLES[0]].parent
    seconds = init_database(url, directory, fresh)
    print(f"\n-- {fmt.upper()} (jbl db init: {seconds:.1f} s) --")
    print(f"  {'file':<16}{'wall':>11}{'peak RSS':>10}{'rate':>17}  last line")
    print("  full import:")
    full = import_pass(fmt, files, url)
    print("  re-import of the unchanged files:")
    again = import_pass(fmt, files, url)
    print("  dry run:")
    dry = import_pass(fmt, files, url, dry_run=True)
    return Passes(full, again, dry)


def timed_goal(label: str, runs: list[Run], goal_s: float, judged: bool) -> Goal:
    """The runs' wall time together against `goal_s`, judged or only reported."""
    seconds = sum(run.seconds for run in runs)
    goal = f"<= {goal_s / 60:g} min"
    if judged:
        return verdict_row(label, goal, f"{seconds:.1f} s", seconds <= goal_s)
    return info_row(label, f"{seconds:.1f} s", f"({goal}, PG)")


def memory_goal(label: str, runs: list[Run], judged: bool) -> Goal:
    peak = max(run.peak_kib for run in runs)
    goal = f"<= {PEAK_RSS_GOAL_MB} MB"
    if judged:
        return verdict_row(label, goal, kib_to_mib(peak), peak / 1024 <= PEAK_RSS_GOAL_MB)
    return info_row(label, kib_to_mib(peak), f"({goal}, PG)")


def created_goal(label: str, passes: Passes, catalog: Catalog) -> Goal:
    """Every generated row created by the full import, and no run finding one in error."""
    generated = catalog.merchants + catalog.products
    created = sum(run.created for run in passes.full)
    errors = sum(run.errors for run in passes.full + passes.again + passes.dry)
    passed = created == generated and errors == 0
    return verdict_row(label, f"{generated:,}/0", f"{created:,}/{errors:,}", passed)


def unchanged_goal(label: str, runs: list[Run]) -> Goal:
    changed = sum(run.changed for run in runs)
    return verdict_row(label, "0", f"{changed:,}", changed == 0)


def format_goals(fmt: str, passes: Passes, catalog: Catalog, judged: bool) -> list[Goal]:
    name = fmt.upper()
    return [
        timed_goal(f"{name} full import", passes.full, FULL_IMPORT_GOAL_S, judged),
        memory_goal(f"{name} full import peak RSS", passes.full, judged),
        created_goal(f"{name} rows created/in error", passes, catalog),
        timed_goal(f"{name} re-import unchanged", passes.again, REIMPORT_GOAL_S, judged),
        unchanged_goal(f"{name} re-import rows changed", passes.again),
        timed_goal(f"{name} dry run", passes.dry, DRY_RUN_GOAL_S, judged),
        unchanged_goal(f"{name} dry run rows to change", passes.dry),
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = BenchmarkParser(
        "importer", __doc__, database=EMPTY_SCHEMA_HELP, quick="5,600 merchants, 20,000 products"
    )
    parser.reset_database()
    for name in TABLES:
        parser.sized(f"--{name}", full=FULL[name], quick=QUICK[name], help=f"{name} rows")
    parser.keep("keep the temporary directory (the files, their error reports, SQLite's file)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        action="append",
        dest="formats",
        help="only this file format (repeat for both; default: both)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with (
        database_url(args.database_url, "importer.db", keep=args.keep) as url,
        scratch_dir(args.keep) as directory,
    ):
        if is_sqlite(url) and sqlite_path(url).exists() and sqlite_path(url).stat().st_size:
            raise SystemExit(f"{sqlite_path(url)} exists: name a new file")
        database = prepare_database(url, reset=args.reset_database)
        fingerprint = print_header("importer", url, [database])
        catalog = Catalog(args.merchants, args.products)
        formats = tuple(args.formats or FORMATS)
        files = generate(catalog, directory, formats)
        judged = not is_sqlite(url) and all(getattr(args, t) >= FULL[t] for t in TABLES)
        goals: list[Goal] = []
        for number, fmt in enumerate(formats):
            passes = run_format(fmt, files, url, fresh=number > 0)
            goals += format_goals(fmt, passes, catalog, judged)
        return finish(goals, fingerprint)


if __name__ == "__main__":
    sys.exit(main())
