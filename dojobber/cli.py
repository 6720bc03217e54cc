"""The ``dojobber`` command line: its parser, and ``main``, which runs a subcommand.

The rest of the command is in ``dojobber/command/``, one idea a module:
``target`` imports the job graph named on the command line, ``pools``
starts the executor of ``--executor``, ``writing`` checks and writes the
command's files and streams, ``exits`` holds the exit statuses and the
errors that choose them; ``run``, ``graph``, ``listing``, ``report`` and ``history``
are the subcommands, imported only when they run (``dojobber --help``
starts quickly).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Any, NoReturn, Sequence

from .command.exits import FAILED, USAGE, OutputError, UsageError, log_level, stop_line, stop_status
from .command.pools import EXECUTORS
from .command.target import load_target  # importable from here, as before the split
from .command.writing import emit, say
from .errors import DoJobberError
from .errortext import describe, one_line
from .logs import set_up_log
from .settings import DEFAULTS
from .stopping import early_stop, sigterm_stops_the_run
from .terminal import escape
from .version import __version__

__all__ = ["UsageError", "build_parser", "load_target", "main", "parse_job_arg"]

TARGET_HELP = "the root job: package.module:RootJob or path/to/file.py:RootJob"


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and exit status 2 like every other,
    and ``--help`` or ``--version`` into a closed or broken stdout is an error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            where = "stderr" if file is not None and file is sys.stderr else "stdout"
            emit(file or sys.stdout, message, where)


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


def build_parser() -> argparse.ArgumentParser:
    """The ``dojobber`` argument parser, with its five subcommands."""
    parser = _Parser(
        prog="dojobber",
        description="Run, draw or list a DoJobber job graph.",
        epilog="Exit status: 0 every job passed, 1 a job failed or was blocked, "
        "2 a usage or configuration error, 3 a dry run (-n) found jobs that "
        "would run, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    run = commands.add_parser(
        "run",
        help="run the job graph",
        usage="%(prog)s [OPTIONS] TARGET [-- POSITIONAL_ARG ...]",
        description="Run the job graph from TARGET. Job arguments are given with "
        "--arg KEY=VALUE (keyword) and after -- (positional).",
    )
    _add_run_arguments(run)

    graph = commands.add_parser("graph", help="draw the dependency graph without running it")
    graph.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    graph.add_argument("-o", "--output", metavar="FILE", default="-",
                       help="the picture to write, format from its extension; '-' "
                       "(the default) writes DOT to stdout")
    graph.add_argument("-f", "--format", metavar="FORMAT",
                       help="the picture format (dot, svg, png, pdf...), whatever "
                       "the file's extension")
    graph.add_argument("-d", "--debug", action="store_true", help="show tracebacks of errors")

    reporting = commands.add_parser(
        "report", help="write the report of a run from its saved event log",
        description="Read EVENTS, the event log that 'dojobber run --events' wrote, "
        "print the run's summary, and with --html write its HTML page.")
    reporting.add_argument("events", metavar="EVENTS",
                           help="the event log (JSON Lines; '-' for stdin)")
    reporting.add_argument("--html", metavar="FILE",
                           help="write the run report as a self-contained HTML page to FILE")
    reporting.add_argument("-d", "--debug", action="store_true",
                           help="show tracebacks of errors")

    listing = commands.add_parser(
        "list", help="print the jobs in run order with their DEPS",
        description="Print the jobs of TARGET in run order with their DEPS; given "
        "only a module or file (no :JOB), print the Job classes it defines.")
    listing.add_argument("target", metavar="TARGET",
                         help=TARGET_HELP + ", or only the module or file")
    listing.add_argument("-d", "--debug", action="store_true", help="show tracebacks of errors")
    _add_history_arguments(commands.add_parser(
        "history", help="show the runs recorded in a run history, and what they tell",
        description="Read the run history at PLACE (what 'dojobber run --history' "
        "recorded): the latest runs, or one job's story, or a view. See docs/history.rst."))
    return parser


def _add_history_arguments(history: argparse.ArgumentParser) -> None:
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


def _add_run_arguments(run: argparse.ArgumentParser) -> None:
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
    command.run to pass on by name, and the executor to send the tries to."""
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
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    # A stop that came while the command loaded (stopping.note_early_stops)
    # is acted on now; from here on SIGTERM stops the command as Ctrl-C does.
    early = early_stop()
    with sigterm_stops_the_run():
        return _main(argv, early)


def _main(argv: Sequence[str] | None, early: KeyboardInterrupt | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" goes to the jobs untouched, even text
    # that looks like an option.
    positional: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, positional = argv[:cut], argv[cut + 1:]
    options: argparse.Namespace | None = None
    try:
        if early is not None:
            raise early
        options = build_parser().parse_args(argv)
        # The developer log's CRITICAL line about a bad DEPS would repeat the
        # one-line error printed below; -d keeps it, with the traceback.
        set_up_log(log_level(options.debug))
        if positional and options.command != "run":
            raise UsageError(f"'{options.command}' takes no arguments after --")
        # Each subcommand's module is imported only when it runs.
        if options.command == "run":
            from .command import run

            return run.main(options, positional)
        if options.command == "graph":
            from .command import graph

            return graph.main(options)
        if options.command == "report":
            from .command import report

            return report.main(options)
        if options.command == "history":
            from .command import history

            return history.main(options)
        from .command import listing

        return listing.main(options)
    except KeyboardInterrupt as stop:
        say(stop_line(stop))
        return stop_status(stop)
    except OutputError as error:
        # Not a usage problem: the run (if any) is over; its output is lost.
        say(f"dojobber: error: {error}")
        return FAILED
    except (UsageError, DoJobberError, OSError) as error:
        debug = options.debug if options else ("-d" in argv or "--debug" in argv)
        if debug:
            traceback.print_exc()
        if isinstance(error, UsageError):
            message = describe(error)
        elif isinstance(error, DoJobberError):  # its message names the job and value
            message = " ".join(describe(error).split())
        else:
            message = one_line(error)
        say(f"dojobber: error: {escape(message)}")
        return USAGE
