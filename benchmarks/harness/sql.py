"""The SQL statements a run executes, timed at the driver, and their plans."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from sqlalchemy import event

from bot.bootstrap import App


class SqlProfile:
    """Times every statement the app runs, grouped by the benchmark action that ran it (set
    `action` before each)."""

    def __init__(self, app: App) -> None:
        self.engine = app.engine.sync_engine
        self.action = "?"
        self.timings: dict[tuple[str, str], list[tuple[float, Any]]] = defaultdict(list)
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        started = conn.info["bench_started"].pop()
        self.timings[(self.action, statement)].append((time.perf_counter() - started, parameters))


def short_sql(statement: str, width: int = 110) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def explain(app: App, analyze: str = "ANALYZE, BUFFERS") -> str:
    """EXPLAIN QUERY PLAN on SQLite; EXPLAIN (`analyze`) on PostgreSQL, which runs it."""
    postgres = app.engine.dialect.name == "postgresql"
    return f"EXPLAIN ({analyze})" if postgres else "EXPLAIN QUERY PLAN"


async def print_plan(
    app: App, statement: str, parameters: Any, *, analyze: str = "ANALYZE, BUFFERS"
) -> None:
    """Prints the statement and its plan (`explain`), in a transaction that is rolled back."""
    postgres = app.engine.dialect.name == "postgresql"
    print("    " + " ".join(statement.split()))
    async with app.engine.connect() as connection:
        command = f"{explain(app, analyze)} {statement}"
        result = await connection.exec_driver_sql(command, parameters)
        for row in result.all():
            print("    | " + (row[0] if postgres else row[-1]))
        await connection.rollback()
