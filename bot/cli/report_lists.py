"""`jbl report --list best|unsold|demoted`: a category's best sellers, or its products without a
sale, over its last editions (the Fridays that featured it) up to `--friday` or the last Friday;
or the products demoted now. As a table or as CSV. The second list is what may be demoted."""

from __future__ import annotations

import csv
import difflib
import io
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from babel.numbers import format_decimal

from bot.cli.usage import UsageError
from handlers.money import format_rupiah
from handlers.reports.cells import csv_cell
from models.catalog import Category, categories_in_rotation
from models.demotion import Demoted, demoted_products
from models.friday import featured_category
from models.results import (
    MOST_EDITIONS,
    Row,
    best_sellers,
    editions_featuring,
    unsold_products,
)

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App

BEST = "best"
UNSOLD = "unsold"
DEMOTED = "demoted"
LISTS = (BEST, UNSOLD, DEMOTED)
# What a list is written as: the formats of text.
LIST_FORMATS = ("table", "csv")


def check(args: argparse.Namespace) -> None:
    """UsageError for what `--list` cannot go with, or for options only `--list` takes."""
    if args.list is None:
        options = (("--category", args.category), ("--editions", args.editions))
        given = [option for option, value in options if value is not None]
        if given:
            raise UsageError(f"{' and '.join(given)} go with --list best or --list unsold")
        return
    if args.list not in LISTS:
        raise UsageError(f"--list {args.list}: give --list best, --list unsold or --list demoted")
    if args.list == DEMOTED:
        for option, value in (("--friday", args.friday), ("--editions", args.editions)):
            if value is not None:
                raise UsageError(f"--list demoted lists what is demoted now: drop {option}")
    if args.first or args.last:
        raise UsageError(
            "--list counts a category's last editions up to a Friday: give --friday, not a range"
        )
    for option, value in (
        ("--by", args.by),
        ("--kota", args.kota),
        ("--kecamatan", args.kecamatan),
    ):
        if value is not None:
            raise UsageError(f"--list covers all of Jakarta by product: drop {option}")
    if args.format is not None and args.format not in LIST_FORMATS:
        raise UsageError(f"--list is written as table or csv, not --format {args.format}")
    editions(args)


def editions(args: argparse.Namespace) -> int | None:
    """`--editions` as a number, or None when not given."""
    if args.editions is None:
        return None
    typed = args.editions.strip()
    if not (typed.isascii() and typed.isdigit()) or not 1 <= int(typed) <= MOST_EDITIONS:
        raise UsageError(
            f"--editions {args.editions}: give a whole number from 1 to {MOST_EDITIONS}"
        )
    return int(typed)


def category_named(typed: str, categories: list[Category]) -> Category:
    """The category whose slug, id, or Indonesian or English name is `typed`, in any case;
    else UsageError listing the slugs and suggesting the closest."""
    wanted = " ".join(typed.split()).casefold()
    for category in categories:
        names = (category.slug, str(category.id), category.name_id, category.name_en)
        if wanted in (name.casefold() for name in names):
            return category
    by_name = {
        name.casefold(): category.slug
        for category in categories
        for name in (category.slug, category.name_id, category.name_en)
    }
    closest = difflib.get_close_matches(wanted, list(by_name), n=1, cutoff=0.5)
    hint = f"did you mean {by_name[closest[0]]}? " if closest else ""
    slugs = ", ".join(sorted(category.slug for category in categories))
    raise UsageError(f"no category named {typed!r}: {hint}one of {slugs}")


