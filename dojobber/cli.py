"""The ``dojobber`` command: run, draw or list a job graph named on the command line."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import logging
import os
import re
import sys
import traceback
import warnings
from contextlib import ExitStack, contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterator, NoReturn, Sequence, TextIO

from .dojobber import DoJobber
from .errors import DoJobberError, DoJobberWarning
from .errortext import describe, one_line
from .events import Observer
from .graph import build_plan
from .hints import did_you_mean
from .joblines import JobLines
from .jobs import Job
from .logs import set_up_log
from .output import FailedCleanupPrinter, VerbosePrinter
from .settings import check_workers
from .version import __version__

if TYPE_CHECKING:
    import multiprocessing.context
    from concurrent.futures import Executor

# What only some commands need (pictures, executors, JSON, the event log)
# is imported where it is used, so that ``dojobber --help`` starts quickly.
from .progress import ProgressLine
from .report import WOULD_RUN, RunReport
from .stopping import Terminated, sigterm_stops_the_run
from .terminal import colour_wanted, escape, paint

#: Exit statuses.
OK, FAILED, USAGE = 0, 1, 2
WOULD_RUN_STATUS = 3  # a dry run (-n) found jobs that would run
INTERRUPTED = 130  # the shell's convention for a program stopped by Ctrl-C
TERMINATED = 143  # ... and by SIGTERM (128 + 15)

#: The executors ``--executor`` can start.
EXECUTORS = ("process", "thread", "dask")

TARGET_HELP = "the root job: package.module:RootJob or path/to/file.py:RootJob"


class UsageError(Exception):
    """A problem with the command line or the target: exit status 2, one line."""


class OutputError(Exception):
    """The command's output could not be written: exit status 1, one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and exit status 2 like every other,
    and ``--help`` or ``--version`` into a closed or broken stdout is an error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            where = "stderr" if file is not None and file is sys.stderr else "stdout"
            _emit(file or sys.stdout, message, where)


# Writing the output


def _emit(stream: TextIO | None, text: str, where: str) -> None:
    """Write ``text`` whole to ``stream`` and flush it, or raise OutputError.

    ``where`` names the output in the error (``stdout``, a file name).
    """
    if stream is None:  # the program was started with that descriptor closed
        raise OutputError(f"cannot write to {where}: it is closed")
    try:
        _write_whole(stream, text)
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write to {where}: {one_line(error)}") from error


def _write_whole(stream: TextIO, text: str) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        stream.flush()
        return
    stream.flush()
    errors = stream.errors if stream.errors not in (None, "strict") else "backslashreplace"
    _write_bytes(buffer, text.encode(stream.encoding or "utf-8", errors))


def _emit_bytes(data: bytes, where: str) -> None:
    """Write ``data`` (a picture) whole to stdout's binary layer, or raise OutputError."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None) if stream is not None else None
    if buffer is None:
        raise OutputError(f"cannot write to {where}: it is closed or not a binary stream")
    try:
        stream.flush()
        _write_bytes(buffer, data)
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write to {where}: {one_line(error)}") from error


def _write_bytes(buffer: Any, whole: bytes) -> None:
    data = memoryview(whole)
    # A pipe whose reader goes away during a big write takes part of it and
    # reports success, and the text layer drops the rest without a word; so
    # write the bytes until all are taken: the next write is the one that fails.
    while data:
        taken = buffer.write(data)
        if not isinstance(taken, int) or taken <= 0:
            raise OSError(f"the stream took no data ({taken!r})")
        data = data[taken:]
    buffer.flush()


def _say(line: str) -> None:
    """A line on stderr that nothing may stop: the command's last word."""
    try:
        _emit(sys.stderr, line + "\n", "stderr")
    except OutputError:
        pass  # stderr itself is gone; the exit status still tells


# Loading the target


def load_target(target: str) -> type[Job]:
    """Import ``module:Name`` or ``file.py:Name`` and return that Job class.

    A file is imported as a module named after it (never as ``__main__``, so
    its ``if __name__ == '__main__'`` block does not run), with its directory
    first on ``sys.path`` as when it is run as a script. For a module name,
    the current directory comes first on ``sys.path``, as with ``python -m``.
    Raises UsageError with a one-line message when anything is wrong; a
    misspelt job name gets a "did you mean" suggestion.
    """
    where, colon, attribute = target.rpartition(":")
    if not colon or not where or not attribute:
        raise UsageError(
            f"target {target!r} must be MODULE:JOB or FILE.py:JOB "
            f"('dojobber list {target.rstrip(':')}' lists the Job classes it defines)"
        )
    module = load_module(where)
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            hint = did_you_mean(part, _job_classes(value) or _public_names(value))
            raise UsageError(f"{where} has no attribute {attribute!r}{hint}") from None
    if not (isinstance(value, type) and issubclass(value, Job)):
        raise UsageError(f"{target} is {value!r}, not a Job class")
    return value


