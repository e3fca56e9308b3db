"""A report's spreadsheet written as its merchants and products are read: a year of them is
hundreds of thousands of rows, never held whole.

`write_workbook` runs in a worker thread and reads each sheet's rows from a bounded queue; the
event loop puts on those queues what the writer takes, in the order it takes it: the merchants,
then the products, then the summary. Every merchant is listed; the products are those with the
largest omzet, up to `[reports] sheet_products` (`top_rows`; decision record 0025): a year's
catalogue can outgrow a sheet, and `jbl report --by product --format csv` lists them all. The
product sheet says how many it leaves out. The summary (total, kota, kecamatan, broadcasts) is
one long statement over the whole period: where the three are read at once, the tables are
written while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

from handlers.reports.workbook import write_workbook
from models.results import (
    BATCH,
    Dimension,
    Listing,
    Report,
    Row,
    Summary,
    funnels,
    rows_in_batches,
    summary,
    top_rows,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from models.results import Period, Scope

# Batches waiting for the writer, per sheet: enough to keep it busy while the next is read.
QUEUED_BATCHES = 4
# How often the event loop looks whether the writer stopped while a queue is full.
WAIT_S = 0.05
_END = object()
_STOP = object()


class StoppedFeeding(Exception):
    """The rows could not be read: the writer stops here, and the reading's error is raised."""


class _Feed:
    """One sheet's rows, from the event loop to the writer's thread, a batch at a time."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUED_BATCHES)

    def __iter__(self) -> Iterator[Row]:
        while (batch := self.queue.get()) is not _END:
            if batch is _STOP:
                raise StoppedFeeding
            yield from batch

    def item(self) -> Any:
        """One item put before the rows, or instead of them: how many products the report
        leaves out, the summary."""
        item = self.queue.get()
        if item is _STOP:
            raise StoppedFeeding
        return item

    async def put(self, item: Any, writing: asyncio.Future[None]) -> None:
        """Puts without blocking the event loop; raises the writer's error if it stopped."""
        while not writing.done():
            try:
                self.queue.put_nowait(item)
                return
            except queue.Full:
                await asyncio.wait({writing}, timeout=WAIT_S)
        writing.result()

    async def fill(self, batches: AsyncIterator[list[Row]], writing: asyncio.Future[None]) -> None:
        async for batch in batches:
            await self.put(batch, writing)
        await self.put(_END, writing)


async def write_report_streaming(
    target: str | os.PathLike[str] | IO[bytes],
    sessions: async_sessionmaker[AsyncSession],
    period: Period,
    scope: Scope,
    timezone: ZoneInfo,
    language: str,
    *,
    products: int,
    size: int = BATCH,
    at_once: bool = False,
) -> None:
    """Writes the report's spreadsheet (summary, kota, kecamatan, every merchant, the
    `products` products with the largest omzet) to a path or binary file object, reading
    merchants and products `size` rows at a time as it writes them. `at_once`: the summary,
    the merchants and the products are read on three connections at once, so the database
    works on all three while the tables are written (else one after the other, on one). A
    report of all Jakarta shows each Friday's broadcast on its summary."""
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(sessions())
        started: list[asyncio.Future[Any]] = []
        if at_once:
            merchant_session = await stack.enter_async_context(sessions())
            product_session = await stack.enter_async_context(sessions())
            started = [
                asyncio.ensure_future(
                    _started(
                        rows_in_batches(
                            merchant_session, period, scope, Dimension.MERCHANT, timezone, size
                        )
                    )
                ),
                asyncio.ensure_future(
                    top_rows(
                        product_session, period, scope, Dimension.PRODUCT, timezone, products, size
                    )
                ),
                asyncio.ensure_future(_summary(session, period, scope, timezone)),
            ]
        try:
            await _write(
                target, session, period, scope, timezone, language, products, size, started
            )
        finally:
            for reading in started:
                reading.cancel()
                # Its error, if it had one, is the one raised already or a consequence of it.
                with contextlib.suppress(BaseException):
                    await reading


async def _write(
    target: str | os.PathLike[str] | IO[bytes],
    session: AsyncSession,
    period: Period,
    scope: Scope,
    timezone: ZoneInfo,
    language: str,
    products: int,
    size: int,
    started: list[asyncio.Future[Any]],
) -> None:
    """Feeds the writer the merchants, the products and the summary, from the readings
    `started` already or else read here, one after the other."""
    merchant_feed, product_feed, summary_feed = _Feed(), _Feed(), _Feed()
    report = Report(
        period,
        scope,
        summary_feed.item,
        merchant_feed,
        product_feed,
        products_left_out=product_feed.item,
    )
    writing = asyncio.ensure_future(asyncio.to_thread(write_workbook, target, report, language))
    feeding = merchant_feed
    try:
        merchants = (
            await started[0]
            if started
            else rows_in_batches(session, period, scope, Dimension.MERCHANT, timezone, size)
        )
        await merchant_feed.fill(merchants, writing)
        feeding = product_feed
        listed: Listing = (
            await started[1]
            if started
            else await top_rows(session, period, scope, Dimension.PRODUCT, timezone, products, size)
        )
        await product_feed.put(max(0, listed.in_all - products), writing)
        await product_feed.fill(listed.batches, writing)
        feeding = summary_feed
        read = await started[2] if started else await _summary(session, period, scope, timezone)
        await summary_feed.put(read, writing)
    except BaseException:
        # A writer still waiting on the queue being fed is told to stop, so that the thread
        # ends; the reading's error is the one raised.
        if not writing.done():
            await feeding.put(_STOP, writing)
            with contextlib.suppress(StoppedFeeding):
                await writing
        raise
    await writing


async def _summary(
    session: AsyncSession, period: Period, scope: Scope, timezone: ZoneInfo
) -> Summary:
    read = await summary(session, period, scope, timezone)
    return replace(read, funnels=await funnels(session, period, scope, timezone))


async def _started(batches: AsyncIterator[list[Row]]) -> AsyncIterator[list[Row]]:
    """The batches, the first of them read already: the statement has done its work."""
    first = await anext(batches, None)

    async def all_of_them() -> AsyncIterator[list[Row]]:
        if first is None:
            return
        yield first
        async for batch in batches:
            yield batch

    return all_of_them()
