#!/usr/bin/env python3
"""Benchmark of runs on executors (issue 15), side by side in one run.

    .venv/bin/python benchmarks/bench_executor.py

1. CPU-bound: 12 independent jobs whose Check burns about 0.3 s of pure
   Python, run sequentially (workers=1), in 2 threads, and on a 2-process
   ProcessPoolExecutor and a 2-worker Dask LocalCluster. Target: the process
   pool at least 1.7x faster than workers=1 on a 2-core machine (threads
   stay near 1x: the GIL).
2. Per-try overhead: 200 no-op jobs on each engine; the wall time of a run
   divided by its tries, best of --repeat runs.

Pools are started and warmed up before anything is timed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import executor_jobs  # noqa: E402
from dojobber import DoJobber  # noqa: E402


def calibrate(seconds: float) -> int:
    """How many Burn loops take about ``seconds`` here."""
    loops = 100_000
    while True:
        start = time.perf_counter()
        executor_jobs.Burn().Check(loops=loops)
        spent = time.perf_counter() - start
        if spent > 0.05:
            return int(loops * seconds / spent)
        loops *= 4


def timed(jobs: int, loops: int, **options: Any) -> float:
    executor_jobs.Root.DEPS = executor_jobs.BURNS[:jobs]
    dojob = DoJobber()
    dojob.configure(executor_jobs.Root, **options)
    dojob.set_args(loops=loops)
    start = time.perf_counter()
    dojob.checknrun()
    elapsed = time.perf_counter() - start
    assert dojob.success(), dojob.nodeexceptions
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, best kept")
    parser.add_argument("--no-dask", action="store_true", help="leave Dask out")
    options = parser.parse_args()
    print(f"Python {sys.version.split()[0]}")
    with ExitStack() as stack:
        context = multiprocessing.get_context("forkserver")
        engines: dict[str, dict[str, Any]] = {
            "workers=1": {},
            "threads, workers=2": {"workers": 2},
            "ThreadPoolExecutor(2)": {"executor": stack.enter_context(ThreadPoolExecutor(2))},
            "ProcessPoolExecutor(2)": {
                "executor": stack.enter_context(ProcessPoolExecutor(2, mp_context=context))},
        }
        if not options.no_dask:
            engines["Dask LocalCluster(2)"] = {"executor": dask(stack)}
        for engine in engines.values():
            timed(4, 0, **engine)  # start and warm up the pools

        loops = calibrate(0.3)
        times = {name: min(timed(12, loops, **engine) for _ in range(options.repeat))
                 for name, engine in engines.items()}
        base = times["workers=1"]
        print("1. CPU-bound, 12 jobs x 0.3 s of pure Python:")
        for name, seconds in times.items():
            print(f"   {name:24} {seconds:6.2f} s  {base / seconds:4.2f}x faster than workers=1")
        print(f"   target: ProcessPoolExecutor(2) >= 1.7x: "
              f"{'met' if base / times['ProcessPoolExecutor(2)'] >= 1.7 else 'MISSED'}")

        print("2. Per-try overhead, 200 no-op jobs:")
        for name, engine in engines.items():
            best = min(timed(200, 0, **engine) for _ in range(options.repeat))
            print(f"   {name:24} {best / 201 * 1e6:8.0f} us per try")
    return 0


def dask(stack: ExitStack) -> Executor:
    from distributed import Client, LocalCluster

    cluster = stack.enter_context(LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"))
    return stack.enter_context(Client(cluster)).get_executor()  # type: ignore[no-any-return]


if __name__ == "__main__":
    sys.exit(main())