def load_module(where: str) -> ModuleType:
    """Import a module name or a ``.py`` file, as ``load_target`` does."""
    if where.endswith(".py") or os.sep in where or (os.altsep and os.altsep in where):
        return _import_file(where)
    return _import_module(where)


def _job_classes(namespace: Any, defined_in: str | None = None) -> list[str]:
    """The names of the Job classes in ``namespace``, in definition order;
    with ``defined_in``, only those whose module is that one."""
    names = []
    for name, value in list(vars(namespace).items()):
        if isinstance(value, type) and issubclass(value, Job) and not name.startswith("_"):
            if defined_in is None or value.__module__ == defined_in:
                names.append(name)
    return names


def _public_names(namespace: Any) -> list[str]:
    return [name for name in dir(namespace) if not name.startswith("_")]


def _import_module(name: str) -> ModuleType:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if name == missing or name.startswith(missing + "."):
            raise UsageError(f"no module named {missing!r}") from error
        raise UsageError(f"importing {name} failed: {one_line(error)}") from error
    except Exception as error:
        raise UsageError(f"importing {name} failed: {one_line(error)}") from error


def _import_file(path: str) -> ModuleType:
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    name = _module_name(path)
    full = os.path.abspath(path)
    loaded = sys.modules.get(name)
    if loaded is not None:
        if os.path.abspath(getattr(loaded, "__file__", "") or "") == full:
            return loaded
        raise UsageError(
            f"cannot import {path} as module {name!r}: a module of that name is "
            "already loaded; rename the file"
        )
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(full))
    # Registered before it runs, as an import would: dataclasses, pickling
    # and the file's own `import name` need to find it there.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        del sys.modules[name]
        if not isinstance(error, Exception):
            raise
        raise UsageError(f"importing {path} failed: {one_line(error)}") from error
    return module


def _module_name(path: str) -> str:
    """The module name a file is imported as: its name, with what Python does
    not allow in a name made ``_`` (``deploy-web.py`` is ``deploy_web``)."""
    name = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    return "_" + name if not name or name[0].isdigit() else name


# Job arguments


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


# The command line


def build_parser() -> argparse.ArgumentParser:
    """The ``dojobber`` argument parser, with its three subcommands."""
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
    run.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    run.add_argument("-n", "--no-act", action="store_true", help="only Check; never Run")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="print a line per check/run/recheck on stderr")
    run.add_argument("-d", "--debug", action="store_true",
                     help="like -v, with tracebacks; also show tracebacks of errors")
    run.add_argument("--tries", type=_number, default=3, metavar="N",
                     help="tries for jobs without TRIES (default: %(default)g)")
    run.add_argument("--retry-delay", type=_number, default=1, metavar="S",
                     help="seconds between tries of jobs without RETRY_DELAY "
                     "(default: %(default)g)")
    run.add_argument("--retry-backoff", type=_number, default=1, metavar="F",
                     help="multiply the delay by F after each try, for jobs without "
                     "RETRY_BACKOFF (default: %(default)g, a fixed delay)")
    run.add_argument("--retry-delay-max", type=_number, default=None, metavar="S",
                     help="never wait longer than S seconds between tries, for jobs "
                     "without RETRY_DELAY_MAX (default: no cap)")
    run.add_argument("--retry-jitter", type=_number, default=0, metavar="F",
                     help="shorten each delay by a random fraction up to F (0 to 1), "
                     "for jobs without RETRY_JITTER (default: %(default)g)")
    run.add_argument("--timeout", type=_number, default=None, metavar="S",
                     help="fail a try that takes longer than S seconds, for jobs "
                     "without TIMEOUT (default: no limit; see docs/timeouts-and-retries.rst)")
    run.add_argument("--fail-fast", action="store_true",
                     help="start no new try once a job has failed with no tries left")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="run up to N jobs at once: in threads, or with --executor "
                     "N tries in flight (default: 1, the sequential order; with "
                     "--executor, its size; see docs/parallel.rst)")
    run.add_argument("--executor", choices=EXECUTORS, default=None,
                     help="send each try to a process pool, a thread pool or a Dask "
                     "cluster (see docs/scaling-out.rst)")
    run.add_argument("--scheduler", metavar="ADDRESS", default=None,
                     help="with --executor dask: the address of a running Dask "
                     "scheduler (default: start a local cluster of N processes)")
    run.add_argument("--no-cleanup", action="store_true",
                     help="do not call the jobs' Cleanup methods")
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
    return parser


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
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" goes to the jobs untouched, even text
    # that looks like an option.
    positional: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, positional = argv[:cut], argv[cut + 1:]
    options: argparse.Namespace | None = None
    try:
        options = build_parser().parse_args(argv)
        # The developer log's CRITICAL line about a bad DEPS would repeat the
        # one-line error printed below; -d keeps it, with the traceback.
        set_up_log(_log_level(options.debug))
        if positional and options.command != "run":
            raise UsageError(f"'{options.command}' takes no arguments after --")
        if options.command == "run":
            with sigterm_stops_the_run():
                return _run(options, positional)
        if options.command == "graph":
            return _graph(options)
        if options.command == "report":
            return _report(options)
        return _list(options)
    except KeyboardInterrupt as stop:
        return _stopped(stop)
    except OutputError as error:
        # Not a usage problem: the run (if any) is over; its output is lost.
        _say(f"dojobber: error: {error}")
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
        _say(f"dojobber: error: {escape(message)}")
        return USAGE


