"""The ``dojobber`` command line: its table of subcommands, its parser, and
``main``, which runs one.

The rest of the command is in ``dojobber/command/``, one idea a module:
``run``, ``graph``, ``listing``, ``report`` and ``history`` are the
subcommands, each owning what it takes (``add_arguments(parser)``) and what
it does (``main(options)``); run's and history's ``add_arguments`` are
defined in ``runoptions`` and ``historyoptions``, which the parser imports
instead of those heavy modules. ``target`` imports the job graph named on the
command line, ``pools`` starts the executor of ``--executor``, ``writing``
checks and writes the command's files and streams, ``exits`` holds the exit
statuses and the errors that choose them. A subcommand's modules are
imported only when it is parsed: ``dojobber --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from importlib import import_module
from typing import Any, Callable, Iterable, NamedTuple, NoReturn, Sequence

from .command.exits import FAILED, USAGE, OutputError, UsageError, log_level, stop_line, stop_status
from .command.target import load_target  # importable from here, as before the split
from .command.writing import emit, say
from .errors import DoJobberError
from .errortext import describe, one_line
from .logs import set_up_log
from .stopping import early_stop, sigterm_stops_the_run
from .terminal import escape
from .version import __version__

__all__ = ["COMMANDS", "Command", "UsageError", "build_parser", "load_target", "main",
           "parse_job_arg"]


# A NamedTuple, not a dataclass: ``dojobber --help`` does not load dataclasses
# (benchmarks/startup.py). Written with keywords, read by name.
class Command(NamedTuple):
    """A subcommand: what ``dojobber --help`` says of it, and its module."""

    name: str
    #: Its line in ``dojobber --help``.
    help: str
    #: Its module: ``add_arguments(parser)``, and ``main(options)``, which
    #: runs it and returns the exit status.
    module: str
    #: Where ``module``'s ``add_arguments(parser)``, which adds its arguments
    #: (``-d/--debug`` among them), is defined, if ``module`` is heavy to
    #: import: the parser imports this instead (``dojobber run --help``
    #: starts as quickly as ``dojobber --help``).
    arguments: str | None = None
    #: The first paragraph of its ``--help``.
    description: str | None = None
    #: Its usage line, when argparse's would not say it.
    usage: str | None = None
    #: Whether it takes the jobs' arguments after ``--``: they go to
    #: ``main(options, positional)``.
    job_args: bool = False


#: The subcommands, in the order ``dojobber --help`` lists them.
COMMANDS = {command.name: command for command in (
    Command(
        name="run", help="run the job graph", module="dojobber.command.run",
        arguments="dojobber.command.runoptions",
        usage="%(prog)s [OPTIONS] TARGET [-- POSITIONAL_ARG ...]",
        description="Run the job graph from TARGET. Job arguments are given with "
        "--arg KEY=VALUE (keyword) and after -- (positional).",
        job_args=True),
    Command(
        name="graph", help="draw the dependency graph without running it",
        module="dojobber.command.graph"),
    Command(
        name="report", help="write the report of a run from its saved event log",
        module="dojobber.command.report",
        description="Read EVENTS, the event log that 'dojobber run --events' wrote, "
        "print the run's summary, and with --html write its HTML page."),
    Command(
        name="list", help="print the jobs in run order with their DEPS",
        module="dojobber.command.listing",
        description="Print the jobs of TARGET in run order with their DEPS; given "
        "only a module or file (no :JOB), print the Job classes it defines."),
    Command(
        name="history", help="show the runs recorded in a run history, and what they tell",
        module="dojobber.command.history", arguments="dojobber.command.historyoptions",
        description="Read the run history at PLACE (what 'dojobber run --history' "
        "recorded): the latest runs, or one job's story, or a view. See docs/history.rst."),
)}


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line and exit status 2 like every other,
    and ``--help`` or ``--version`` into a closed or broken stdout is an error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            where = "stderr" if file is not None and file is sys.stderr else "stdout"
            emit(file or sys.stdout, message, where)


class _CommandParser(_Parser):
    """A subcommand's parser, which imports the module of its arguments and
    adds them when the subcommand is parsed (for ``--help`` too): so
    ``dojobber --help`` imports no subcommand's module (benchmarks/startup.py
    times it, tests/test_import_cost.py checks it), nor does a subcommand
    import the others'."""

    def __init__(self, *args: Any, arguments: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arguments: str | None = arguments  # None once they are added

    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        if self._arguments is not None:
            import_module(self._arguments).add_arguments(self)
            self._arguments = None
        return super().parse_known_args(args, namespace)


def parse_job_arg(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> (KEY, VALUE as JSON if it parses as JSON, else the text):
    ``run --arg``'s, in ``command.runoptions``; importable from here, as before."""
    from .command.runoptions import parse_job_arg as parse

    return parse(text)


def build_parser() -> argparse.ArgumentParser:
    """The ``dojobber`` argument parser, with a subparser per entry of
    ``COMMANDS`` (each gets its arguments when it is parsed)."""
    parser = _Parser(
        prog="dojobber",
        description="Run, draw or list a DoJobber job graph.",
        epilog="Exit status: 0 every job passed, 1 a job failed or was blocked, "
        "2 a usage or configuration error, 3 a dry run (-n) found jobs that "
        "would run, 130 interrupted (Ctrl-C), 143 stopped by SIGTERM.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=_CommandParser)
    subparsers.required = True
    for command in COMMANDS.values():
        subparsers.add_parser(command.name, help=command.help, usage=command.usage,
                              description=command.description,
                              arguments=command.arguments or command.module)
    return parser


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
        command = COMMANDS[options.command]
        if positional and not command.job_args:
            raise UsageError(f"'{options.command}' takes no arguments after --")
        command_main: Callable[..., int] = import_module(command.module).main
        if not command.job_args:
            return command_main(options)
        return command_main(options, positional)
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
