"""The spreadsheet of a report: a summary with a native chart (and, below it, each Friday's
broadcast), and a sheet each per kota, kecamatan, merchant and product.

Written with xlsxwriter in `constant_memory` mode: each row goes to a temporary file as soon as
the next one starts, so a year of every merchant and product is streamed from the report's
iterables, never held. That mode demands rows in order, which is why every sheet is written top
to bottom, heading first and totals last.

A breakdown's rows are hundreds of thousands of cells of the same few kinds: each batch of them
is rendered as the sheet's XML in one pass (`_TableSheet`, `_RowXml`) rather than cell by cell
through xlsxwriter's `write_*`, whose per-cell cost made a year's workbook miss its time
(decision record 0025). Headings, totals, formats, filters and the chart stay xlsxwriter's."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter
from typing import IO, TYPE_CHECKING

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from handlers.formatting import long_date
from handlers.reports.headings import (
    count,
    funnel_not_sent,
    funnel_unfinished,
    period_heading,
    scope_heading,
)
from handlers.texts import text

if TYPE_CHECKING:
    from xlsxwriter.format import Format

    from models.results import Figures, Funnel, Report, Row, Summary

# Excel's own Indonesian Rupiah format (LCID 0x421), whole rupiah. The grouping mark is the
# reader's: Excel shows Rp25.000 on an Indonesian computer and Rp25,000 on an English one.
RUPIAH_FORMAT = "[$Rp-421]#,##0"
COUNT_FORMAT = "#,##0"
PERCENT_FORMAT = "0%"
# The heading (title, period, scope, a note) and a blank line come before a sheet's table.
HEADER_ROW = 5
# Excel's last row (1,048,576), zero-based, keeping one for the note on what did not fit.
LAST_ROW = 1_048_574
# Rows rendered and handed to the sheet's file at a time.
ROWS_AT_ONCE = 2_000
# Excel's longest text in a cell, in UTF-16 units.
LONGEST_TEXT = 32_767


@dataclass(frozen=True)
class _Column:
    key: str  # the header's text key
    value: Callable[[Figures], int]
    money: bool = False
    width: float = 14
    # The `Figures` attribute shown, where a breakdown's row shows the column.
    figure: str = ""


def _figure(key: str, name: str, *, money: bool = False, width: float = 14) -> _Column:
    return _Column(key, attrgetter(name), money, width, name)


# What each row of a breakdown shows: units and omzet first, and the orders beside them, so that
# units sold are never read as orders placed.
FIGURE_COLUMNS = (
    _figure("report_col_units", "units", width=12),
    _figure("report_col_omzet", "omzet", money=True, width=18),
    _figure("report_col_placed", "placed", width=12),
    _figure("report_col_sold", "sold", width=12),
    _figure("report_col_completed", "completed", width=12),
    _figure("report_col_lost", "lost", width=18),
    _figure("report_col_buyers", "buyers", width=10),
    _figure("report_col_average_order", "average_order_value", money=True, width=16),
)

# The summary: every figure of the total, one per line.
SUMMARY_LINES = (
    _Column("report_col_units", lambda f: f.units),
    _Column("report_col_omzet", lambda f: f.omzet, money=True),
    _Column("report_col_placed", lambda f: f.placed),
    _Column("report_col_sold", lambda f: f.sold),
    _Column("report_col_completed", lambda f: f.completed),
    _Column("report_col_lost", lambda f: f.lost),
    _Column("report_col_rejected", lambda f: f.rejected),
    _Column("report_col_cancelled", lambda f: f.cancelled),
    _Column("report_col_expired", lambda f: f.expired),
    _Column("report_col_buyers", lambda f: f.buyers),
    _Column("report_col_new_buyers", lambda f: f.new_buyers),
    _Column("report_col_returning_buyers", lambda f: f.returning_buyers),
    _Column("report_col_average_order", lambda f: f.average_order_value, money=True),
    _Column("report_col_merchants_with_sale", lambda f: f.merchants_with_sale),
    _Column("report_col_products_sold", lambda f: f.products_sold),
)


@dataclass(frozen=True)
class _FunnelColumn:
    key: str  # the header's text key
    value: Callable[[Funnel], int]
    # Followed by its share of the recipients.
    with_share: bool = False


# The broadcast block of the summary: after the Friday, each count beside its share of the
# recipients (read has none: not every channel reports reads), then a note on one not finished.
FUNNEL_COLUMNS = (
    _FunnelColumn("report_col_recipients", lambda f: f.recipients),
    _FunnelColumn("report_col_delivered", lambda f: f.delivered, with_share=True),
    _FunnelColumn("report_col_read", lambda f: f.read),
    _FunnelColumn("report_col_pressed", lambda f: f.pressed, with_share=True),
    _FunnelColumn("report_col_ordered", lambda f: f.ordered, with_share=True),
)


@dataclass(frozen=True)
class _Labels:
    """The leading text columns of a breakdown: the row's id, name and parent, where shown."""

    name: str  # the header's text key
    parent: str | None = None
    with_id: bool = False
    name_width: float = 28


