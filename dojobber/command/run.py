"""``dojobber run``: one run of the target, its files, its summary and its exit status."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from contextlib import ExitStack, nullcontext
from typing import TYPE_CHECKING, Any, TextIO

from ..dojobber import DoJobber
from ..errors import DoJobberWarning, HistoryWarning
from ..errortext import one_line
from ..events import Observer
from ..joblines import JobLines
from ..liveterminal import LiveTerminal
from ..output import FailedCleanupPrinter, VerbosePrinter
from ..progress import ProgressLine
from ..report import WOULD_RUN, RunReport
from ..settings import OPTIONS, Settings
from ..stopping import StopNoted
from ..terminal import colour_wanted, escape, is_terminal, paint
from .exits import (
    FAILED,
    OK,
    WOULD_RUN_STATUS,
    OutputError,
    UsageError,
    log_level,
    stop_line,
    stop_status,
)
from .pools import check_workers, pool_needs, started_executor
from .runoptions import add_arguments as add_arguments  # defined there for the parser: light
from .target import load_target, script_of
from .writing import check_can_write, emit, format_of, say, write_file, write_graph

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from ..jobs import Job
    from ..results import RunResult


def main(options: argparse.Namespace, positional: list[str]) -> int:
    """Run the target with the parsed ``options`` and the jobs' ``positional``
    arguments; return the exit status."""
    check_workers(options.pool, options.workers)
    root = load_target(options.target, needs(options))
    fmt = _check_outputs(options)
    settings = settings_given(options)
    Settings(**settings).history_place()  # a bad option fails now, before any pool starts
    # A history that cannot be written is a line of the summary, not a warning.
    with warnings.catch_warnings(), started_executor(
        options.pool, options.workers, options.scheduler
    ) as executor:
        warnings.simplefilter("ignore", HistoryWarning)
        script = script_of(options.target)
        if executor is not None and script is not None:
            from ..executor import send_by_value

            # Workers elsewhere (Dask's) cannot import the script: it travels.
            send_by_value(script)
        return _run(options, positional, root, fmt, settings, executor)


def needs(options: argparse.Namespace) -> list[str]:
    """The modules this run will import after its target (load_target
    imports them before it): its files', its history's, its executor's."""
    wanted = ["difflib"]  # a misspelt job name's hint
    place = options.history if options.history is not None else os.environ.get(
        "DOJOBBER_HISTORY")
    if options.json or options.html or options.events or place:
        wanted.append("json")
    if options.events:
        wanted.append("dojobber.eventlog")
    if options.html or options.graph:
        from .. import render

        wanted += ["dojobber.render", "pygraph.classes.digraph"]
        if options.html:
            wanted += ["dojobber.html", *render.drawing_modules("svg")]
        fmt = render.format_for_path(options.graph)
        if fmt is not None:
            wanted += render.drawing_modules(fmt)
    if place:
        from ..history.place import is_postgres

        wanted += ["dojobber.history.record", "getpass", "pwd", "math", "urllib.parse"]
        if is_postgres(place):
            wanted.append("psycopg")
    if options.default_timeout is not None:
        wanted.append("dojobber.engine.timelimit")
    if options.pool is not None or (options.workers or 1) > 1:
        wanted.append("dojobber.engine.threads")
    if options.pool is not None:
        wanted += pool_needs(options.pool)
    return wanted


def settings_given(options: argparse.Namespace) -> dict[str, Any]:
    """configure's options as the command line gives them: the parser stores
    each under its name in Settings (observers and the executor are made by
    the command, not given)."""
    given = vars(options)
    return {name: given[name] for name in OPTIONS if name in given}


def _check_outputs(options: argparse.Namespace) -> str | None:
    """Check every file the run will write, before the first job starts;
    return the picture format of ``--graph``."""
    if options.json == "-" and options.events == "-":
        raise UsageError("--json - and --events - cannot both write to stdout")
    fmt = None
    if options.graph:
        fmt = format_of(options.graph)
        check_can_write(options.graph, fmt)
    for path in (options.json, options.events, options.log_file):
        if path and path != "-":
            check_can_write(path)
    if options.html:
        check_can_write(options.html)
    return fmt


