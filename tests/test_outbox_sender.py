"""What the outbox sender costs the database: the claim reads the index of claimable rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, text

from bot.bootstrap import App
from models.outbox import claim_due
from models.uow import UnitOfWork


async def test_the_claim_reads_the_index_of_claimable_rows(app: App) -> None:
    statements: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM outbox JOIN identities" in statement:
            statements.append((statement, parameters))

    postgres = app.engine.dialect.name == "postgresql"
    event.listen(app.engine.sync_engine, "before_cursor_execute", note)
    try:
        async with UnitOfWork(app.sessions) as uow:
            lease = timedelta(seconds=60)
            await claim_due(uow.session, "telegram", "sender", app.clock(), lease, 100)
            [(statement, parameters)] = statements
            if postgres:
                # A near-empty table is cheapest to scan; the question is whether the
                # planner *can* use the partial index, i.e. sees the claim imply its condition.
                await uow.session.execute(text("SET LOCAL enable_seqscan = off"))
            connection = await uow.session.connection()
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = (await connection.exec_driver_sql(explain + statement, parameters)).all()
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", note)
    assert "ix_outbox_due" in str(plan), plan