@dataclass(frozen=True)
class _Table:
    """A sheet's table written up to its total: where the figures start, its last row, the
    rows it shows and those that did not fit."""

    sheet: _TableSheet
    first_figure: int
    last_row: int
    written: int
    left: int


def write_workbook(
    target: str | os.PathLike[str] | IO[bytes], report: Report, language: str
) -> None:
    """Writes the report's spreadsheet to a path or a binary file object. `report.merchants`
    and `report.products` are read once, as they are written. Raises OSError when the file or
    the rows kept for it cannot be written."""
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    # The rows wait in temporary files until the workbook is put together. xlsxwriter removes
    # them only when it closes the workbook, which a failed report never does: this directory
    # goes however the writing ends.
    with tempfile.TemporaryDirectory(prefix="jbl-report-") as rows_dir:
        workbook = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,
                "tmpdir": rows_dir,
                # Names are typed by people: a cell is never a formula or a link because of its
                # text.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        try:
            _fill(workbook, report, language)
            _close(workbook)
        except BaseException as error:
            _abandon(workbook, error)
            raise


def _fill(workbook: xlsxwriter.Workbook, report: Report, language: str) -> None:
    writer = _Writer(workbook, report, language)
    summary_sheet = writer.sheet("report_sheet_summary", 34, 18)
    kota = writer.table_sheet("report_sheet_kota")
    kecamatan = writer.table_sheet("report_sheet_kecamatan")
    merchants = writer.table_sheet("report_sheet_merchant")
    products = writer.table_sheet("report_sheet_product")

    # The long tables first, while the summary may still be being read: each sheet keeps its
    # own rows, so the summary's sheets and the tables' totals can come after them.
    merchant_table = writer.table(
        merchants,
        _Labels("report_col_merchant", "report_col_area", with_id=True, name_width=36),
        report.merchants,
    )
    product_table = writer.table(
        products,
        _Labels("report_col_product", "report_col_merchant", with_id=True, name_width=36),
        report.products,
        left_out=report.products_left_out,
    )
    summary = report.summary()
    writer.summary(summary_sheet, summary)
    kota_table = writer.table(kota, _Labels("report_col_kota", name_width=26), summary.kota)
    kecamatan_table = writer.table(
        kecamatan, _Labels("report_col_kecamatan", "report_col_kota"), summary.kecamatan
    )
    for table in (kota_table, kecamatan_table, merchant_table, product_table):
        writer.total(table, summary.total)
    if kota_table.written:
        writer.chart(summary_sheet, kota, summary.kota[: kota_table.written])


def _close(workbook: xlsxwriter.Workbook) -> None:
    """Puts the workbook together into its target."""
    try:
        workbook.close()
    except FileCreateError as error:
        # xlsxwriter wraps the OSError of writing the file: raised as what it is, as a failure
        # to write the rows is.
        cause = error.__context__
        if not isinstance(cause, OSError):
            raise
        raise OSError(cause.errno, cause.strerror, cause.filename) from error


def _abandon(workbook: xlsxwriter.Workbook, error: BaseException) -> None:
    """A workbook that failed, given up (xlsxwriter has no call for it): its sheets' row files
    are closed, and the frames the error came through let go of what xlsxwriter opened there,
    so that a half-written package is closed now, while its target is open, not whenever it is
    collected (a command would print its complaint on the way out)."""
    for sheet in workbook.worksheets():
        rows = getattr(sheet, "row_data_fh", None)
        if rows is not None:
            # Closed whatever happens, with what it held still to write lost: the rows are
            # of no use any more (and a full disk would refuse them again).
            with contextlib.suppress(OSError):
                rows.close()
    seen: set[int] = set()
    chained: BaseException | None = error
    while chained is not None and id(chained) not in seen:
        seen.add(id(chained))
        # A package that failed while it was written into its target (a file that the disk
        # refuses) would fail again when it closes: closed here, quietly.
        for frame, _ in traceback.walk_tb(chained.__traceback__):
            for value in list(frame.f_locals.values()):
                if isinstance(value, zipfile.ZipFile):
                    with contextlib.suppress(Exception):
                        value.close()
        traceback.clear_frames(chained.__traceback__)
        chained = chained.__cause__ or chained.__context__


