"""`jbl report`: what the program sold, per Friday or date range, by area, category, merchant,
product or channel, as a table on the terminal, as CSV, as a spreadsheet (XLSX) or a chart (PNG).

Each format is one entry of `FORMATS`: what it is made from and how it is written. A format
writes straight to standard output or, with `--output FILE`, to a file beside FILE that takes
FILE's name only once it is whole: a report that fails or is interrupted leaves no half file,
and an existing FILE as it was."""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

from babel.numbers import format_decimal

from bot.cli import report_lists
from bot.cli.usage import UsageError, add_command
from handlers.money import format_rupiah
from handlers.reports.cells import write_results_csv
from handlers.reports.chart import chart_png
from handlers.reports.headings import funnel_not_sent, funnel_unfinished, share
from handlers.reports.streaming import write_report_streaming
from models.areas import UnknownArea
from models.catalog import categories_in_rotation
from models.friday import FRIDAY, edition_date, featured_category, last_friday
from models.results import Dimension, Figures, Period, Results, Row, Scope, funnels, results

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App


@dataclass(frozen=True)
class Request:
    """What the operator asked for, checked."""

    period: Period
    scope: Scope
    by: Dimension


@dataclass(frozen=True)
class Format:
    """One `--format`: `write` writes the request's file to a binary stream as it is made; a
    binary format is never written to a terminal."""

    write: Callable[[App, Request, IO[bytes]], Awaitable[None]]
    binary: bool = False


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = add_command(
        commands,
        "report",
        "report units and omzet by area, category, shop or product",
        "Per Friday (default: last Friday) or range of days. Units and omzet count only"
        " orders that did not end rejected, cancelled or expired; placed, completed and lost"
        " orders stand beside them. Days are Jakarta's.",
    )
    report.add_argument("--friday", metavar="DATE", help="one Friday, YYYY-MM-DD (default: last)")
    report.add_argument("--from", dest="first", metavar="DATE", help="first day of a range")
    report.add_argument("--to", dest="last", metavar="DATE", help="last day of a range")
    report.add_argument(
        "--by", choices=[d.value for d in Dimension], help="what to break down by (default: kota)"
    )
    report.add_argument("--kota", metavar="NAME", help="only merchants of this kota")
    report.add_argument("--kecamatan", metavar="NAME", help="only merchants of this kecamatan")
    report.add_argument(
        "--format",
        choices=list(FORMATS),
        help="how it is written (default: table on a terminal, else csv)",
    )
    report.add_argument(
        "--list",
        metavar="best|unsold|demoted",
        help="a category's best sellers, or its products without a sale (to demote), over its"
        " last editions up to --friday (default: last Friday); or the products demoted now"
        " (of --category, or all); table or csv",
    )
    report.add_argument(
        "--category",
        metavar="NAME_OR_SLUG",
        help="with --list: the category (default: the one featured on that Friday)",
    )
    report.add_argument(
        "--editions",
        metavar="N",
        help="with --list: how many of the category's Fridays (default: [reports] editions)",
    )
    report.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    report.add_argument("--force", action="store_true", help="replace an existing FILE")
    report.set_defaults(run=_report, read_only=True)


