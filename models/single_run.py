"""One `jbl run` per SQLite file: SQLite serves one process's channels, senders and jobs, and
two would each poll, pace and schedule as if alone. Several processes need PostgreSQL.

The lock is the operating system's (`flock` on a file beside the database), so it ends with
the process however it ends, kill -9 included. Other commands (`jbl chat`, `jbl report`, an
import) do not take it and run beside `jbl run` as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from models.unusable import DatabaseUnusable

LOCK_SUFFIX = ".run-lock"


class DatabaseInUse(DatabaseUnusable):
    """Another `jbl run` holds the SQLite file; the message is one line."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


@contextlib.contextmanager
def single_run(url: str) -> Iterator[None]:
    """Holds the SQLite file for this `jbl run` until the block ends; raises `DatabaseInUse`
    when another holds it. A PostgreSQL (or in-memory) database needs no such lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        yield
        return
    database = Path(parsed.database)
    try:
        fd = os.open(lock_path(database), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise DatabaseUnusable(f"cannot lock the database {database}: {error.strerror}") from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(_in_use(database, os.pread(fd, 32, 0))) from None
        # For the line a second `jbl run` shows; the lock, not this, is what counts.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        # Closing the file releases the lock.
        os.close(fd)


def _in_use(database: Path, holder: bytes) -> str:
    pid = holder.decode(errors="replace").strip()
    by = f"another jbl run (pid {pid})" if pid.isdigit() else "another jbl run"
    return (
        f"the database {database} is in use by {by}; SQLite serves one process:"
        " for several, use PostgreSQL"
    )