def _run(
    options: argparse.Namespace,
    positional: list[str],
    root: type[Job],
    fmt: str | None,
    settings: dict[str, Any],
    executor: Executor | None,
) -> int:
    # Once the jobs are over, SIGTERM waits for the Cleanups and the
    # reports; from the reports on, so does a first Ctrl-C.
    noted = StopNoted()
    try:
        status = _run_noted(options, positional, root, fmt, settings, executor, noted)
    finally:
        noted.end()
    late = noted.stop()
    if late is not None and status != stop_status(late):
        # Came as the last files were closed, after the run's stop was read.
        say(stop_line(late))
        return stop_status(late)
    return status


def _run_noted(
    options: argparse.Namespace,
    positional: list[str],
    root: type[Job],
    fmt: str | None,
    settings: dict[str, Any],
    executor: Executor | None,
    noted: StopNoted,
) -> int:
    stderr = sys.stderr
    with ExitStack() as files:
        files.callback(noted.end)
        log, events = _open_files(options, files)
        observers, job_lines, live = _observers(options, stderr, log, events)
        observers.insert(0, JobsOver(noted))
        dojob = DoJobber(log_level(options.debug))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DoJobberWarning)
            dojob.configure(root, **settings, observers=observers, executor=executor)
        _say_warnings(caught, log)
        budgets = dojob.tries_allowed()
        for lines in job_lines:
            lines.budgets = budgets
        dojob.set_args(*positional, **dict(options.arg))
        stop, cleanup_failed = _checknrun(dojob, options.debug, log, live)
        noted.note(ctrl_c=True)

        report = dojob.report()
        lost: OutputError | None = None
        try:
            _write_report(options, dojob, fmt)
        except OutputError as error:
            lost = error  # the summary is still worth printing
        _print_summary(report, stderr, log)
        if stop is None:
            stop = noted.stop()  # came during the Cleanups or the reports
        if stop is not None:
            if lost is not None:
                say(f"dojobber: error: {lost}")
            if log is not None:
                emit(log, stop_line(stop) + "\n", log.name)
            say(stop_line(stop))
            return stop_status(stop)
        if lost is not None:
            raise lost
        if report.observer_errors:
            # Only the command's own observers watch this run.
            failure = report.observer_errors[0]
            where = options.events if failure.observer.endswith(".EventLog") else (
                "stderr" if log is None else f"stderr or {options.log_file}")
            raise OutputError(f"cannot write to {where}: {failure.error}")
        return _status(report, cleanup_failed or bool(report.cleanup_errors))


def _checknrun(
    dojob: DoJobber, debug: bool, log: TextIO | None, live: LiveTerminal | None
) -> tuple[KeyboardInterrupt | None, bool]:
    """The run: the Ctrl-C that stopped it, if one did, and whether a Cleanup
    raised. Its warnings (a Check that returned False...) are said as
    configure's are, once it is over."""
    stop: KeyboardInterrupt | None = None
    cleanup_failed = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DoJobberWarning)
        try:
            # What jobs print goes above the progress line, not onto it,
            # and a line they leave unfinished is ended before ours follow.
            with nullcontext() if live is None else live.carrying_prints():
                dojob.checknrun()
        except KeyboardInterrupt as error:
            # Ctrl-C or SIGTERM: the Cleanups have run; the report is still due.
            stop = error
        except BaseException:
            # Jobs' own errors never propagate: Cleanups raised (sys.exit()
            # too), after every Cleanup ran; the report lists them.
            if debug:
                traceback.print_exc()
            cleanup_failed = True
    _say_warnings(caught, log)
    return stop, cleanup_failed


def _open_files(
    options: argparse.Namespace, files: ExitStack
) -> tuple[TextIO | None, TextIO | None]:
    """The log file and the event log the run writes as it goes (stdout for
    ``--events -``), closed by ``files``."""
    log = _opened(options.log_file, files) if options.log_file else None
    events = None
    if options.events == "-":
        if sys.stdout is None:  # started with it closed: the events would be lost
            raise OutputError("cannot write to stdout: it is closed")
        events = sys.stdout
    elif options.events:
        events = _opened(options.events, files)
    return log, events