class _Writer:
    """The formats and texts shared by the sheets of one workbook."""

    def __init__(self, workbook: xlsxwriter.Workbook, report: Report, language: str) -> None:
        self.workbook = workbook
        self.report = report
        self.language = language
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.note = workbook.add_format({"italic": True, "font_color": "#555555"})
        self.header = workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bottom": 1, "bg_color": "#EDEDED"}
        )
        self.count = workbook.add_format({"num_format": COUNT_FORMAT})
        self.percent = workbook.add_format({"num_format": PERCENT_FORMAT})
        self.money = workbook.add_format({"num_format": RUPIAH_FORMAT})
        self.total_label = workbook.add_format({"bold": True, "top": 1})
        self.total_count = workbook.add_format({"bold": True, "top": 1, "num_format": COUNT_FORMAT})
        self.total_money = workbook.add_format(
            {"bold": True, "top": 1, "num_format": RUPIAH_FORMAT}
        )
        workbook.set_properties(
            {
                "title": text(language, "report_title"),
                "subject": f"{period_heading(report.period, language)} · "
                f"{scope_heading(report.scope, language)}",
            }
        )

    def text(self, key: str) -> str:
        return text(self.language, key)

    def sheet(self, name_key: str, *widths: float) -> Worksheet:
        sheet = self.workbook.add_worksheet(self.text(name_key))
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        return sheet

    def table_sheet(self, name_key: str) -> _TableSheet:
        sheet = self.workbook.add_worksheet(self.text(name_key), worksheet_class=_TableSheet)
        assert isinstance(sheet, _TableSheet)
        return sheet

    def heading(self, sheet: Worksheet) -> None:
        """Rows 0 to 3: what the sheet is, for which days and where."""
        sheet.write_string(0, 0, self.text("report_title"), self.title)
        sheet.write_string(1, 0, period_heading(self.report.period, self.language))
        sheet.write_string(2, 0, scope_heading(self.report.scope, self.language))
        sheet.write_string(3, 0, self.text("report_sold_note"), self.note)

    def summary(self, sheet: Worksheet, summary: Summary) -> None:
        self.heading(sheet)
        sheet.write_string(HEADER_ROW, 0, self.text("report_col_figure"), self.header)
        sheet.write_string(HEADER_ROW, 1, self.text("report_col_value"), self.header)
        for row, line in enumerate(SUMMARY_LINES, start=HEADER_ROW + 1):
            sheet.write_string(row, 0, self.text(line.key))
            value = line.value(summary.total)
            sheet.write_number(row, 1, value, self.money if line.money else self.count)
        if summary.funnels:
            # Below the figures, where the chart beside them (a bar per kota, at most Jakarta's
            # six) has ended.
            self.funnels(sheet, HEADER_ROW + len(SUMMARY_LINES) + 2, summary.funnels)

    def funnels(self, sheet: Worksheet, first: int, funnels: Iterable[Funnel]) -> None:
        """The "Siaran" block from row `first` down: a title, a note, and a Friday per row."""
        sheet.write_string(first, 0, self.text("report_funnel_title"), self.title)
        sheet.write_string(first + 1, 0, self.text("report_funnel_note"), self.note)
        headers = [self.text("report_col_friday")]
        for figure in FUNNEL_COLUMNS:
            headers.append(self.text(figure.key))
            if figure.with_share:
                headers.append(self.text("report_col_share"))
        headers.append(self.text("report_col_note"))
        sheet.set_column(2, len(headers) - 1, 12)
        for column, header in enumerate(headers):
            sheet.write_string(first + 2, column, header, self.header)
        for row, funnel in enumerate(funnels, start=first + 3):
            sheet.write_string(row, 0, long_date(funnel.friday, self.language))
            not_sent = funnel_not_sent(funnel, self.language)
            if not_sent is not None:
                sheet.write_string(row, 1, not_sent)
                continue
            column = 1
            for figure in FUNNEL_COLUMNS:
                sheet.write_number(row, column, figure.value(funnel), self.count)
                column += 1
                if figure.with_share:
                    if funnel.recipients:
                        part = figure.value(funnel) / funnel.recipients
                        sheet.write_number(row, column, part, self.percent)
                    column += 1
            unfinished = funnel_unfinished(funnel, self.language)
            if unfinished is not None:
                sheet.write_string(row, column, unfinished)

    def table(
        self,
        sheet: _TableSheet,
        labels: _Labels,
        rows: Iterable[Row],
        left_out: Callable[[], int] | None = None,
    ) -> _Table:
        """Writes a sheet's table as its rows come, up to its total (`total`). `left_out`
        tells, before the first row, how many rows the report leaves out: a note above the
        table says so, and where the whole list is."""
        keys = [
            *(["report_col_id"] if labels.with_id else []),
            labels.name,
            *([labels.parent] if labels.parent else []),
        ]
        widths = [
            *([10] if labels.with_id else []),
            labels.name_width,
            *([22] if labels.parent else []),
        ]
        first_figure = len(keys)
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        for column, figure in enumerate(FIGURE_COLUMNS, start=first_figure):
            sheet.set_column(column, column, figure.width)
        self.heading(sheet)
        cut = left_out() if left_out is not None else 0
        if cut:
            note = text(self.language, "report_products_cut", count=count(cut, self.language))
            sheet.write_string(HEADER_ROW - 1, 0, note, self.note)
        for column, key in enumerate([*keys, *(figure.key for figure in FIGURE_COLUMNS)]):
            sheet.write_string(HEADER_ROW, column, self.text(key), self.header)
        sheet.freeze_panes(HEADER_ROW + 1, first_figure)

        render = _RowXml(labels, self.count, self.money)
        last_column = first_figure + len(FIGURE_COLUMNS) - 1
        room = LAST_ROW - 1 - HEADER_ROW
        row_number = HEADER_ROW
        taken = iter(rows)
        while batch := list(islice(taken, min(ROWS_AT_ONCE, room - (row_number - HEADER_ROW)))):
            first = row_number + 1
            row_number += len(batch)
            sheet.write_rows_xml(first, row_number, last_column, render.rows(first, batch))
        written = row_number - HEADER_ROW
        left = sum(1 for _ in taken)
        if written:
            sheet.autofilter(HEADER_ROW, 0, row_number, last_column)
        return _Table(sheet, first_figure, row_number, written, left)

    def total(self, table: _Table, figures: Figures) -> None:
        """The table's total, bold under a rule, and a note on the rows that did not fit."""
        sheet, row = table.sheet, table.last_row + 1
        sheet.write_string(row, table.first_figure - 1, self.text("report_total"), self.total_label)
        for column in range(table.first_figure - 1):
            sheet.write_blank(row, column, None, self.total_label)
        for column, figure in enumerate(FIGURE_COLUMNS, start=table.first_figure):
            style = self.total_money if figure.money else self.total_count
            sheet.write_number(row, column, figure.value(figures), style)
        if table.left:
            note = text(self.language, "report_rows_cut", count=table.left)
            sheet.write_string(row + 1, 0, note, self.note)

    def chart(self, summary: Worksheet, kota: Worksheet, rows: list[Row]) -> None:
        """Omzet per kota as Excel's own bar chart, beside the summary's figures. It reads the
        kota sheet's cells, so Excel redraws it if someone edits them."""
        first, last = HEADER_ROW + 1, HEADER_ROW + len(rows)
        omzet = next(i for i, c in enumerate(FIGURE_COLUMNS) if c.key == "report_col_omzet") + 1
        by = text(self.language, "report_by_kota")
        chart = self.workbook.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": [kota.name, HEADER_ROW, omzet],
                "categories": [kota.name, first, 0, last, 0],
                "values": [kota.name, first, omzet, last, omzet],
                # constant_memory keeps no cells to cache in the chart: given here, so viewers
                # that do not recalculate still draw the bars, and name them as text.
                "name_data": [self.text(FIGURE_COLUMNS[omzet - 1].key)],
                "categories_data": [row.key for row in rows],
                "values_data": [row.figures.omzet for row in rows],
                "data_labels": {"value": True, "num_format": RUPIAH_FORMAT},
                "fill": {"color": "#1F77B4"},
            }
        )
        chart.set_title({"name": text(self.language, "report_chart_title", by=by)})
        chart.set_legend({"none": True})
        # A bar chart's category axis is the vertical one: largest omzet on top, as listed.
        chart.set_y_axis({"reverse": True})
        chart.set_x_axis({"num_format": RUPIAH_FORMAT, "major_gridlines": {"visible": True}})
        chart.set_size({"width": 640, "height": 120 + 36 * len(rows)})
        summary.insert_chart(HEADER_ROW, 3, chart)


