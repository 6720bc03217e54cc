#!/usr/bin/env python3
"""What DoJobber costs per try on an executor, beside the executor's own cost (issue 26).

    .venv/bin/python benchmarks/bench_overhead.py [--tries 600] [--repeat 5] [--no-dask]

For a ``ProcessPoolExecutor(2)`` (forkserver) and a 2-worker Dask
``LocalCluster``, at 2 and at 32 tries in flight, side by side:

- raw: ``executor.submit`` of a plain module-level function, once per job,
  at most that many in flight (the next is sent as one comes back), every
  result gathered;
- DoJobber: as many no-op jobs, ``configure(executor=..., workers=that many)``.

Each is the best of --repeat runs, the two taking turns so that they see
the same load. Target: DoJobber within 1.5x of raw everywhere.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import executor_jobs, measure  # noqa: E402
from benchmarks.bench_executor import dask  # noqa: E402
from dojobber import DoJobber  # noqa: E402

TARGET = 1.5
IN_FLIGHT = (2, 32)


def raw(executor: Executor, tries: int, in_flight: int) -> list[Any]:
    """``tries`` calls of a no-op function, at most ``in_flight`` at once."""
    results: list[Any] = []
    pending: set[Future[Any]] = set()
    sent = 0
    while sent < tries or pending:
        while sent < tries and len(pending) < in_flight:
            pending.add(executor.submit(executor_jobs.nothing, sent))
            sent += 1
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        results.extend(future.result() for future in done)
    return results


def dojobber(executor: Executor, tries: int, in_flight: int) -> DoJobber:
    """``tries`` no-op jobs (the root one of them) on ``executor``."""
    executor_jobs.Root.DEPS = executor_jobs.BURNS[:tries - 1]
    dojob = DoJobber()
    dojob.configure(executor_jobs.Root, executor=executor, workers=in_flight)
    dojob.checknrun()
    assert dojob.success(), dojob.nodeexceptions
    return dojob


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=600, help="tries per run (at most 601)")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each, best kept")
    parser.add_argument("--no-dask", action="store_true", help="leave Dask out")
    options = parser.parse_args()
    tries = min(options.tries, len(executor_jobs.BURNS) + 1)
    print(f"Python {sys.version.split()[0]}; {tries} no-op tries per run, best of "
          f"{options.repeat}, raw and DoJobber taking turns")
    print(f"{'executor':24} {'in flight':>9} {'raw':>11} {'DoJobber':>11} {'ratio':>6}")
    starts: dict[str, Callable[[ExitStack], Executor]] = {"ProcessPoolExecutor(2)": process_pool}
    if not options.no_dask:
        starts["Dask LocalCluster(2)"] = dask
    worst = 0.0
    # One executor at a time: an idle Dask cluster's heartbeats would take
    # their share of the two cores from the process pool's figures.
    for name, start in starts.items():
        with ExitStack() as stack:
            executor = start(stack)
            for in_flight in IN_FLIGHT:
                ratio = side_by_side(name, executor, tries, in_flight, options.repeat)
                worst = max(worst, ratio)
    print(f"target: DoJobber <= {TARGET}x raw everywhere: "
          f"{'met' if worst <= TARGET else 'MISSED'} (worst {worst:.2f}x)")
    return 0


def side_by_side(name: str, executor: Executor, tries: int, in_flight: int, repeat: int) -> float:
    """Print raw and DoJobber at ``in_flight`` on ``executor``; their ratio."""
    runs: list[Callable[[], Any]] = [
        lambda: raw(executor, tries, in_flight),
        lambda: dojobber(executor, tries, in_flight),
    ]
    for run in runs:
        run()  # warm up: processes started, modules imported
    best = measure.best_times(runs, lambda: None, repeat, window=0.0)
    ratio = best[1] / best[0]
    print(f"{name:24} {in_flight:9} {best[0] / tries * 1e6:8.0f} us "
          f"{best[1] / tries * 1e6:8.0f} us {ratio:5.2f}x")
    return ratio


def process_pool(stack: ExitStack) -> Executor:
    context = multiprocessing.get_context("forkserver")
    return stack.enter_context(ProcessPoolExecutor(2, mp_context=context))


if __name__ == "__main__":
    sys.exit(main())
