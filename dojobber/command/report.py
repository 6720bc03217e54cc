"""``dojobber report``: a past run's summary and HTML page, read from its event log."""

from __future__ import annotations

import argparse
import sys

from ..errortext import one_line
from ..eventlog import read_report
from ..terminal import escape
from .exits import OK, UsageError
from .writing import check_can_write, emit, write_file


def main(options: argparse.Namespace) -> int:
    """Report on the event log the parsed ``options`` name; return the exit status."""
    if options.html:
        check_can_write(options.html)
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