class _TableSheet(Worksheet):
    """A worksheet that also takes whole rows of its table as XML, a batch at a time, in
    `constant_memory` mode: what xlsxwriter holds of the rows above (the header) is written
    first, and the rows go after it into the sheet's data, in order."""

    def write_rows_xml(self, first: int, last: int, last_column: int, xml: str) -> None:
        if not self.constant_memory or first <= self.previous_row:
            raise ValueError(f"rows {first} to {last} come after row {self.previous_row}")
        self._check_dimensions(first, 0)
        self._check_dimensions(last, last_column)
        self._write_single_row(first)
        self.fh.write(xml)
        self.previous_row = last


# What a text needs escaped in a cell: XML's own characters, the control characters Excel
# writes as _xHHHH_ (and a literal _xHHHH_, escaped as Excel does), and a leading or trailing
# space, which is kept only when said so.
_NEEDS_CARE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\s|\s$")
_LITERAL_ESCAPE = re.compile(r"(_x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _inline_text(value: str) -> str:
    """A text cell's content: inline, as constant_memory writes strings."""
    if len(value) > LONGEST_TEXT // 2:
        value = value.encode("utf-16-le")[: 2 * LONGEST_TEXT].decode("utf-16-le", "ignore")
    if _NEEDS_CARE.search(value) is None:
        return f"<is><t>{value}</t></is>"
    value = _LITERAL_ESCAPE.sub(r"_x005F\1", value)
    value = _CONTROL.sub(lambda found: f"_x{ord(found.group(0)):04X}_", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<is><t{space}>{value}</t></is>"


class _RowXml:
    """Renders a breakdown's rows as the sheet's XML: the id, name and parent where the sheet
    shows them (an empty one is no cell), then the figures with their number formats."""

    def __init__(self, labels: _Labels, count: Format, money: Format) -> None:
        self.with_id, self.with_parent = labels.with_id, labels.parent is not None
        labels_count = 1 + self.with_id + self.with_parent
        columns = [xl_col_to_name(n) for n in range(labels_count + len(FIGURE_COLUMNS))]
        self.id_column = columns[0]
        self.name_column = columns[int(self.with_id)]
        self.parent_column = columns[labels_count - 1]
        styles = {False: count._get_xf_index(), True: money._get_xf_index()}
        # {0} is the row's number as Excel counts, {1}... the figures in FIGURE_COLUMNS' order.
        self.figures_xml = "".join(
            f'<c r="{columns[labels_count + n]}{{0}}" s="{styles[figure.money]}">'
            f"<v>{{{n + 1}}}</v></c>"
            for n, figure in enumerate(FIGURE_COLUMNS)
        )
        self.figures = attrgetter(*(figure.figure for figure in FIGURE_COLUMNS))

    def rows(self, first: int, rows: list[Row]) -> str:
        """The XML of `rows`, the first on the sheet's (zero-based) row `first`."""
        return "".join(self._row(number, row) for number, row in enumerate(rows, start=first + 1))

    def _row(self, number: int, row: Row) -> str:
        cells = [f'<row r="{number}">']
        if self.with_id and row.id is not None:
            cells.append(f'<c r="{self.id_column}{number}"><v>{row.id}</v></c>')
        cells.append(f'<c r="{self.name_column}{number}" t="inlineStr">{_inline_text(row.key)}</c>')
        if self.with_parent and row.parent is not None:
            cells.append(
                f'<c r="{self.parent_column}{number}" t="inlineStr">{_inline_text(row.parent)}</c>'
            )
        cells.append(self.figures_xml.format(number, *self.figures(row.figures)))
        cells.append("</row>")
        return "".join(cells)
