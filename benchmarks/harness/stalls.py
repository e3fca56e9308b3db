"""How long a benchmark's event loop was held up: the longest it woke late."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class Stalls:
    """How late the event loop wakes a task that sleeps for `TICK` seconds."""

    TICK = 0.01
    longest: float = 0.0

    async def watch(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(self.TICK)
            self.longest = max(self.longest, time.monotonic() - asked - self.TICK)
