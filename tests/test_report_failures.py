"""The report's spreadsheet when something fails half-way: the database while the rows are read,
or the file while it is written. Whichever fails stops the other, its error is the one raised
(on the command line: one line, a non-zero exit, no traceback), and nothing is left behind: no
thread or process still working, no output file, no temporary file."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import resource
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.bootstrap import App
from handlers.reports.streaming import write_report_streaming
from models.db import create_engine
from models.results import Period, Scope
from models.uow import UnitOfWork
from tests.conftest import PG_URL
from tests.test_cli_and_console import JBL
from tests.test_cli_errors import assert_one_line
from tests.test_results import FRIDAY, friday  # noqa: F401 - the fixture

# How long whatever a report started may take to end once it has failed.
ENDS_WITHIN_S = 30
XLSX_ARGS = ("report", "--friday", FRIDAY.isoformat(), "--format", "xlsx")
needs_postgresql = pytest.mark.skipif(not PG_URL, reason="pg_terminate_backend is PostgreSQL's")
needs_more_connections = pytest.mark.skipif(not PG_URL, reason="SQLite's pool has one connection")


def child_processes() -> set[int]:
    """The ids of this process's children, of every thread."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


@contextlib.asynccontextmanager
async def nothing_left_running() -> AsyncIterator[None]:
    """Runs the block with the event loop's threads in a pool of its own, then requires every
    thread and child process that the block started to end: a writer still waiting for rows,
    or a reader for room in the writer's queue, never would."""
    loop = asyncio.get_running_loop()
    threads, children = set(threading.enumerate()), child_processes()
    pool = ThreadPoolExecutor(thread_name_prefix="report-under-test")
    loop.set_default_executor(pool)
    try:
        yield
    finally:
        pool.shutdown(wait=False)
        loop.set_default_executor(ThreadPoolExecutor())
        started = set(threading.enumerate()) - threads
        for thread in started:
            thread.join(ENDS_WITHIN_S)
        assert [thread.name for thread in started if thread.is_alive()] == []
        assert child_processes() <= children


