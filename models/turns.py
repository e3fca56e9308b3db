"""A scheduled job's turn, taken by one process at a time.

Every `jbl run` process has its own scheduler, and each fires every job. The jobs are sweeps
over rows that remember what was done (decision 0009), so a turn run twice does each thing
once; the turn taken here keeps two processes from running the same sweep at the same time,
where they would race for the same rows (a broadcast started twice refused, updates of the
same products deadlocked) and do the work twice to no end.
"""

from __future__ import annotations

import functools
import zlib

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

# The first key of jbl's jobs' advisory locks (PostgreSQL's two-key form): other advisory
# locks of jbl, or of another program on the same database, use other first keys.
JOBS_LOCK_CLASS = zlib.crc32(b"jbl scheduled jobs") - 2**31


def job_key(job: str) -> int:
    """The second key of a job's lock: its name, as PostgreSQL's signed 32-bit integer."""
    return zlib.crc32(job.encode()) - 2**31


@functools.cache
def _try_lock() -> TextClause:
    return text("SELECT pg_try_advisory_xact_lock(:class, :key)").bindparams(
        bindparam("class"), bindparam("key")
    )


async def take_turn(session: AsyncSession, job: str) -> bool:
    """True if this transaction may run `job` now; False while another transaction (in this
    process or another) runs it. Held until this transaction ends, so a crash gives it back.

    SQLite: always True, one process writes at a time there anyway.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = await session.scalar(_try_lock(), {"class": JOBS_LOCK_CLASS, "key": job_key(job)})
    return bool(taken)
