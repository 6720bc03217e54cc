"""What ``dojobber history`` takes: its arguments, in a module light to import
(``history`` itself loads the databases' modules)."""

from __future__ import annotations

import argparse


def add_arguments(history: argparse.ArgumentParser) -> None:
    """What ``history`` takes: the place, which runs, which view, which output."""
    history.add_argument("place", metavar="PLACE", nargs="?",
                         help="a SQLite file or a postgresql:// URL "
                         "(default: $DOJOBBER_HISTORY)")
    history.add_argument("--root", help="only runs of this root job")
    history.add_argument("--host", help="only runs on this host")
    history.add_argument("--since", metavar="WHEN",
                         help="only runs since WHEN: an ISO 8601 date or time, "
                         "or a span back from now such as 7d, 12h, 30m")
    history.add_argument("--failed", action="store_true", help="only runs that did not succeed")
    history.add_argument("--last", type=int, metavar="N",
                         help="only the N latest runs (the listing's default: 20)")
    view = history.add_mutually_exclusive_group()
    view.add_argument("--job", metavar="NAME", help="one job's story across the runs")
    view.add_argument("--drift", action="store_true",
                      help="the jobs that needed Run: how often, the last time")
    view.add_argument("--flaky", action="store_true",
                      help="the jobs whose outcome changes between runs, or that "
                      "pass only after retries")
    view.add_argument("--slow", action="store_true",
                      help="each job's duration over the runs, and the runs' wall time")
    view.add_argument("--fleet", action="store_true",
                      help="the latest run of each host: converged or not")
    history.add_argument("--json", action="store_true", help="print the view as JSON")
    history.add_argument("--html", metavar="FILE",
                         help="also write the history as a self-contained HTML page to FILE")
    history.add_argument("-d", "--debug", action="store_true", help="show tracebacks of errors")