def _opened(path: str, files: ExitStack) -> TextIO:
    """``path`` open for the run's lines, closed by ``files``. Text UTF-8
    cannot hold (a lone surrogate in a message) is escaped as on stderr; a
    close that fails (what was left to write did not fit) is an OutputError
    naming the file, like any failed write."""
    stream = open(path, "w", encoding="utf-8", errors="backslashreplace")

    def close() -> None:
        try:
            stream.close()
        except OSError as error:
            raise OutputError(f"cannot write to {path}: {one_line(error)}") from error

    files.callback(close)
    return stream


def _observers(
    options: argparse.Namespace, stderr: TextIO, log: TextIO | None, events: TextIO | None
) -> tuple[list[Observer], list[JobLines], LiveTerminal | None]:
    """What watches the run for the command: on stderr a line per finished
    job, above the progress line on a terminal that can draw one (the
    terminal they share is returned; the verbose lines are configure's); the
    same lines in the log file; the event log."""
    verbose = options.verbose or options.debug
    observers: list[Observer] = []
    job_lines = []
    # Any terminal, even one with no progress line (-v, TERM=dumb), learns
    # whether jobs left a line unfinished, so no line of ours is glued to it.
    live = LiveTerminal(stderr) if is_terminal(stderr) else None
    if live is not None and ProgressLine.wanted(stderr, verbose):
        observers.append(ProgressLine(terminal=live))
    if not verbose:
        job_lines.append(JobLines(stderr if live is None else live.own_lines(),
                                  no_act=options.no_act))
    # The log file gets what stderr shows when it is not a terminal.
    if log is not None and verbose:
        observers.append(VerbosePrinter(debug=options.debug, no_act=options.no_act, stream=log))
    elif log is not None:
        job_lines.append(JobLines(log, no_act=options.no_act))
        observers.append(FailedCleanupPrinter(log))
    observers += job_lines
    if events is not None:
        from ..eventlog import EventLog

        if live is not None and live.shares(events):  # --events - on the terminal
            events = live.passing(events)
        observers.append(EventLog(events))
    return observers, job_lines, live


class JobsOver(Observer):
    """Tells ``noted`` to note SIGTERM from the end of the jobs on, and
    Ctrl-C too until the Cleanups start: the run ends its jobs (run_ended:
    this observer first, the event log and the run history after it, each
    then written whole) before it calls their Cleanups, which Ctrl-C
    still stops."""

    def __init__(self, noted: StopNoted):
        self.noted = noted

    def run_ended(self, result: RunResult) -> None:
        self.noted.note(ctrl_c=True)

    def cleanup_started(self, job: str) -> None:
        self.noted.let_ctrl_c_through()


def _say_warnings(caught: list[warnings.WarningMessage], log: TextIO | None) -> None:
    """DoJobberWarnings as ``dojobber: warning:`` lines; others as Python shows them."""
    for warning in caught:
        if issubclass(warning.category, HistoryWarning):
            continue  # a line of the summary says it
        if issubclass(warning.category, DoJobberWarning):
            line = f"dojobber: warning: {escape(str(warning.message))}\n"
            emit(sys.stderr, line, "stderr")
            if log is not None:
                emit(log, line, log.name)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno)


def _print_summary(report: RunReport, stderr: TextIO, log: TextIO | None) -> None:
    """The summary on stderr, in colour on a terminal, and plain in the log."""
    coloured = colour_wanted(stderr)
    lines = ["dojobber: " + escape(line) for line in report.summary()]
    emit(stderr, "".join(
        paint(text, _colour_of(text[len("dojobber: "):], report), coloured) + "\n"
        for text in lines), "stderr")
    if log is not None:
        emit(log, "".join(text + "\n" for text in lines), log.name)


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
        emit(sys.stdout, dojob.report().to_json() + "\n", "stdout")
    elif options.json:
        write_file(options.json, dojob.report().to_json() + "\n")
    if options.html:
        write_file(options.html, dojob.report().to_html())
    if options.graph:
        assert fmt is not None
        write_graph(dojob, options.graph, fmt)
