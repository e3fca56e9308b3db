"""The chart of a report as a PNG to send as a photo: omzet per the results' dimension (kota,
kecamatan) as horizontal bars, largest on top, units written beside each bar.

Drawn with matplotlib's `Figure` API on an Agg canvas: no pyplot, no global state, so charts
can be drawn in threads at once. Rendering takes CPU time: async callers run `chart_png` off the
event loop, `await asyncio.to_thread(chart_png, results, language)`. matplotlib is imported on
the first chart, not with jbl: its first import builds a font cache."""

from __future__ import annotations

import io
import textwrap

from handlers.reports.headings import compact_rupiah, count, period_heading, scope_heading
from handlers.texts import text
from models.results import Results

# 1080 × (at least) 1080 pixels: the width chat apps keep for a photo, on a phone's screen.
WIDTH_INCHES = 7.2
DPI = 150
MIN_HEIGHT_INCHES = 7.2
# Inches per bar, and what is above and below the bars (title lines, axis).
BAR_INCHES = 0.62
FRAME_INCHES = 2.4
# More bars would be too thin to read on a phone: the largest are shown, and the title says so.
MAX_BARS = 15
# Long names (Kabupaten Administrasi Kepulauan Seribu) are wrapped at this many characters.
LABEL_WIDTH = 18
BAR_COLOR = "#1F77B4"


def chart_png(results: Results, language: str) -> bytes:
    """The chart as PNG bytes. CPU work: run it in a thread from async code."""
    # Imported here: matplotlib builds its font cache on first import (see the module's text).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    rows, by = results.rows, results.by
    period, scope, total = results.period, results.scope, results.total
    by_name = text(language, f"report_by_{by.value}")
    shown = rows[:MAX_BARS]
    if len(rows) > len(shown):
        title = text(language, "report_chart_top", by=by_name, shown=len(shown), count=len(rows))
    else:
        title = text(language, "report_chart_title", by=by_name)
    subtitle = "\n".join(
        (
            period_heading(period, language),
            scope_heading(scope, language),
            text(
                language,
                "report_chart_total",
                omzet=compact_rupiah(total.omzet, language),
                units=count(total.units, language),
            ),
        )
    )

    height = max(MIN_HEIGHT_INCHES, FRAME_INCHES + BAR_INCHES * len(shown))
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=19, fontweight="bold", parse_math=False)
    axes = figure.add_subplot()
    axes.set_title(subtitle, fontsize=13, loc="left", parse_math=False, color="#333333")
    axes.spines[["top", "right"]].set_visible(False)

    if not shown:
        axes.set_axis_off()
        axes.text(
            0.5,
            0.5,
            text(language, "report_chart_empty"),
            ha="center",
            va="center",
            fontsize=16,
            transform=axes.transAxes,
            parse_math=False,
        )
    else:
        positions = range(len(shown))
        omzet = [row.figures.omzet for row in shown]
        bars = axes.barh(positions, omzet, color=BAR_COLOR, height=0.7)
        axes.set_yticks(
            positions,
            [_wrapped(row.key) for row in shown],
            fontsize=14,
            parse_math=False,
        )
        axes.invert_yaxis()
        axes.bar_label(
            bars,
            labels=[
                text(
                    language,
                    "report_chart_bar",
                    omzet=compact_rupiah(row.figures.omzet, language),
                    units=count(row.figures.units, language),
                )
                for row in shown
            ],
            padding=6,
            fontsize=13,
            parse_math=False,
        )
        # Room on the right for the longest bar's label.
        axes.set_xlim(0, max(max(omzet), 1) * 1.55)
        axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axes.xaxis.set_major_formatter(
            FuncFormatter(lambda value, _: compact_rupiah(int(value), language))
        )
        axes.tick_params(axis="x", labelsize=12)
        axes.grid(axis="x", color="#DDDDDD")
        axes.set_axisbelow(True)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _wrapped(name: str) -> str:
    return textwrap.fill(name, LABEL_WIDTH, max_lines=3, placeholder="…")