@pytest.fixture
def temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory of this process, empty: what a report leaves there is seen."""
    where = tmp_path / "temporary"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


@contextlib.asynccontextmanager
async def unreadable(app: App, table: str) -> AsyncIterator[None]:
    """The table is gone (renamed) until the block ends: the report fails when it reads it
    (products: after the merchants; broadcasts: the summary's last read, after the tables)."""
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
        await uow.commit()
    try:
        yield
    finally:
        async with UnitOfWork(app.sessions) as uow:
            await uow.session.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
            await uow.commit()


def products_unreadable(app: App) -> contextlib.AbstractAsyncContextManager[None]:
    return unreadable(app, "products")


async def write(
    app: App, target: str | os.PathLike[str] | io.BytesIO, *, at_once: bool = False
) -> None:
    """The spreadsheet of the Friday, a row at a time: the writer's queue fills and empties
    many times; a report that hangs fails here."""
    async with asyncio.timeout(ENDS_WITHIN_S):
        await write_report_streaming(
            target, app.sessions, Period.friday(FRIDAY), Scope(), app.settings.timezone, "id",
            products=app.settings.reports.sheet_products, size=1, at_once=at_once,
        )  # fmt: skip


# Read one after the other on one connection, and at once on three (PostgreSQL's pool).
READINGS = [
    pytest.param(False, id="one-after-the-other"),
    pytest.param(True, id="at-once", marks=needs_more_connections),
]


# ---- the function ----------------------------------------------------------------------------


@pytest.mark.parametrize("at_once", READINGS)
async def test_the_report_is_written_and_leaves_nothing_running_or_behind(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    temporary: Path,
    at_once: bool,
) -> None:
    async with nothing_left_running():
        await write(friday, tmp_path / "laporan.xlsx", at_once=at_once)
    book = openpyxl.load_workbook(tmp_path / "laporan.xlsx")
    assert book.sheetnames[3] == "Per toko"
    # The totals, written after the tables, are the summary's.
    summary = {row[0].value: row[1].value for row in book["Ringkasan"].iter_rows(min_row=7)}
    last = list(book["Per toko"].iter_rows(values_only=True))[-1]
    assert last[2:4] == ("Total", summary["Unit terjual"])
    assert os.listdir(temporary) == []


@pytest.mark.parametrize("at_once", READINGS)
@pytest.mark.parametrize("table", ["products", "broadcasts"])
async def test_a_table_unreadable_half_way_stops_the_writer_and_its_error_is_raised(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    temporary: Path,
    table: str,
    at_once: bool,
) -> None:
    target = tmp_path / "laporan.xlsx"
    async with unreadable(friday, table), nothing_left_running():
        with pytest.raises(DBAPIError, match=table):
            await write(friday, target, at_once=at_once)
    assert not target.exists()
    assert os.listdir(temporary) == []


@needs_postgresql
async def test_a_connection_dropped_half_way_stops_the_writer_and_its_error_is_raised(
    friday: App,  # noqa: F811 - the fixture
    temporary: Path,
) -> None:
    async with (
        locked_products(friday.settings.database.url) as drop_the_reader,
        nothing_left_running(),
    ):
        writing = asyncio.ensure_future(write(friday, io.BytesIO()))
        # It has read the total and the merchants, and waits to read the products.
        await drop_the_reader(writing)
        with pytest.raises(DBAPIError, match="terminat"):
            await writing
    assert os.listdir(temporary) == []


@pytest.mark.parametrize("target", ["missing/laporan.xlsx", "a directory"])
async def test_a_target_that_cannot_be_written_raises_its_error_and_leaves_nothing_running(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    temporary: Path,
    target: str,
) -> None:
    (tmp_path / "a directory").mkdir()
    async with nothing_left_running():
        with pytest.raises(OSError, match=r"No such file or directory|Is a directory"):
            await write(friday, tmp_path / target)
    assert not (tmp_path / "missing").exists()
    assert os.listdir(tmp_path / "a directory") == []
    assert os.listdir(temporary) == []


async def test_a_writer_that_cannot_start_stops_the_reading_before_the_products(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nowhere to keep the rows the writer streams: it fails before it takes the first one.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    # Were the merchants read to the end, the products would be, and fail with the database's
    # error: the writer's is raised, so the reading stopped on its account.
    async with products_unreadable(friday), nothing_left_running():
        with pytest.raises(OSError, match="No such file or directory"):
            await write(friday, io.BytesIO())


# ---- jbl report ------------------------------------------------------------------------------


def jbl_report(
    app: App, cwd: Path, temporary: Path, *args: str, largest_file: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`jbl report --format xlsx …` with its own temporary directory and, if given, a limit on
    the size of any file it writes (a disk that fills up)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    env |= {"JBL_DATABASE__URL": app.settings.database.url, "TMPDIR": str(temporary)}

    def limited() -> None:
        if largest_file is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (largest_file, resource.RLIM_INFINITY))

    return subprocess.run(
        [JBL, *XLSX_ARGS, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        preexec_fn=limited,
    )


@pytest.fixture
def cli_temporary(tmp_path: Path) -> Path:
    where = tmp_path / "cli-temporary"
    where.mkdir()
    return where


async def test_jbl_report_with_a_table_unreadable_says_so_in_one_line_and_leaves_no_file(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    cli_temporary: Path,
) -> None:
    async with products_unreadable(friday):
        result = jbl_report(friday, tmp_path, cli_temporary, "--output", "laporan.xlsx")
    assert_one_line(result, "database")
    assert not (tmp_path / "laporan.xlsx").exists()
    assert os.listdir(cli_temporary) == []


@needs_postgresql
async def test_jbl_report_whose_connection_drops_half_way_says_so_in_one_line(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    cli_temporary: Path,
) -> None:
    async with locked_products(friday.settings.database.url) as drop_the_reader:
        running = asyncio.ensure_future(
            asyncio.to_thread(
                jbl_report, friday, tmp_path, cli_temporary, "--output", "laporan.xlsx"
            )
        )
        await drop_the_reader(running)
        result = await running
    assert_one_line(result, "PostgreSQL", "terminat")
    assert not (tmp_path / "laporan.xlsx").exists()
    assert os.listdir(cli_temporary) == []


async def test_jbl_report_on_a_full_disk_says_so_in_one_line_and_leaves_no_file(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    cli_temporary: Path,
) -> None:
    # Any file it writes can hold a byte: the spreadsheet's rows do not fit.
    result = jbl_report(friday, tmp_path, cli_temporary, "--output", "laporan.xlsx", largest_file=1)
    assert_one_line(result, "cannot write", "File too large")
    assert not (tmp_path / "laporan.xlsx").exists()
    assert os.listdir(cli_temporary) == []


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("missing/laporan.xlsx", "No such file or directory"),
        ("a file/laporan.xlsx", "Not a directory"),
        ("a directory", "Is a directory"),
        ("/dev/full", "No space left on device"),
    ],
)
async def test_jbl_report_to_a_file_that_cannot_be_written_says_so_in_one_line(
    friday: App,  # noqa: F811 - the fixture
    tmp_path: Path,
    cli_temporary: Path,
    output: str,
    expected: str,
) -> None:
    (tmp_path / "a file").write_text("kept")
    (tmp_path / "a directory").mkdir()
    result = jbl_report(friday, tmp_path, cli_temporary, "--output", output, "--force")
    assert_one_line(result, "cannot write", output, expected)
    assert result.stdout == ""
    assert (tmp_path / "a file").read_text() == "kept"
    assert os.listdir(tmp_path / "a directory") == []
    assert not (tmp_path / "missing").exists()
    assert os.listdir(cli_temporary) == []


# ---- PostgreSQL: a connection dropped while it waits ----------------------------------------


# Waits until a report waits for the lock, then ends its connection.
DropTheReader = Callable[[asyncio.Future[Any]], Awaitable[None]]


@contextlib.asynccontextmanager
async def locked_products(
    url: str,
) -> AsyncIterator[Callable[[asyncio.Future[Any]], Awaitable[None]]]:
    """Holds the products table locked until the block ends; gives a coroutine function that
    waits until a report waits for that lock (it has read the total and the merchants, and
    waits to read the products), then ends that report's connection as a server restart
    would. It fails if the report ended first."""
    engine = create_engine(url, pool_size=2)
    try:
        async with engine.connect() as holder, engine.connect() as watcher:
            await holder.execute(text("LOCK TABLE products IN ACCESS EXCLUSIVE MODE"))

            async def drop_the_reader(report: asyncio.Future[Any]) -> None:
                async with asyncio.timeout(ENDS_WITHIN_S):
                    while True:
                        assert not report.done(), report
                        waiting = await watcher.execute(
                            text(
                                "SELECT pid FROM pg_stat_activity"
                                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                            )
                        )
                        pids = waiting.scalars().all()
                        await watcher.commit()
                        if pids:
                            break
                        # A condition in another process, looked at again shortly.
                        await asyncio.wait({report}, timeout=0.05)
                    await watcher.execute(text(f"SELECT pg_terminate_backend({pids[0]})"))
                    await watcher.commit()

            yield drop_the_reader
            await holder.rollback()
    finally:
        await engine.dispose()
