"""The event loop jbl runs on, and how it is kept quick once jbl is up."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")

# asyncio's own loop, in Python, costs a good share of each message's CPU time
# (`python -m benchmarks.whatsapp` measures it). The tests run on it too.
new_event_loop = uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """Runs `main` to the end on jbl's event loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


async def settle_when(ready: asyncio.Event) -> None:
    """Once jbl is up, takes what start-up made out of the garbage collector's full passes.

    Those objects (modules, the ORM's mappers, twilio's and PTB's classes) live as long as the
    process, and a full pass over them held the event loop, and every message in flight with
    it, for longer than a WhatsApp reply may take (`python -m benchmarks.whatsapp`).
    """
    await ready.wait()
    gc.collect()
    gc.freeze()
