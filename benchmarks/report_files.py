"""Report files: a year by merchant written to XLSX, and the chart PNG, from figures in memory.

    python -m benchmarks.report_files               # 280,000 merchants, 20 charts
    python -m benchmarks.report_files --quick       # 20,000 merchants, 5 charts
    python -m benchmarks.report_files --products 1000000

No database: the rows are made in this process as the writer asks for them, as the report's
query streams them, so the figures are the writer's own (the queries are measured by
`benchmarks.reports`). Goals (the goals table at the end; the exit status is 1 if one fails):
- a year by merchant to XLSX (`write_workbook`) in at most 30 s (`XLSX_GOAL_S`), with the
  process's peak RSS at most 300 MiB (`RSS_GOAL_MIB`) — the issue's goal for the whole report,
  query included, so the writer must stay well inside it;
- reported: the chart's first rendering (matplotlib's import included) and its p50/p95 after.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from benchmarks.harness.memory import kib_to_mib, peak_rss_kib, proc_status_kib, reset_peak_rss
from benchmarks.harness.report import (
    LatencyTable,
    finish,
    info_row,
    print_header,
    verdict_row,
)
from benchmarks.harness.stats import percentile
from handlers.reports.chart import chart_png
from handlers.reports.workbook import write_workbook
from models.results import Dimension, Figures, Period, Report, Results, Row, Scope, Summary

XLSX_GOAL_S = 30.0
RSS_GOAL_MIB = 300
KOTA = [
    "Jakarta Selatan",
    "Jakarta Timur",
    "Jakarta Barat",
    "Jakarta Utara",
    "Jakarta Pusat",
    "Kabupaten Administrasi Kepulauan Seribu",
]
WORDS = ["Kopi", "Batik", "Sambal", "Keripik", "Madu", "Tenun", "Kue", "Jamu", "Rendang", "Tas"]


def figures(rng: random.Random) -> Figures:
    placed = rng.randint(0, 40)
    sold = rng.randint(0, placed)
    units = sold * rng.randint(1, 3)
    return Figures(
        placed=placed,
        sold=sold,
        completed=rng.randint(0, sold),
        rejected=placed - sold,
        units=units,
        omzet=units * rng.randint(5, 200) * 1_000,
        buyers=sold,
        new_buyers=sold // 2,
    )


def rows(count: int, seed: int, parent: str) -> Iterator[Row]:
    rng = random.Random(seed)
    for number in range(count):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {parent} {number}"
        yield Row(name, figures(rng), parent=f"Kecamatan {number % 44}", id=number + 1)


def year(merchants: int, products: int) -> Report:
    rng = random.Random(1)
    period, scope = Period.fridays(date(2026, 11, 27), 52), Scope()
    summary = Summary(
        period,
        scope,
        total=figures(rng),
        kota=[Row(name, figures(rng)) for name in KOTA],
        kecamatan=[Row(f"Kecamatan {n}", figures(rng), parent=KOTA[n % 6]) for n in range(44)],
    )
    return Report(
        period,
        scope,
        summary=lambda: summary,
        merchants=rows(merchants, 2, "Toko"),
        products=rows(products, 3, "Produk"),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report_files", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small counts for a smoke run")
    parser.add_argument("--merchants", type=int, help="default 280,000; --quick 20,000")
    parser.add_argument("--products", type=int, default=0, help="default 0")
    parser.add_argument("--charts", type=int, help="default 20; --quick 5")
    args = parser.parse_args(argv)
    args.merchants = args.merchants or (20_000 if args.quick else 280_000)
    args.charts = args.charts or (5 if args.quick else 20)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import matplotlib
    import xlsxwriter

    fingerprint = print_header(
        "report files",
        f"{args.merchants:,} merchants, {args.products:,} products, {args.charts} charts",
        [f"xlsxwriter {xlsxwriter.__version__}", f"matplotlib {matplotlib.__version__}"],
    )
    goals = []

    with tempfile.TemporaryDirectory() as directory:
        target = Path(directory) / "year.xlsx"
        report = year(args.merchants, args.products)
        reset = reset_peak_rss()
        before = proc_status_kib("VmRSS") or 0
        started = time.perf_counter()
        write_workbook(target, report, "id")
        seconds = time.perf_counter() - started
        peak = (proc_status_kib("VmHWM") if reset else None) or peak_rss_kib()
        size = os.path.getsize(target)
    print(
        f"\nXLSX: {seconds:.1f} s, {size / 2**20:.1f} MiB file, RSS before {kib_to_mib(before)},"
        f" peak {kib_to_mib(peak)}"
    )
    goals.append(
        verdict_row(
            f"year by merchant to XLSX ({args.merchants:,})",
            f"<= {XLSX_GOAL_S:.0f} s",
            f"{seconds:.1f} s",
            seconds <= XLSX_GOAL_S,
        )
    )
    goals.append(
        verdict_row(
            "peak RSS while writing",
            f"<= {RSS_GOAL_MIB} MiB",
            kib_to_mib(peak),
            peak / 1024 <= RSS_GOAL_MIB,
        )
    )

    kota = [Row(name, figures(random.Random(n))) for n, name in enumerate(KOTA)]
    chart_report = Results(
        Period.fridays(date(2026, 11, 27), 52),
        Scope(),
        Dimension.KOTA,
        figures(random.Random()),
        kota,
    )
    started = time.perf_counter()
    chart_png(chart_report, "id")
    first = time.perf_counter() - started
    times = []
    for _ in range(args.charts):
        started = time.perf_counter()
        chart_png(chart_report, "id")
        times.append(time.perf_counter() - started)
    table = LatencyTable("chart PNG (6 kota)", 22, percentiles=(50, 95))
    print(f"\n{table.header()}\n{table.row('first (imports)', [first])}")
    print(table.row("after", times))
    goals.append(info_row("first chart, matplotlib import included", f"{first * 1000:.0f} ms"))
    goals.append(info_row("chart p95", f"{percentile(times, 95) * 1000:.0f} ms"))
    return finish(goals, fingerprint)


if __name__ == "__main__":
    sys.exit(main())
