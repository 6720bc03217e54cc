#!/usr/bin/env python3
"""SVG speed: the Graphviz ``dot`` program against the in-process renderer.

Renders the movie example's picture (after its default run) and a 500-job
graph, side by side in one run, and prints the times and their ratios:

* graphviz: one ``dot -Tsvg`` process per picture;
* wasm cold: the first in-process picture of a fresh Python process
  (import, compiling the WebAssembly module, rendering), as a script that
  draws one picture pays it;
* wasm warm: each later in-process picture of the same process.

Usage: python benchmarks/bench_svg.py [REPEATS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import dojobber  # noqa: E402
import dojobber_example as doex  # noqa: E402
from dojobber import DoJobber, Job, render  # noqa: E402

COLD = """
import sys, time
dot = sys.stdin.read()
start = time.perf_counter()
from dojobber import render
render.render(dot, "svg", renderer="wasm")
print(time.perf_counter() - start)
"""


def movie_dot() -> str:
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0)
    dojob.set_args(movie="Noises Off", battery_state="dead")
    dojob.checknrun()
    return dojob.graph_dot()


def big_dot(jobs: int = 500) -> str:
    # A layered graph: each job depends on two of the previous layer.
    classes: list[type[Job]] = []
    for i in range(jobs):
        deps = tuple(classes[max(0, i - 25 - k)] for k in (0, 7) if i >= 25)
        classes.append(type(f"Job{i}", (Job,), {"DEPS": deps, "Check": lambda self, *a, **k: None}))
    root = type("Root", (Job,), {"DEPS": tuple(classes[-25:]), "Check": lambda self, *a, **k: None})
    dojob = DoJobber()
    dojob.configure(root)
    dojob.checknrun()
    return dojob.graph_dot()


def median_time(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold(dot: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", COLD], input=dot, capture_output=True,
                              text=True, check=True, cwd=ROOT)
        times.append(float(done.stdout))
    return statistics.median(times)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not render.wasm_available():
        sys.exit("the in-process renderer is not installed: pip install 'dojobber[pictures]'")
    print(f"DoJobber {dojobber.__version__}, Python {sys.version.split()[0]}, "
          f"median of {repeats}")
    print(f"{'graph':<14}{'graphviz':>12}{'wasm cold':>12}{'wasm warm':>12}"
          f"{'cold/graphviz':>15}{'warm/graphviz':>15}")
    render.render("digraph { a }", "svg", renderer="wasm")  # load it for the warm runs
    for name, dot in (("movie (18)", movie_dot()), ("layered (501)", big_dot())):
        program = median_time(lambda: render.render(dot, "svg", renderer="graphviz"), repeats)
        warm = median_time(lambda: render.render(dot, "svg", renderer="wasm"), repeats)
        first = cold(dot, repeats)
        print(f"{name:<14}{program * 1000:>10.1f}ms{first * 1000:>10.1f}ms{warm * 1000:>10.1f}ms"
              f"{first / program:>15.2f}{warm / program:>15.2f}")


if __name__ == "__main__":
    main()
