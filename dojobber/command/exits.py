"""How the ``dojobber`` command ends: its exit statuses and the errors that choose them."""

from __future__ import annotations

import logging

from ..stopping import Terminated

#: Exit statuses.
OK, FAILED, USAGE = 0, 1, 2
WOULD_RUN_STATUS = 3  # a dry run (-n) found jobs that would run
INTERRUPTED = 130  # the shell's convention for a program stopped by Ctrl-C
TERMINATED = 143  # ... and by SIGTERM (128 + 15)


class UsageError(Exception):
    """A problem with the command line or the target: exit status 2, one line."""


class OutputError(Exception):
    """The command's output could not be written: exit status 1, one line."""


def stop_status(stop: KeyboardInterrupt) -> int:
    """The exit status of a run stopped by Ctrl-C (130) or SIGTERM (143)."""
    return TERMINATED if isinstance(stop, Terminated) else INTERRUPTED


def stop_line(stop: KeyboardInterrupt) -> str:
    """The last line of a run stopped by Ctrl-C or SIGTERM."""
    if isinstance(stop, Terminated):
        return "dojobber: terminated (SIGTERM)"
    return "dojobber: interrupted"


def log_level(debug: bool) -> int:
    """The DoJobber log's level for the command: with ``-d`` its CRITICAL
    lines show; without, none does, so an error is said once, in one line."""
    return logging.CRITICAL if debug else logging.CRITICAL + 1