def _stopped(stop: KeyboardInterrupt) -> int:
    """The last line and the exit status of a run stopped by Ctrl-C or SIGTERM."""
    _say(_stop_line(stop))
    return TERMINATED if isinstance(stop, Terminated) else INTERRUPTED


def _stop_line(stop: KeyboardInterrupt) -> str:
    if isinstance(stop, Terminated):
        return "dojobber: terminated (SIGTERM)"
    return "dojobber: interrupted"


def _log_level(debug: bool) -> int:
    return logging.CRITICAL if debug else logging.CRITICAL + 1


def _format_of(path: str, other_way: str = "") -> str:
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if not extension:
        raise UsageError(
            f"cannot tell the picture format of {path!r}: give it an extension{other_way}"
        )
    from . import render

    return render.picture_format(extension)


def _check_can_write(path: str, fmt: str | None = None) -> None:
    """Fail before the run, not after it, for a file that cannot be produced."""
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: no such directory {folder}")
    writable = (
        os.access(path, os.W_OK) if os.path.exists(path)
        else os.access(folder, os.W_OK | os.X_OK)
    )
    if not writable:
        raise UsageError(f"cannot write {path}: permission denied")
    if fmt is not None:
        from . import render

        render.check_renderable(fmt)


def _check_outputs(options: argparse.Namespace) -> str | None:
    """Check every file the run will write, before the first job starts;
    return the picture format of ``--graph``."""
    if options.json == "-" and options.events == "-":
        raise UsageError("--json - and --events - cannot both write to stdout")
    fmt = None
    if options.graph:
        fmt = _format_of(options.graph)
        _check_can_write(options.graph, fmt)
    for path in (options.json, options.events, options.log_file):
        if path and path != "-":
            _check_can_write(path)
    if options.html:
        _check_can_write(options.html)
    if options.workers is not None:
        check_workers(options.workers)
    return fmt


def _run(options: argparse.Namespace, positional: list[str]) -> int:
    root = load_target(options.target)
    fmt = _check_outputs(options)
    with _executor(options) as executor:
        return _run_on(options, positional, root, fmt, executor)


