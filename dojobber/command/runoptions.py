"""What ``dojobber run`` takes: its arguments, in a module light to import
(``run`` itself loads the report and the live output)."""

from __future__ import annotations

import argparse
from typing import Any

from ..settings import DEFAULTS
from .pools import EXECUTORS
from .target import TARGET_HELP


def add_arguments(run: argparse.ArgumentParser) -> None:
    """What ``run`` takes: the target, the settings, the jobs' arguments and
    the files to write."""
    run.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    _add_settings(run)
    run.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                     type=parse_job_arg,
                     help="a keyword argument for every Check and Run; VALUE is "
                     "JSON if it parses as JSON, else a string (repeatable)")
    run.add_argument("--graph", metavar="FILE",
                     help="write the result graph to FILE, format from its extension "
                     "(.png, .svg, .pdf, .dot ...)")
    run.add_argument("--json", metavar="FILE",
                     help="write the run report as JSON to FILE ('-' for stdout)")
    run.add_argument("--events", metavar="FILE",
                     help="write every event as a line of JSON to FILE as it "
                     "happens ('-' for stdout)")
    run.add_argument("--log-file", metavar="FILE",
                     help="also write the human lines (each finished job, the "
                     "-v lines with -v, the summary) to FILE")
    run.add_argument("--html", metavar="FILE",
                     help="write the run report as a self-contained HTML page to FILE "
                     "(see docs/looking-at-a-run.rst)")


def _add_settings(run: argparse.ArgumentParser) -> None:
    """The options of ``run`` that shape the run: configure's options (in
    settings.OPTIONS), each stored under its name with Settings' default for
    ``run.settings_given`` to pass on by name, and the executor to send the tries to."""
    run.add_argument("-n", "--no-act", action="store_true", help="only Check; never Run")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="print a line per check/run/recheck on stderr")
    run.add_argument("-d", "--debug", action="store_true",
                     help="like -v, with tracebacks; also show tracebacks of errors")
    run.add_argument("--tries", dest="default_tries", type=_number,
                     default=DEFAULTS.default_tries, metavar="N",
                     help="tries for jobs without TRIES (default: %(default)g)")
    run.add_argument("--retry-delay", dest="default_retry_delay", type=_number,
                     default=DEFAULTS.default_retry_delay, metavar="S",
                     help="seconds between tries of jobs without RETRY_DELAY "
                     "(default: %(default)g)")
    run.add_argument("--retry-backoff", dest="default_retry_backoff", type=_number,
                     default=DEFAULTS.default_retry_backoff, metavar="F",
                     help="multiply the delay by F after each try, for jobs without "
                     "RETRY_BACKOFF (default: %(default)g, a fixed delay)")
    run.add_argument("--retry-delay-max", dest="default_retry_delay_max", type=_number,
                     default=DEFAULTS.default_retry_delay_max, metavar="S",
                     help="never wait longer than S seconds between tries, for jobs "
                     "without RETRY_DELAY_MAX (default: no cap)")
    run.add_argument("--retry-jitter", dest="default_retry_jitter", type=_number,
                     default=DEFAULTS.default_retry_jitter, metavar="F",
                     help="shorten each delay by a random fraction up to F (0 to 1), "
                     "for jobs without RETRY_JITTER (default: %(default)g)")
    run.add_argument("--timeout", dest="default_timeout", type=_number,
                     default=DEFAULTS.default_timeout, metavar="S",
                     help="fail a try that takes longer than S seconds, for jobs "
                     "without TIMEOUT (default: no limit; see docs/timeouts-and-retries.rst)")
    run.add_argument("--fail-fast", action="store_true",
                     help="start no new try once a job has failed with no tries left")
    run.add_argument("--workers", type=int, default=DEFAULTS.workers, metavar="N",
                     help="run up to N jobs at once: in threads, or with --executor "
                     "N tries in flight (default: 1, the sequential order; with "
                     "--executor, its size; see docs/parallel.rst)")
    # Not configure's executor but the kind of pool pools.py makes it from.
    run.add_argument("--executor", dest="pool", choices=EXECUTORS, default=None,
                     help="send each try to a process pool, a thread pool or a Dask "
                     "cluster (see docs/scaling-out.rst)")
    run.add_argument("--scheduler", metavar="ADDRESS", default=None,
                     help="with --executor dask: the address of a running Dask "
                     "scheduler (default: start a local cluster of N processes)")
    run.add_argument("--no-cleanup", dest="cleanup", action="store_false",
                     help="do not call the jobs' Cleanup methods")
    run.add_argument("--history", metavar="PLACE", default=DEFAULTS.history,
                     help="record the run in the run history at PLACE, a SQLite file "
                     "or a postgresql:// URL (default: $DOJOBBER_HISTORY; '' for none; "
                     "see docs/history.rst)")


def _number(text: str) -> int | float:
    """An option's number: an int when the text is one (``--tries 3``), else a float."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def parse_job_arg(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> (KEY, VALUE as JSON if it parses as JSON, else the text)."""
    key, equals, raw = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    try:
        import json

        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value

