"""Runs one graph on DoJobber 0.6.2; executed by the 0.6.2 virtual environment.

Usage: python old_runner.py SHAPE SIZE REPEAT MEASURE_MEMORY(0|1)
Prints one JSON object: {"seconds", "statuses", "peak_bytes"} or {"error"}.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import graphs  # noqa: E402
import measure  # noqa: E402
from dojobber import DoJobber, Job  # noqa: E402  (0.6.2, from the venv)


def main() -> None:
    shape, size, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    graph = graphs.build(shape, size, Job)

    def run():
        dojob = DoJobber()
        dojob.configure(graph.root, default_retry_delay=0)
        dojob.checknrun()
        return dojob

    try:
        seconds, dojob = measure.best_time(run, graph.reset, repeat, budget=1.0)
        report = {"seconds": seconds, "statuses": measure.status_counts(dojob.nodestatus)}
        del dojob
        if sys.argv[4] == "1":
            report["peak_bytes"] = measure.peak_memory(run, graph.reset)
    except RecursionError:
        report = {"error": "RecursionError"}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