def _run_on(
    options: argparse.Namespace,
    positional: list[str],
    root: type[Job],
    fmt: str | None,
    executor: Executor | None,
) -> int:
    stderr = sys.stderr
    with ExitStack() as files:
        log = (
            files.enter_context(open(options.log_file, "w", encoding="utf-8"))
            if options.log_file else None
        )
        events = None
        if options.events == "-":
            events = sys.stdout
        elif options.events:
            events = files.enter_context(open(options.events, "w", encoding="utf-8"))
        observers, job_lines = _observers(options, stderr, log, events)
        dojob = DoJobber(_log_level(options.debug))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DoJobberWarning)
            dojob.configure(
                root,
                no_act=options.no_act,
                verbose=options.verbose,
                debug=options.debug,
                cleanup=not options.no_cleanup,
                default_tries=options.tries,
                default_retry_delay=options.retry_delay,
                observers=observers,
                workers=options.workers,
                default_timeout=options.timeout,
                fail_fast=options.fail_fast,
                default_retry_backoff=options.retry_backoff,
                default_retry_delay_max=options.retry_delay_max,
                default_retry_jitter=options.retry_jitter,
                executor=executor,
            )
        _say_warnings(caught, log)
        budgets = dojob.tries_allowed()
        for lines in job_lines:
            lines.budgets = budgets
        dojob.set_args(*positional, **dict(options.arg))
        stop: KeyboardInterrupt | None = None
        cleanup_failed = False
        try:
            dojob.checknrun()
        except KeyboardInterrupt as error:
            # Ctrl-C or SIGTERM: the Cleanups have run; the report is still due.
            stop = error
        except BaseException:
            # Jobs' own errors never propagate: Cleanups raised (sys.exit()
            # too), after every Cleanup ran; the report lists them.
            if options.debug:
                traceback.print_exc()
            cleanup_failed = True

        report = dojob.report()
        lost: OutputError | None = None
        try:
            _write_report(options, dojob, fmt)
        except OutputError as error:
            lost = error  # the summary is still worth printing
        _print_summary(report, stderr, log)
        if stop is not None:
            if lost is not None:
                _say(f"dojobber: error: {lost}")
            if log is not None:
                _emit(log, _stop_line(stop) + "\n", log.name)
            return _stopped(stop)
        if lost is not None:
            raise lost
        if report.observer_errors:
            # Only the command's own observers watch this run.
            failure = report.observer_errors[0]
            where = options.events if failure.observer.endswith(".EventLog") else (
                "stderr" if log is None else f"stderr or {options.log_file}")
            raise OutputError(f"cannot write to {where}: {failure.error}")
        return _status(report, cleanup_failed or bool(report.cleanup_errors))


def _observers(
    options: argparse.Namespace, stderr: TextIO, log: TextIO | None, events: TextIO | None
) -> tuple[list[Observer], list[JobLines]]:
    """What watches the run for the command: on stderr the progress line on a
    terminal, else a line per finished job (the verbose lines are configure's);
    the same lines in the log file; the event log."""
    verbose = options.verbose or options.debug
    observers: list[Observer] = []
    job_lines = []
    if ProgressLine.wanted(stderr, verbose):
        observers.append(ProgressLine(stderr))
    elif not verbose:
        job_lines.append(JobLines(stderr, no_act=options.no_act))
    # The log file gets what stderr shows when it is not a terminal.
    if log is not None and verbose:
        observers.append(VerbosePrinter(debug=options.debug, no_act=options.no_act, stream=log))
    elif log is not None:
        job_lines.append(JobLines(log, no_act=options.no_act))
        observers.append(FailedCleanupPrinter(log))
    observers += job_lines
    if events is not None:
        from .eventlog import EventLog

        observers.append(EventLog(events))
    return observers, job_lines


def _say_warnings(caught: list[warnings.WarningMessage], log: TextIO | None) -> None:
    """DoJobberWarnings as ``dojobber: warning:`` lines; others as Python shows them."""
    for warning in caught:
        if issubclass(warning.category, DoJobberWarning):
            line = f"dojobber: warning: {escape(str(warning.message))}\n"
            _emit(sys.stderr, line, "stderr")
            if log is not None:
                _emit(log, line, log.name)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno)


def _print_summary(report: RunReport, stderr: TextIO, log: TextIO | None) -> None:
    """The summary on stderr, in colour on a terminal, and plain in the log."""
    coloured = colour_wanted(stderr)
    lines = ["dojobber: " + escape(line) for line in report.summary()]
    _emit(stderr, "".join(
        paint(text, _colour_of(text[len("dojobber: "):], report), coloured) + "\n"
        for text in lines), "stderr")
    if log is not None:
        _emit(log, "".join(text + "\n" for text in lines), log.name)


def _colour_of(line: str, report: RunReport) -> str | None:
    if line.startswith(("failed:", "interrupted", "cleanup failed:", "observer switched")):
        return "red"
    if line.startswith(("would run:", "blocked:", "not checked:")):
        return "yellow"
    if line.startswith("slowest:"):
        return None
    if report.success:
        return "green"
    return "yellow" if _status(report, False) == WOULD_RUN_STATUS else "red"