async def _report(app: App, args: argparse.Namespace) -> None:
    report_lists.check(args)
    if args.list is not None:
        await report_lists.write_list(app, args, _period(app, args).last)
        return
    request = checked(app, args)
    name = args.format or ("table" if sys.stdout.isatty() and not args.output else "csv")
    chosen = FORMATS[name]
    output = Path(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        raise UsageError(f"{output} exists: add --force to replace it")
    if output is None and chosen.binary and sys.stdout.isatty():
        raise UsageError(f"--format {name} is not for a terminal: add --output FILE")
    if output is None:
        try:
            await chosen.write(app, request, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            # A spreadsheet's rows wait in temporary files: a full disk stops it there.
            raise UsageError(f"cannot write the report: {error.strerror or error}") from error
        return
    with _whole_file(output) as (partial, done):
        await chosen.write(app, request, partial)
        done()


@contextmanager
def _whole_file(output: Path) -> Iterator[tuple[IO[bytes], Callable[[], None]]]:
    """A file to write for `output`, and what ends it. A new or regular `output` is written
    beside it and renamed to it once whole: if the block ends before that, by an error or
    Ctrl-C, that file is removed and `output` is as it was. Anything else (a device, a pipe)
    is written as it is. An error of the file system is one line naming `output`."""
    try:
        if output.exists() and not output.is_file():
            with output.open("wb") as stream:
                yield stream, lambda: None
        else:
            with _beside(output) as written:
                yield written
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from error


@contextmanager
def _beside(output: Path) -> Iterator[tuple[IO[bytes], Callable[[], None]]]:
    # Made as `output` would be (its mode from the umask), under a name no other run takes.
    partial = output.with_name(f".{output.name}.{secrets.token_hex(4)}.part")
    handle = partial.open("xb")

    def done() -> None:
        handle.close()
        partial.replace(output)

    try:
        with handle:
            yield handle, done
    finally:
        partial.unlink(missing_ok=True)


def checked(app: App, args: argparse.Namespace) -> Request:
    """The request, or UsageError naming what is wrong with it."""
    try:
        scope = Scope.named(args.kota, args.kecamatan)
    except UnknownArea as error:
        raise UsageError(str(error)) from error
    return Request(_period(app, args), scope, Dimension(args.by or Dimension.KOTA))


def _day(typed: str, option: str) -> date:
    try:
        return date.fromisoformat(typed)
    except ValueError as error:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", typed):
            # Written right, but the calendar has no such day (2026-02-30).
            raise UsageError(f"{option} {typed}: there is no such day ({error})") from error
        raise UsageError(f"{option} {typed}: write the date as YYYY-MM-DD") from error


def _period(app: App, args: argparse.Namespace) -> Period:
    if args.friday is not None and (args.first or args.last):
        raise UsageError("give --friday or --from and --to, not both")
    if args.friday is not None:
        day = _day(args.friday, "--friday")
        if day.weekday() != FRIDAY:
            friday = edition_date(day)
            raise UsageError(
                f"--friday {day} is a {day:%A}, not a Friday: it falls in the week of"
                f" Friday {friday}"
            )
        return Period.friday(day)
    if args.first or args.last:
        if not (args.first and args.last):
            raise UsageError("a range takes both --from and --to")
        first, last = _day(args.first, "--from"), _day(args.last, "--to")
        if last < first:
            raise UsageError(f"the range ends ({last}) before it starts ({first})")
        return Period(first, last)
    return Period.friday(last_friday(app.clock().astimezone(app.settings.timezone).date()))


async def _results(app: App, request: Request) -> tuple[Results, str]:
    """The figures asked for, and a heading that names the period and scope."""
    async with app.sessions() as session:
        found = await results(
            session, request.period, request.scope, request.by, app.settings.timezone
        )
        period = request.period
        if period.is_friday:
            category = await featured_category(
                session, period.first, await categories_in_rotation(session)
            )
            when = f"Friday {period.first} ({category.name_en})"
        else:
            when = f"{period.first} to {period.last}"
    return found, f"{when}, {request.scope.name}, by {request.by.value}"


# ---- table -------------------------------------------------------------------------------

COLUMNS = (
    "placed",
    "sold",
    "completed",
    "lost",
    "units",
    "omzet",
    "buyers",
    "new",
    "returning",
    "avg order",
    "merchants",
    "products",
)


def _number(value: int) -> str:
    return format_decimal(value, locale="id")


def _cells(figures: Figures) -> list[str]:
    return [
        _number(figures.placed),
        _number(figures.sold),
        _number(figures.completed),
        _number(figures.lost),
        _number(figures.units),
        format_rupiah(figures.omzet),
        _number(figures.buyers),
        _number(figures.new_buyers),
        _number(figures.returning_buyers),
        format_rupiah(figures.average_order_value),
        _number(figures.merchants_with_sale),
        _number(figures.products_sold),
    ]


def _label(row: Row) -> str:
    return f"{row.key} ({row.parent})" if row.parent else row.key


async def table(app: App, request: Request, out: IO[bytes]) -> None:
    """Aligned columns: a heading, a line per row, largest omzet first, and the total."""
    found, heading = await _results(app, request)
    lines = [[request.by.value, *COLUMNS]]
    lines += [[_label(row), *_cells(row.figures)] for row in found.rows]
    lines.append(["total", *_cells(found.total)])
    widths = [max(len(line[n]) for line in lines) for n in range(len(lines[0]))]

    def aligned(line: list[str]) -> str:
        first = line[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    text = [heading, "", aligned(lines[0])]
    text += [aligned(line) for line in lines[1:-1]]
    text += ["-" * len(aligned(lines[0])), aligned(lines[-1])]
    text += await _funnel_block(app, request)
    out.write(("\n".join(text) + "\n").encode())


def _with_share(part: int, whole: int) -> str:
    return f"{_number(part)} ({share(part, whole, 'id')})"


FUNNEL_HEADER = (
    "broadcast",
    "recipients",
    "delivered",
    "read (WhatsApp)",
    "pressed",
    "ordered in 48h",
)


async def _funnel_block(app: App, request: Request) -> list[str]:
    """After the total, each Friday's broadcast: recipients, and what became of them with its
    share of them (read has none: only WhatsApp reports it). Only for all of Jakarta, and
    nothing when the period holds no Friday."""
    async with app.sessions() as session:
        found = await funnels(session, request.period, request.scope, app.settings.timezone)
    if not found:
        return []
    lines = [list(FUNNEL_HEADER)]
    notes: dict[int, str] = {}
    for funnel in found:
        not_sent = funnel_not_sent(funnel, "en")
        if not_sent is not None:
            notes[len(lines)] = not_sent
            lines.append([str(funnel.friday)])
            continue
        whole = funnel.recipients
        lines.append(
            [
                str(funnel.friday),
                _number(whole),
                _with_share(funnel.delivered, whole),
                _number(funnel.read),
                _with_share(funnel.pressed, whole),
                _with_share(funnel.ordered, whole),
            ]
        )
        unfinished = funnel_unfinished(funnel, "en")
        if unfinished is not None:
            notes[len(lines) - 1] = unfinished
    widths = [max(len(line[n]) for line in lines if len(line) > n) for n in range(len(lines[0]))]
    text = [""]
    for number, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=False)]
        if number in notes:
            cells.append(notes[number])
        text.append("  ".join(cells).rstrip())
    return text


# ---- CSV ---------------------------------------------------------------------------------


async def comma_separated(app: App, request: Request, out: IO[bytes]) -> None:
    """UTF-8 with a header row; the total first (level `total`), then a line per row."""
    found, _ = await _results(app, request)
    write_results_csv(found, out)


# ---- spreadsheet and chart ---------------------------------------------------------------

# The files are for people in Jakarta to forward: in Indonesian, with Indonesian numbers.
FILE_LANGUAGE = "id"


async def spreadsheet(app: App, request: Request, out: IO[bytes]) -> None:
    """The XLSX: summary with its chart, per kota, kecamatan, every merchant, and the products
    with the largest omzet up to `[reports] sheet_products` (`--by` does not apply: every sheet
    is there)."""
    await write_report_streaming(
        out,
        app.sessions,
        request.period,
        request.scope,
        app.settings.timezone,
        FILE_LANGUAGE,
        products=app.settings.reports.sheet_products,
        # SQLite's pool has one connection.
        at_once=app.engine.dialect.name != "sqlite",
    )


async def chart(app: App, request: Request, out: IO[bytes]) -> None:
    """The PNG: omzet per `--by` as bars, the largest first (a few of them: a small file)."""
    found, _ = await _results(app, request)
    out.write(await asyncio.to_thread(chart_png, found, FILE_LANGUAGE))


# The formats of `--format`.
FORMATS: dict[str, Format] = {
    "table": Format(table),
    "csv": Format(comma_separated),
    "xlsx": Format(spreadsheet, binary=True),
    "png": Format(chart, binary=True),
}
