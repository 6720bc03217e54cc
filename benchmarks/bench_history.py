"""What recording the run history costs: ``dojobber run`` of N trivial jobs
with ``--history`` beside the same command without, whole command against
whole command (issue 27: at most 1.25x at 10,000 jobs).

    python benchmarks/bench_history.py [--jobs N] [--rounds R]

Each round runs both commands, taking turns, into a new SQLite file; the
best time of each is compared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRAPH = '''
from dojobber import Job

def leaf(k):
    return type(f"Leaf{k}", (Job,), {"Check": lambda self: None})

class Root(Job):
    DEPS = tuple(leaf(k) for k in range(%d))

    def Check(self):
        pass
'''


def timed(args: list[str], cwd: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "DOJOBBER_HISTORY"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dojobber", "run", *args], cwd=cwd, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(jobs: int, rounds: int) -> tuple[float, float]:
    """The best seconds of the command without and with ``--history``."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "graph.py").write_text(GRAPH % (jobs - 1))
        target = "graph.py:Root"
        without = with_history = float("inf")
        for number in range(rounds):
            without = min(without, timed([target], folder))
            place = os.path.join(folder, f"history{number}.db")
            with_history = min(with_history, timed([target, "--history", place], folder))
    return without, with_history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args(argv)
    without, with_history = measure(options.jobs, options.rounds)
    print(f"dojobber run, {options.jobs} trivial jobs, best of {options.rounds}:")
    print(f"  {'without --history':<20} {without:8.3f} s")
    print(f"  {'with --history':<20} {with_history:8.3f} s")
    print(f"  {'ratio':<20} {with_history / without:8.2f}x  (issue 27: at most 1.25x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
