"""``dojobber report``: a past run's summary and HTML page, read from its event log."""

from __future__ import annotations

import argparse
import sys

from ..errortext import one_line
from ..terminal import escape
from .exits import OK, UsageError
from .writing import check_can_write, emit, write_file


def add_arguments(reporting: argparse.ArgumentParser) -> None:
    """What ``report`` takes: the event log, and the page to write."""
    reporting.add_argument("events", metavar="EVENTS",
                           help="the event log (JSON Lines; '-' for stdin)")
    reporting.add_argument("--html", metavar="FILE",
                           help="write the run report as a self-contained HTML page to FILE")
    reporting.add_argument("-d", "--debug", action="store_true",
                           help="show tracebacks of errors")


def main(options: argparse.Namespace) -> int:
    """Report on the event log the parsed ``options`` name; return the exit status."""
    if options.html:
        check_can_write(options.html)
    # Here, not at the top: ``dojobber report --help`` imports this module,
    # and starts without JSON (tests/test_import_cost.py holds it).
    from ..eventlog import read_report

    try:
        if options.events == "-":
            report = read_report(sys.stdin)
        else:
            with open(options.events, encoding="utf-8") as lines:
                report = read_report(lines)
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(
            f"{options.events} is not an event log of 'dojobber run --events': "
            f"{one_line(error)}"
        ) from error
    if options.html:
        write_file(options.html, report.to_html())
    emit(sys.stdout, "".join(f"dojobber: {escape(line)}\n" for line in report.summary()), "stdout")
    return OK
