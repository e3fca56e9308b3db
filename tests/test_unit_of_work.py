"""The unit of work: only it commits, and on SQLite a nested one fails instead of hanging."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import select, text

from models.catalog import Category
from models.uow import UnitOfWork
from tests.conftest import PG_URL


async def test_without_commit_nothing_is_kept(app) -> None:
    async with UnitOfWork(app.sessions) as uow:
        category = await uow.session.scalar(select(Category).where(Category.rotation == 0))
        assert category is not None
        category.name_id = "Diubah"
    async with UnitOfWork(app.sessions) as uow:
        names = set(await uow.session.scalars(select(Category.name_id)))
    assert "Diubah" not in names


@pytest.mark.skipif(PG_URL is not None, reason="the write queue is SQLite's")
async def test_a_nested_unit_of_work_is_refused_not_deadlocked(app) -> None:
    async with UnitOfWork(app.sessions):
        with pytest.raises(RuntimeError, match="already open in this task"):
            async with UnitOfWork(app.sessions):
                pass
    async with UnitOfWork(app.sessions) as uow:  # the queue is free again
        assert await uow.session.scalar(select(Category.id).limit(1))


@pytest.mark.skipif(PG_URL is not None, reason="SQLite's file lock")
async def test_waiting_for_another_process_write_lock_leaves_the_event_loop_free(app, budi) -> None:
    # Another process (here: a plain connection) holds SQLite's write lock.
    other = sqlite3.connect(app.engine.url.database, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    handling = asyncio.create_task(budi.send("/start"))
    # If the wait blocked the loop, these yields would not come back until the lock did.
    for _ in range(50):
        await asyncio.sleep(0)
    assert not handling.done()
    other.execute("COMMIT")
    other.close()
    await handling
    assert "Selamat datang" in budi.text


@pytest.mark.skipif(PG_URL is None, reason="PostgreSQL's connection pool")
async def test_more_units_of_work_than_connections_wait_and_reuse_the_same_ones(app) -> None:
    # Each unit of work holds its connection until all that got one are holding theirs, so
    # the pool is full, then gives it back, three times over more work than the pool holds.
    size = app.engine.pool.size()
    holding: list[int] = []
    full = asyncio.Event()

    async def work() -> int:
        async with UnitOfWork(app.sessions) as uow:
            pid = await uow.session.scalar(text("SELECT pg_backend_pid()"))
            holding.append(pid)
            if len(holding) == size:
                full.set()
            await full.wait()
            holding.remove(pid)
            if not holding:
                full.clear()
            return pid

    async with asyncio.timeout(20):
        pids = await asyncio.gather(*(work() for _ in range(3 * size)))
    # None was closed when given back and opened anew: the same server processes served all.
    assert len(set(pids)) == size
