"""The one timing rule the benchmarks share: the median wall-clock seconds of `repeats` calls (the median,
not the mean, so one call slowed by other work on the machine does not move it)."""

from __future__ import annotations

import statistics
import time


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
