"""How sends arrived at a fake platform, as the platform would count them against its limit."""

from __future__ import annotations

from collections.abc import Sequence


def busiest_second(arrivals: Sequence[float]) -> int:
    """The most arrivals within any one second (a sliding window; arrivals in order)."""
    most, first = 0, 0
    for last, at in enumerate(arrivals):
        while at - arrivals[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
