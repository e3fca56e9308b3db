"""How sends arrived at a fake platform, as the platform would count them against its limit."""

from __future__ import annotations

from collections.abc import Sequence


def busiest_second(arrivals: Sequence[float]) -> int:
    """The most arrivals within any one second (a sliding window; arrivals in order)."""
    return busiest_window(arrivals)[0]


def busiest_window(arrivals: Sequence[float]) -> tuple[int, float]:
    """The most arrivals within any one second, and when that second began (arrivals in
    order; 0.0 for none)."""
    most, began, first = 0, 0.0, 0
    for last, at in enumerate(arrivals):
        while at - arrivals[first] >= 1.0:
            first += 1
        if last - first + 1 > most:
            most, began = last - first + 1, arrivals[first]
    return most, began
