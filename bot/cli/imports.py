"""`jbl import …`: staff load merchants and products from their own files."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.usage import UsageError, add_actions, add_command
from handlers.import_files import UnreadableFile
from handlers.imports import TEMPLATES, Imported, Kind, import_file
from models.importing import Outcome

if TYPE_CHECKING:
    from bot.bootstrap import App


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imports = add_command(
        commands,
        "import",
        "load merchants or products from a CSV or XLSX file",
        "Merchants first; the README lists the columns.",
    )
    kinds = add_actions(imports, "import_command")
    for kind in Kind:
        command = add_command(
            kinds,
            kind.value,
            f"create or update {kind.value} from FILE",
            "Rows in error go to FILE.errors.csv beside it, each with what to fix; importing"
            " the same file again changes nothing.",
        )
        command.add_argument("file", type=Path, metavar="FILE", help="the CSV or XLSX file")
        command.add_argument(
            "--dry-run", action="store_true", help="check every row and write nothing"
        )
        command.add_argument(
            "--deactivate-missing",
            action="store_true",
            help=(
                "hide the imported products (for merchants: every product of the shops) that"
                " FILE leaves out"
            ),
        )
        if kind == Kind.PRODUCTS:
            command.add_argument(
                "--review",
                action="store_true",
                help=(
                    "new products, and those whose name, description or photo changes, wait"
                    " for staff's review (jbl curate, /kurasi) instead of being listed"
                ),
            )
        command.add_argument(
            "--language",
            choices=("id", "en"),
            default="id",
            help="the language of the messages and of FILE.errors.csv (default: id)",
        )
        command.set_defaults(run=_import, kind=kind)
    template = add_command(kinds, "template", "print a file's header and one example row, as CSV")
    template.add_argument(
        "template_kind",
        choices=[kind.value for kind in Kind],
        metavar="KIND",
        help="merchants or products",
    )
    template.set_defaults(run=_template, read_only=True)


async def _import(app: App, args: argparse.Namespace) -> None:
    progress = _Progress(sys.stderr.isatty())
    try:
        imported = await import_file(
            app.sessions,
            args.kind,
            args.file,
            app.clock(),
            args.language,
            dry_run=args.dry_run,
            deactivate_missing=args.deactivate_missing,
            review=getattr(args, "review", False),
            progress=progress,
        )
    except UnreadableFile as error:
        raise UsageError(f"{args.file}: {error.problem.text(args.language)}") from None
    finally:
        progress.end()
    for warning in imported.warnings:
        print(f"jbl: {args.file}: {warning.text(args.language)}", file=sys.stderr)
    if imported.errors_file is not None:
        print(f"rows in error, with what to fix: {imported.errors_file}", file=sys.stderr)
        if args.deactivate_missing:
            print("nothing hidden: fix the rows in error first", file=sys.stderr)
    if imported.hidden is not None:
        what = "products" if args.kind == Kind.PRODUCTS else "shops whose products are"
        verb = "would be hidden" if args.dry_run else "hidden"
        print(f"{what} missing from the file, {verb}: {imported.hidden:,}")
    print(summary(imported))


def summary(imported: Imported) -> str:
    """The last line, as scripts read it: `merchants: 3 created, 1 updated, …`."""
    words = _DRY_RUN_WORDS if imported.dry_run else _DONE_WORDS
    parts = (f"{imported.counts[outcome]:,} {word}" for outcome, word in words.items())
    return f"{imported.kind.value}{' (dry run)' if imported.dry_run else ''}: {', '.join(parts)}"


_DONE_WORDS = {
    Outcome.CREATED: "created",
    Outcome.UPDATED: "updated",
    Outcome.UNCHANGED: "unchanged",
    Outcome.REFUSED: "in error",
}
_DRY_RUN_WORDS = {**_DONE_WORDS, Outcome.CREATED: "to create", Outcome.UPDATED: "to update"}


async def _template(app: App, args: argparse.Namespace) -> None:
    header, example = TEMPLATES[Kind(args.template_kind)]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerow(example)


class _Progress:
    """How far the import is, on standard error: a bar redrawn in place on a terminal, else a
    line at every tenth of the file (or every 100,000 rows when its size is not known)."""

    WIDTH = 30
    EVERY = 100_000

    def __init__(self, terminal: bool) -> None:
        self.terminal = terminal
        self.step = 0

    def __call__(self, rows: int, expected: int | None) -> None:
        share = min(rows / expected, 1.0) if expected else None
        if self.terminal:
            bar = "" if share is None else f"[{'#' * round(share * self.WIDTH):<{self.WIDTH}}] "
            percent = "" if share is None else f"{share:4.0%} "
            print(f"\r{bar}{percent}rows done: {rows:,}", end="", file=sys.stderr, flush=True)
            self.step = 1
            return
        step = int(share * 10) if share is not None else rows // self.EVERY
        if step > self.step:
            done = f" ({share:.0%})" if share is not None else ""
            print(f"rows done: {rows:,}{done}", file=sys.stderr, flush=True)
            self.step = step

    def end(self) -> None:
        if self.terminal and self.step:
            print(file=sys.stderr)
