"""An import of staff's merchants or products file, start to end: read a batch of rows, check
them, write the good ones in one unit of work, and the rejected ones to `FILE.errors.csv`. Each
batch is its own transaction, so a crash or Ctrl-C leaves whole batches, and running the import
again finishes the job (the rows written already come back unchanged)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handlers.import_errors import ErrorReport, error_report_path
from handlers.import_files import Problem, open_table
from handlers.import_rows import (
    MERCHANT_COLUMNS,
    PRODUCT_COLUMNS,
    Checked,
    check_merchants,
    check_products,
)
from models.importing import (
    Kind,
    Outcome,
    Written,
    hide_imports,
    listed_imports,
    write_merchants,
    write_products,
)
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Rows checked and written per transaction.
BATCH_ROWS = 2_000


@dataclass
class Imported:
    """What an import did (or, in a dry run, would do), row by row, and where its rejected rows
    went."""

    kind: Kind
    dry_run: bool
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    warnings: list[Problem] = field(default_factory=list)
    errors_file: Path | None = None
    # With `deactivate_missing`: the rows the file leaves out that were hidden (or would be).
    hidden: int | None = None


class _Seen:
    """The ids of the stored rows a file names, a bit each: a million products take 125 kB
    where a set of their ids would take tens of megabytes."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, ids: list[int]) -> None:
        for id in ids:
            byte = id >> 3
            if byte >= len(self.bits):
                # Grown by half again beyond what is needed, so ids in order grow it rarely.
                needed = byte + 1
                self.bits.extend(bytes(needed + needed // 2 - len(self.bits)))
            self.bits[byte] |= 1 << (id & 7)

    def __contains__(self, id: int) -> bool:
        byte = id >> 3
        return byte < len(self.bits) and bool(self.bits[byte] & (1 << (id & 7)))


# `jbl import template`: the columns of each kind of file, in the README's order, and one row
# as staff would write it.
TEMPLATES = {
    Kind.MERCHANTS: (
        ("jakpreneur_id", "name", "owner_name", "phone", "kota", "kecamatan", "kelurahan",
         "address", "pickup_allowed", "delivery_allowed", "description"),
        ("JKP-000123", "Dapur Bu Sari", "Sari Wulandari", "0812-3456-7890", "Jakarta Selatan",
         "Tebet", "Manggarai", "Jl. Manggarai Utara 2 No. 5", "ya", "tidak",
         "Sambal dan lauk rumahan"),
    ),
    Kind.PRODUCTS: (
        ("jakpreneur_id", "sku", "name", "category", "price", "unit", "stock", "description",
         "photo_url", "curated"),
        ("JKP-000123", "SMB-001", "Sambal Roa 200 g", "Makanan & Minuman", "35.000", "botol",
         "24", "Pedas, tanpa pengawet", "https://example.com/sambal-roa.jpg", "ya"),
    ),
}  # fmt: skip

_CHECKS = {Kind.MERCHANTS: check_merchants, Kind.PRODUCTS: check_products}
_COLUMNS = {Kind.MERCHANTS: MERCHANT_COLUMNS, Kind.PRODUCTS: PRODUCT_COLUMNS}


async def import_file(
    sessions: async_sessionmaker[AsyncSession],
    kind: Kind,
    path: Path,
    now: datetime,
    language: str,
    *,
    dry_run: bool,
    deactivate_missing: bool = False,
    review: bool = False,
    progress: Callable[[int, int | None], None] = lambda rows, expected: None,
) -> Imported:
    """Imports the file; raises `UnreadableFile` (nothing written) when it cannot be read at
    all. `progress` is told how many rows are done after each batch, and about how many the
    file has (None: not known). `deactivate_missing`: the imported products (or merchants'
    products) that the file leaves out are hidden once it is read whole, or counted in a dry
    run; a file with rows in error hides nothing, since those rows may name what it keeps.
    `review` (products): new rows, and rows whose name, description or photo changes, wait
    for staff's review instead of being listed. The
    error report is written on every run, and removed when no row was rejected."""
    imported = Imported(kind, dry_run)
    seen = _Seen()
    report_path = error_report_path(path)
    with open_table(path, _COLUMNS[kind]) as table:
        imported.warnings = table.warnings
        checked = _CHECKS[kind](table)
        with ErrorReport(report_path, table.header, language, table.delimiter) as report:
            done = 0
            # The next batch is read and checked in a thread while this one is written.
            reading = asyncio.ensure_future(asyncio.to_thread(_next_batch, checked))
            try:
                while batch := await reading:
                    reading = asyncio.ensure_future(asyncio.to_thread(_next_batch, checked))
                    await _import_batch(
                        sessions, kind, batch, now, dry_run, review, report, imported, seen
                    )
                    done += len(batch)
                    progress(done, table.expected_rows)
            finally:
                # The file stays open until its reader is done. After a failure here, the
                # reader's own error, if it has one, is taken and dropped: the failure is
                # what is raised.
                await asyncio.wait({reading})
                if not reading.cancelled():
                    reading.exception()
            rejected = report.count
    if rejected:
        imported.errors_file = report_path
    else:
        report_path.unlink(missing_ok=True)
    if deactivate_missing and not rejected:
        imported.hidden = await _hide_missing(sessions, kind, seen, dry_run)
    return imported


async def _hide_missing(
    sessions: async_sessionmaker[AsyncSession], kind: Kind, seen: _Seen, dry_run: bool
) -> int:
    """Hides what the file left out, a batch per unit of work; returns how many."""
    async with sessions() as session:
        missing = [
            id
            async for batch in listed_imports(session, kind, BATCH_ROWS)
            for id in batch
            if id not in seen
        ]
    if not dry_run:
        for start in range(0, len(missing), BATCH_ROWS):
            async with UnitOfWork(sessions) as uow:
                await hide_imports(uow.session, kind, missing[start : start + BATCH_ROWS])
                await uow.commit()
    return len(missing)


async def _write(
    kind: Kind,
    session: AsyncSession,
    records: list[Any],
    now: datetime,
    dry_run: bool,
    review: bool,
) -> Written:
    if kind == Kind.PRODUCTS:
        return await write_products(session, records, now, dry_run=dry_run, review=review)
    return await write_merchants(session, records, now, dry_run=dry_run)


def _next_batch(checked: Iterator[Checked[Any]]) -> list[Checked[Any]]:
    # Reading and checking a batch is file work: done in a thread, off the event loop.
    return list(islice(checked, BATCH_ROWS))


async def _import_batch(
    sessions: async_sessionmaker[AsyncSession],
    kind: Kind,
    batch: list[Checked[Any]],
    now: datetime,
    dry_run: bool,
    review: bool,
    report: ErrorReport,
    imported: Imported,
    seen: _Seen,
) -> None:
    good = [item for item in batch if not item.problems]
    rejected = {id(item): (item.row, item.problems) for item in batch if item.problems}
    if good:
        async with UnitOfWork(sessions) as uow:
            records = [item.record for item in good]
            written = await _write(kind, uow.session, records, now, dry_run, review)
            if not dry_run:
                await uow.commit()
        seen.add(written.ids)
        for number, outcome in enumerate(written.outcomes):
            imported.counts[outcome] += 1
            if outcome == Outcome.REFUSED:
                rejected[id(good[number])] = (good[number].row, (Problem(written.errors[number]),))
    imported.counts[Outcome.REFUSED] += len(batch) - len(good)
    # In the file's order, so the report reads as the file does.
    for item in batch:
        if id(item) in rejected:
            report.add(*rejected[id(item)])
