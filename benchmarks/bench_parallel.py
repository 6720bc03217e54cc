#!/usr/bin/env python3
"""Benchmark of parallel runs (issue 5): three ratios measured side by side.

    .venv/bin/python benchmarks/bench_parallel.py

1. I/O-bound: 200 jobs whose Check or Run sleeps 20 ms, in 10 layers 20 wide
   (each job needs two jobs of the layer below), run with workers=1 and
   workers=16. Target: workers=16 at least 8x faster.
2. Scheduling overhead: a 20,000-job all-passing graph (100 layers 200 wide,
   two dependencies each), CPU time (process_time, all threads) of
   checknrun with workers=4 and workers=1, best of --repeat runs each
   (the median ratio and the worst run are printed too). Target: at most 2x.
3. Retries: 8 jobs that fail twice (RETRY_DELAY 0.2 s, each try sleeping
   10-45 ms) among 32 passing jobs, workers=8. A failing job's own retry
   time is 2 x 0.2 s plus its last try; target: the run takes about the
   longest of those, not their sum.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dojobber import DoJobber, DummyJob, Job  # noqa: E402


def layered(
    name: str,
    layers: int,
    width: int,
    make: Callable[[str, tuple[type[Job], ...], int], type[Job]],
) -> type[Job]:
    """A root DummyJob over ``layers`` x ``width`` jobs; each job of layer k
    depends on jobs j and j+1 (mod width) of layer k-1."""
    below: list[type[Job]] = []
    number = 0
    for layer in range(layers):
        row = []
        for j in range(width):
            deps = (below[j], below[(j + 1) % width]) if below else ()
            row.append(make(f"{name}{layer}_{j}", deps, number))
            number += 1
        below = row
    return type(f"{name}Root", (DummyJob,), {"DEPS": tuple(below)})


def sleeping_job(name: str, deps: tuple[type[Job], ...], number: int) -> type[Job]:
    if number % 2:
        # Sleeps in Check, which passes.
        def check(self: Job, *args: Any, **kwargs: Any) -> None:
            time.sleep(0.02)

        def run(self: Job, *args: Any, **kwargs: Any) -> None:
            pass
    else:
        # Check fails at once, Run sleeps, the recheck passes.
        def check(self: Job, *args: Any, **kwargs: Any) -> None:
            if not self.storage.get("done"):
                raise RuntimeError("not yet")

        def run(self: Job, *args: Any, **kwargs: Any) -> None:
            time.sleep(0.02)
            self.storage["done"] = True

    return type(name, (Job,), {"DEPS": deps, "Check": check, "Run": run})


def passing_job(name: str, deps: tuple[type[Job], ...], number: int) -> type[Job]:
    return type(name, (DummyJob,), {"DEPS": deps})


def run(root: type[Job], workers: int, **options: Any) -> tuple[float, float, DoJobber]:
    """(wall seconds, CPU seconds) of one checknrun, and the DoJobber."""
    dojob = DoJobber()
    dojob.configure(root, workers=workers, **options)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    dojob.checknrun()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert dojob.success(), f"{root.__name__} did not pass with workers={workers}"
    return wall, cpu, dojob


def io_bound() -> None:
    root = layered("Io", 10, 20, sleeping_job)
    one, _, _ = run(root, 1)
    many, _, _ = run(root, 16)
    print(f"1. I/O-bound, 200 jobs x 20 ms, 20 wide: workers=1 {one:.3f} s, "
          f"workers=16 {many:.3f} s -> {one / many:.1f}x faster (target >= 8x)")


def overhead(repeat: int) -> None:
    root = layered("Cpu", 100, 200, passing_job)
    ones, fours = [], []
    for _ in range(repeat):  # interleaved, so both see the same machine load
        ones.append(run(root, 1)[1])
        fours.append(run(root, 4)[1])
    one, four = min(ones), min(fours)
    ratio_median = statistics.median(fours) / statistics.median(ones)
    print(f"2. 20,000 passing jobs, CPU time (best of {repeat}): workers=1 "
          f"{one:.3f} s, workers=4 {four:.3f} s -> {four / one:.2f}x "
          f"(target <= 2x); median {ratio_median:.2f}x, worst workers=4 run "
          f"{max(fours):.3f} s")


def retries() -> None:
    delay = 0.2
    durations = [0.010 + 0.005 * k for k in range(8)]
    failing = []
    for k, duration in enumerate(durations):
        def check(self: Job, *args: Any, _d: float = duration, **kwargs: Any) -> None:
            # A try is a Check that sleeps, then (on the first two tries) a
            # Run and a recheck that fail at once.
            name = type(self).__name__
            count = self.global_storage.get(name, 0)
            if self._check_phase == "check":
                count = self.global_storage[name] = count + 1
                time.sleep(_d)
            if count < 3:
                raise RuntimeError(f"try {count} fails")

        failing.append(type(f"Flaky{k}", (Job,), {
            "Check": check, "Run": lambda self, *a, **kw: None,
            "TRIES": 3, "RETRY_DELAY": delay,
        }))
    steady = [
        type(f"Steady{k}", (Job,), {
            "Check": lambda self, *a, **kw: time.sleep(0.01),
            "Run": lambda self, *a, **kw: None,
        })
        for k in range(32)
    ]
    root = type("RetryRoot", (DummyJob,), {"DEPS": tuple(failing + steady)})
    one, _, _ = run(root, 1)
    many, _, _ = run(root, 8)
    # A failing job's own time: two delays, then its third (passing) try.
    own = [2 * delay + d for d in durations]
    print(f"3. 8 jobs failing twice, RETRY_DELAY {delay} s: workers=8 "
          f"{many:.3f} s = {many / max(own):.2f}x the longest job's own retry "
          f"time ({max(own):.3f} s), {many / sum(own):.2f}x their sum "
          f"({sum(own):.3f} s); workers=1 {one:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="CPU-time runs per setting (default 5)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}")
    io_bound()
    overhead(args.repeat)
    retries()


if __name__ == "__main__":
    main()