def _status(report: RunReport, cleanup_failed: bool) -> int:
    """0 all passed; 3 a dry run found only jobs that would run; else 1."""
    if cleanup_failed:
        return FAILED
    if report.success:
        return OK
    if report.no_act and not any(
        job.label == "failed" for job in report.jobs
    ) and any(job.label == WOULD_RUN for job in report.jobs):
        return WOULD_RUN_STATUS
    return FAILED


def _write_report(options: argparse.Namespace, dojob: DoJobber, fmt: str | None) -> None:
    """The JSON report, the HTML page and the picture the options ask for."""
    if options.json == "-":
        _emit(sys.stdout, dojob.report().to_json() + "\n", "stdout")
    elif options.json:
        try:
            with open(options.json, "w", encoding="utf-8") as out:
                _emit(out, dojob.report().to_json() + "\n", options.json)
        except OSError as error:  # opening or closing it
            raise OutputError(f"cannot write to {options.json}: {one_line(error)}") from error
    if options.html:
        try:
            with open(options.html, "w", encoding="utf-8") as out:
                _emit(out, dojob.report().to_html(), options.html)
        except OSError as error:  # opening or closing it
            raise OutputError(f"cannot write to {options.html}: {one_line(error)}") from error
    if options.graph:
        assert fmt is not None
        _write_graph(dojob, options.graph, fmt)


def _write_graph(dojob: DoJobber, path: str, fmt: str) -> None:
    """Write the picture to ``path``, or to stdout for ``-``."""
    if path == "-":
        picture = io.BytesIO()
        dojob.write_graph(picture, fmt)
        _emit_bytes(picture.getvalue(), "stdout")
        return
    try:
        dojob.write_graph(path, fmt)
    except OSError as error:
        raise OutputError(f"cannot write to {path}: {one_line(error)}") from error


@contextmanager
def _executor(options: argparse.Namespace) -> Iterator[Executor | None]:
    """The executor ``--executor`` asks for, shut down when the run is over."""
    kind, workers = options.executor, options.workers
    if options.scheduler is not None and kind != "dask":
        raise UsageError("--scheduler ADDRESS needs --executor dask")
    if kind is None:
        yield None
    elif kind == "dask":
        with _dask(options.scheduler, workers) as executor:
            yield executor
    elif kind == "thread":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            yield pool
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=process_context()) as processes:
            yield processes


def process_context() -> multiprocessing.context.BaseContext:
    """How ``--executor process`` starts its processes: never by a bare fork.

    The run has threads when the pool starts processes (one per try in
    flight), and forking a process that has threads can deadlock the
    child; "forkserver" (POSIX) or "spawn" start clean processes that
    import the job's module by name.
    """
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextmanager
def _dask(address: str | None, workers: int | None) -> Iterator[Executor]:
    try:
        # Through importlib: an optional extra, and it has no type hints.
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise UsageError(
            "--executor dask needs Dask's distributed: pip install 'dojobber[dask]'"
        ) from None
    if address is not None:
        with distributed.Client(address, timeout=10) as client:
            yield client.get_executor()
        return
    with distributed.LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client.get_executor()


def _graph(options: argparse.Namespace) -> int:
    root = load_target(options.target)
    to_stdout = options.output == "-"
    from . import render

    if options.format is not None:
        fmt = render.picture_format(options.format)
    else:
        fmt = "dot" if to_stdout else _format_of(options.output, " or --format")
    if not to_stdout:
        _check_can_write(options.output)
    dojob = DoJobber(_log_level(options.debug))
    dojob.configure(root)
    _write_graph(dojob, options.output, fmt)
    return OK


def _report(options: argparse.Namespace) -> int:
    from .eventlog import read_report

    if options.html:
        _check_can_write(options.html)
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
        with open(options.html, "w", encoding="utf-8") as out:
            out.write(report.to_html())
    print("\n".join(f"dojobber: {line}" for line in report.summary()))
    return OK


def _list(options: argparse.Namespace) -> int:
    target = options.target
    if ":" not in target:
        # Only a module or file: which Job classes could be the root?
        module = load_module(target)
        found = _job_classes(module, defined_in=module.__name__)
        if not found:
            raise UsageError(f"{target} defines no Job classes")
        _emit(sys.stdout, "".join(name + "\n" for name in found), "stdout")
        return OK
    plan = build_plan(load_target(target))
    names = plan.names
    lines = []
    for name, deps in zip(names, plan.deps, strict=True):
        lines.append(name + (" <- " + ", ".join(names[d] for d in deps) if deps else ""))
    _emit(sys.stdout, "".join(line + "\n" for line in lines), "stdout")
    return OK
