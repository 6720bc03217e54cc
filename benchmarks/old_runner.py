"""Times one graph on DoJobber 0.6.2; run by the 0.6.2 environment's python.

Usage: python old_runner.py SHAPE SIZE REPEAT
Prints one JSON object: {"seconds": ..., "statuses": {...}} or {"error": ...}.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import graphs  # noqa: E402
import measure  # noqa: E402

from dojobber import DoJobber, Job  # noqa: E402  (0.6.2, from its environment)


def main() -> None:
    shape, size, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    graph = graphs.build(shape, size, Job)

    def run():
        dojob = DoJobber()
        dojob.configure(graph.root, default_retry_delay=0)
        dojob.checknrun()
        return dojob

    try:
        # Runs over a second are not repeated: 0.6.2 is slow enough.
        seconds, dojob = measure.best_time(run, graph.reset, repeat, budget=1.0)
    except RecursionError:
        print(json.dumps({"error": "RecursionError"}))
        return
    print(json.dumps({"seconds": seconds, "statuses": measure.status_counts(dojob.nodestatus)}))


if __name__ == "__main__":
    main()
