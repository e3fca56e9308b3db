"""An XLSX sheet read by a child process: unzipping and parsing the sheet's XML is most of an
XLSX import's work, and in a process of its own it runs on another core while the rows already
read are checked and written, instead of taking turns with them for the interpreter's lock.

The child (`python -m handlers.xlsx_process FILE`) writes what it reads to its standard output
as pickled messages: batches of rows, then the end, or what stopped it. It ignores Ctrl-C, and
is killed when the rows are no longer wanted; a parent that dies leaves it a broken pipe, and
it ends."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any

from handlers.xlsx_sheet import DamagedSheet, first_sheet_rows

# Rows per message: large enough that pickling is cheap per row, small enough to keep both
# processes busy from the start.
BATCH_ROWS = 1_000
_ROWS, _END, _DAMAGED, _FAILED = "rows", "end", "damaged", "failed"


class SheetReaderFailed(RuntimeError):
    """The child met an error that is not the workbook's fault; the message is its traceback."""


@contextlib.contextmanager
def sheet_rows(path: Path) -> Iterator[Iterator[tuple[str, ...]]]:
    """What `first_sheet_rows(path)` gives, read by a child process. Raises `DamagedSheet` while
    the rows are read, as the child meets it."""
    child = subprocess.Popen(
        [sys.executable, "-m", __name__, os.fspath(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=_child_environment(),
    )
    assert child.stdout is not None
    try:
        yield _received(child, child.stdout)
    finally:
        # Whether it finished or not: it is not wanted any more.
        child.kill()
        child.wait()
        child.stdout.close()


def _child_environment() -> dict[str, str]:
    """This environment, with this code first on the child's path: it runs what we run."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def _received(child: subprocess.Popen[bytes], stream: IO[bytes]) -> Iterator[tuple[str, ...]]:
    while True:
        try:
            kind, payload = pickle.load(stream)
        except (EOFError, pickle.UnpicklingError):
            # Killed (out of memory, by someone) before it could say why.
            raise DamagedSheet(f"its reader was stopped, exit status {child.wait()}") from None
        if kind == _ROWS:
            yield from payload
        elif kind == _END:
            return
        elif kind == _DAMAGED:
            raise DamagedSheet(payload)
        else:
            raise SheetReaderFailed(payload)


def _serve(path: Path, out: IO[bytes]) -> None:
    def send(kind: str, payload: Any) -> None:
        pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        with first_sheet_rows(path) as rows:
            while batch := list(islice(rows, BATCH_ROWS)):
                send(_ROWS, batch)
        send(_END, None)
    except DamagedSheet as error:
        send(_DAMAGED, str(error))
    except Exception:
        # Not the workbook's fault: handed to the parent, which raises it.
        send(_FAILED, traceback.format_exc())
    out.flush()


def _main() -> int:
    # Ctrl-C reaches the whole process group: the parent decides, and kills this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout.buffer
    # Nothing else may write into the pipe the parent reads.
    sys.stdout = sys.stderr
    try:
        _serve(Path(sys.argv[1]), out)
    except BrokenPipeError:
        # The parent went away: nobody is left to tell, nor to flush what is buffered to.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