async def write_list(app: App, args: argparse.Namespace, last: date) -> None:
    """Prints, or writes to `--output`, the list asked for, over the editions up to `last`."""
    name = args.format or ("table" if sys.stdout.isatty() and not args.output else "csv")
    output = Path(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        raise UsageError(f"{output} exists: add --force to replace it")
    if args.list == DEMOTED:
        await _write_demoted(app, args, name, output)
        return
    count = editions(args) or app.settings.reports.editions
    async with app.sessions() as session:
        categories = await categories_in_rotation(session)
        if args.category is not None:
            category = category_named(args.category, categories)
        else:
            category = await featured_category(session, last, categories)
        days = await editions_featuring(session, category.id, count, last)
        timezone = app.settings.timezone
        if args.list == BEST:
            rows = await best_sellers(session, category.id, count, last, timezone)
        else:
            rows = await unsold_products(session, category.id, count, last, timezone)
    what = f"{category.name_en} ({category.slug})"
    spans = f"last {len(days)} editions: {', '.join(str(day) for day in reversed(days))}"
    if args.list == BEST:
        heading = f"Best sellers of {what}, {spans}"
    else:
        heading = f"Products without a sale in {what}, {spans}: {len(rows)} products"
    made = _table(heading, args.list, rows) if name == "table" else _csv(args.list, rows)
    if output is None:
        sys.stdout.buffer.write(made)
        return
    try:
        output.write_bytes(made)
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from error


async def _write_demoted(
    app: App, args: argparse.Namespace, name: str, output: Path | None
) -> None:
    """The products demoted now, of `--category` or all, by id: written as they are read, so a
    long list never sits in memory whole."""
    async with app.sessions() as session:
        category = None
        if args.category is not None:
            category = category_named(args.category, await categories_in_rotation(session))
        try:
            target = output.open("wb") if output is not None else sys.stdout.buffer
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror}") from error
        try:
            count = 0
            if name == "table":
                what = f"{category.name_en} ({category.slug})" if category else "all categories"
                target.write(f"Demoted products of {what}\n\n".encode())
                target.write(
                    f"{'id':>10}  {'since':<10}  {'category':<20}  product · merchant\n".encode()
                )
            else:
                target.write(_csv_line(["product_id", "product", "merchant", "category", "since"]))
            async for batch in demoted_products(session, category.id if category else None):
                count += len(batch)
                target.write(_demoted_table(batch) if name == "table" else _demoted_csv(batch))
            if name == "table":
                target.write(f"\n{_number(count)} demoted products\n".encode())
        finally:
            if output is not None:
                target.close()


def _demoted_table(batch: list[Demoted]) -> bytes:
    # Columns of fixed width, so that batches written one after the other line up.
    lines = [
        f"{row.id:>10}  {row.demoted_on or ''!s:<10}  {row.category:<20}"
        f"  {row.name} · {row.merchant}"
        for row in batch
    ]
    return ("\n".join(lines) + "\n").encode()


def _demoted_csv(batch: list[Demoted]) -> bytes:
    return b"".join(
        _csv_line(
            [row.id, csv_cell(row.name), csv_cell(row.merchant), row.category, row.demoted_on]
        )
        for row in batch
    )


def _csv_line(cells: list[object]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().encode("utf-8")


def _number(value: int) -> str:
    return format_decimal(value, locale="id")


def _table(heading: str, which: str, rows: list[Row]) -> bytes:
    if which == BEST:
        lines = [["#", "product", "merchant", "units", "omzet", "orders"]]
        lines += [
            [
                str(rank),
                row.key,
                row.parent or "",
                _number(row.figures.units),
                format_rupiah(row.figures.omzet),
                _number(row.figures.sold),
            ]
            for rank, row in enumerate(rows, start=1)
        ]
    else:
        lines = [["id", "product", "merchant"]]
        lines += [[str(row.id), row.key, row.parent or ""] for row in rows]
    widths = [max(len(line[n]) for line in lines) for n in range(len(lines[0]))]

    def aligned(line: list[str]) -> str:
        # The first three read from the left; the figures line up on the right.
        cells = [
            cell.ljust(width) if n < 3 else cell.rjust(width)
            for n, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    text = [heading, "", *(aligned(line) for line in lines)]
    if which == BEST and not rows:
        text.append("nothing sold on these editions")
    return ("\n".join(text) + "\n").encode()


def _csv(which: str, rows: list[Row]) -> bytes:
    """UTF-8 with a header row; names typed by people never run as formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if which == BEST:
        writer.writerow(["rank", "product_id", "product", "merchant", "units", "omzet", "orders"])
        for rank, row in enumerate(rows, start=1):
            writer.writerow(
                [
                    rank,
                    row.id,
                    csv_cell(row.key),
                    csv_cell(row.parent),
                    row.figures.units,
                    row.figures.omzet,
                    row.figures.sold,
                ]
            )
    else:
        writer.writerow(["product_id", "product", "merchant"])
        for row in rows:
            writer.writerow([row.id, csv_cell(row.key), csv_cell(row.parent)])
    return out.getvalue().encode("utf-8")
