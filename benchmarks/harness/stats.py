"""Figures from timings: percentiles, means and steady rates."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value with p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def steady_rate(times: Sequence[float]) -> float | None:
    """Events per second between the 10th and the 90th percentile of their times: the steady
    state, without the ramp-up and the tail. None for fewer than 10 events, or no time between.
    """
    if len(times) < 10:
        return None
    first, last = percentile(times, 10), percentile(times, 90)
    if last <= first:
        return None
    return sum(1 for t in times if first < t <= last) / (last - first)
