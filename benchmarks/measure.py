"""Timing and peak-memory measurement, shared by every interpreter the suite runs."""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import Any, Callable, Sequence


def best_time(
    run: Callable[[], Any],
    reset: Callable[[], None],
    repeat: int,
    budget: float = float("inf"),
) -> tuple[float, Any]:
    """The fastest of up to ``repeat`` calls of ``run`` (seconds), and what the last built.

    Stops repeating once the calls took ``budget`` seconds in all. What
    ``run`` returns is dropped only after the clock stops: the measure is
    the work, not the teardown.
    """
    best = float("inf")
    spent = 0.0
    built = None
    for _ in range(repeat):
        del built
        reset()
        gc.collect()
        start = time.perf_counter()
        built = run()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        if spent >= budget:
            break
    return best, built


def best_times(
    runs: Sequence[Callable[[], Any]],
    reset: Callable[[], None],
    repeat: int,
    window: float = 2.0,
    most: int = 200,
    *,
    collector: bool = True,
) -> list[float]:
    """The fastest timed call of each of ``runs``, which take turns.

    At least ``repeat`` rounds, and more (up to ``most``) until the rounds
    span ``window`` seconds: on a shared machine the load comes and goes,
    and sampling a small graph as long as a big one gives both the same
    chance of a quiet moment. Taking turns, the runs see the same load.
    Each call's result is dropped after the clock stops.

    ``collector=False`` times every call with the garbage collector off
    (``gc.disable()``), for all runs alike: then no figure includes the
    collector's passes over objects a run did not make (on big graphs,
    the job classes themselves).
    """
    best = [float("inf")] * len(runs)
    began = time.perf_counter()
    for round_number in range(most):
        if round_number >= repeat and time.perf_counter() - began >= window:
            break
        for k, run in enumerate(runs):
            reset()
            gc.collect()
            if not collector:
                gc.disable()
            try:
                start = time.perf_counter()
                built = run()
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            del built
            best[k] = min(best[k], elapsed)
    return best


def peak_memory(run: Callable[[], Any], reset: Callable[[], None]) -> int:
    """The most memory (bytes, as tracemalloc counts it) one call of ``run`` held."""
    reset()
    gc.collect()
    tracemalloc.start()
    try:
        built = run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del built
    return peak


def kept_memory(run: Callable[[], Any], reset: Callable[[], None]) -> int:
    """The memory (bytes, as tracemalloc counts it) that what one call of
    ``run`` returned still holds once the call is over: for DoJobber, the
    object with its statuses, results and report; for the floor, its graph."""
    reset()
    gc.collect()
    tracemalloc.start()
    try:
        built = run()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del built
    return kept


def status_counts(nodestatus: dict[str, Any]) -> dict[str, int]:
    """How many jobs passed, failed and were never tried, from a ``nodestatus``."""
    values = list(nodestatus.values())
    return {
        "passed": sum(1 for v in values if v is True),
        "failed": sum(1 for v in values if v is False),
        "untried": sum(1 for v in values if v is None),
    }
