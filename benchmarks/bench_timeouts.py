#!/usr/bin/env python3
"""Benchmark of timeouts (issue 14): what TIMEOUT costs, measured side by side.

    .venv/bin/python benchmarks/bench_timeouts.py [--against REV] [--repeat N] [--quick]

1. No TIMEOUT anywhere: configure() + checknrun() of generated graphs
   (layered and retry-heavy, 10,000 jobs; sequential and workers=4) with
   this tree and with the tree at REV (default: the commit before timeouts
   came in), each in interpreters of its own, taking turns; best CPU time
   (time.process_time, every thread) of N.
   Target: this tree takes at most 1.05x REV's time.
2. What a TIMEOUT costs when a job has one (information, no target): the
   layered graph with default_timeout=60 against the same run without, as
   extra microseconds per try, the alarm way (sequential, main thread) and
   the thread way (workers=4).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
TARGET = 1.05
SIZE = 10_000
CASES = [("layered", 1), ("retry-heavy", 1), ("layered", 4), ("retry-heavy", 4)]


def default_revision() -> str:
    """The parent of the commit that added dojobber/timeouts.py."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "dojobber/timeouts.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    if not added:
        raise SystemExit("bench_timeouts: dojobber/timeouts.py is not committed; give --against")
    return added[-1] + "^"


def checkout(revision: str) -> Path:
    """The ``dojobber`` package at ``revision``, extracted once under .cache."""
    commit = subprocess.run(["git", "rev-parse", revision], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    where = CACHE / f"tree-{commit[:12]}"
    if not (where / "dojobber" / "__init__.py").exists():
        files = subprocess.run(["git", "ls-tree", "-r", "--name-only", commit, "dojobber"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout
        for name in files.split():
            text = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=ROOT,
                                  capture_output=True, check=True).stdout
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            (where / name).write_bytes(text)
    return where


def worker(source: str, shape: str, size: int, workers: int, timeout: float | None,
           repeat: int) -> dict[str, Any]:
    """In a fresh interpreter: the best of ``repeat`` runs of DoJobber from ``source``."""
    sys.path.insert(0, source)
    sys.path.insert(1, str(ROOT))
    import gc

    import dojobber
    from benchmarks import graphs

    graph = graphs.build(shape, size, dojobber.Job)
    options: dict[str, Any] = {"default_retry_delay": 0}
    if workers > 1:
        options["workers"] = workers
    if timeout is not None:
        options["default_timeout"] = timeout
    best = float("inf")
    tries = 0
    for _ in range(repeat):
        graph.reset()
        gc.collect()
        # CPU time, every thread's: on a shared machine, much steadier than
        # the wall clock, and what the scheduling costs is CPU.
        start = time.process_time()
        dojob = dojobber.DoJobber()
        dojob.configure(graph.root, **options)
        dojob.checknrun()
        best = min(best, time.process_time() - start)
        assert dojob.success(), f"{shape}: not every job passed"
        tries = sum(job.tries for job in dojob.report().jobs)
        del dojob
    return {"best": best, "tries": tries, "module": dojobber.__file__}


def measured(source: Path, *case: Any) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(source), *map(str, case)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if done.returncode:
        raise SystemExit(f"bench_timeouts: worker failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    if not result["module"].startswith(str(source)):
        raise SystemExit(f"bench_timeouts: {source} was not the DoJobber run: {result}")
    return result


def no_timeout(revision: str, rounds: int, size: int) -> bool:
    reference = checkout(revision)
    print(f"1. No TIMEOUT anywhere, {size:,} jobs, CPU time: this tree vs {revision} "
          f"(best of {rounds} rounds x 3 runs, taking turns; target <= {TARGET}x)")
    ok = True
    for shape, workers in CASES:
        best = {"this": float("inf"), "before": float("inf")}
        for _ in range(rounds):
            for name, source in (("this", ROOT), ("before", reference)):
                result = measured(source, shape, size, workers, None, 3)
                best[name] = min(best[name], result["best"])
        ratio = best["this"] / best["before"]
        ok = ok and ratio <= TARGET
        print(f"   {shape:<11} workers={workers}: this {best['this']:.3f} s, "
              f"before {best['before']:.3f} s -> {ratio:.3f}x "
              f"{'ok' if ratio <= TARGET else 'MISSED'}")
    return ok


def with_timeout(rounds: int, size: int) -> None:
    print(f"2. default_timeout=60 on every job, layered, {size:,} jobs, CPU time "
          f"(best of {rounds} rounds x 3 runs; no target)")
    for workers, way in ((1, "alarm way (main thread)"), (4, "thread way (workers=4)")):
        plain = timed = float("inf")
        tries = 1
        for _ in range(rounds):
            plain = min(plain, measured(ROOT, "layered", size, workers, None, 3)["best"])
            result = measured(ROOT, "layered", size, workers, 60, 3)
            timed, tries = min(timed, result["best"]), result["tries"]
        print(f"   {way}: without {plain:.3f} s, with {timed:.3f} s -> "
              f"{(timed - plain) / tries * 1e6:.0f} us more per try")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        source, shape, size, workers, timeout, repeat = sys.argv[2:8]
        print(json.dumps(worker(source, shape, int(size), int(workers),
                                None if timeout == "None" else float(timeout), int(repeat))))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--against", metavar="REV",
                        help="the revision to compare with (default: the commit before "
                        "dojobber/timeouts.py was added)")
    parser.add_argument("--repeat", type=int, default=5, metavar="N",
                        help="rounds per measure (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="300-job graphs, one round: the output's shape, not figures")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}")
    rounds = 1 if args.quick else args.repeat
    ok = no_timeout(args.against or default_revision(), rounds, 300 if args.quick else SIZE)
    with_timeout(rounds, 300 if args.quick else 2_000)
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
