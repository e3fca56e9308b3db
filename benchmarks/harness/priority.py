"""The fakes' process ahead of the processes they measure when both want a core.

The fakes stand for the platforms' servers, which are elsewhere in a deployment: a stamp
taken late because the fake waited for the CPU bunches the sends into the next second, and
the busiest second then measures this machine rather than the sender. Only root may raise a
priority; otherwise the process says so and runs as it is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

AHEAD = -10  # a nice value: ahead of the measured processes (0) when both want a core


def run_ahead(who: str) -> int | None:
    """This process runs at `AHEAD` from now on; returns the priority it had (None: it may
    not, and was told so)."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, AHEAD)
    except PermissionError:
        print(f"the {who} runs at the ordinary priority (only root may raise it)", flush=True)
        return None
    return before


@contextlib.asynccontextmanager
async def first_on_the_cpu(who: str) -> AsyncIterator[None]:
    """`run_ahead` while inside; the priority it had after."""
    before = run_ahead(who)
    try:
        yield
    finally:
        if before is not None:
            os.setpriority(os.PRIO_PROCESS, 0, before)
