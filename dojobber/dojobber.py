"""DoJobber, the facade with the 0.6.2 method names that wires the pieces."""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from .engine.sequential import Engine, Sequential
from .errors import (
    DoJobberError,
    DoJobberWarning,
    NotConfiguredError,
    RenderError,
    UnknownJobError,
)
from .events import Observer
from .graph import build_plan
from .hints import warn_about_false_checks, warn_about_jobs
from .importguard import refuse_runs
from .jobs import DummyJob, Job, RunonlyJob
from .logs import set_up_log
from .output import FailedCleanupPrinter, VerbosePrinter
from .plan import Plan
from .recorder import ReportRecorder
from .results import Outcome, RunResult
from .settings import Settings

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from pygraph.classes.digraph import digraph

    from . import render
    from .history.record import HistoryRecorder
    from .report import RunReport

# Pictures (pydot, subprocess...) and pygraph load on first use, which keeps
# ``import dojobber`` light: most runs never draw (tests/test_import_cost.py
# and the start-up line of ``sh dev.sh bench`` keep it so).

# 0.6.2's package did ``from .dojobber import *``: scripts import the job
# classes from this module too.
__all__ = ["DoJobber", "DummyJob", "Job", "RunonlyJob"]

log = logging.getLogger("DoJobber")

ALREADY_RUNNING = (
    "checknrun is already running on this DoJobber; "
    "use another DoJobber object for a nested run"
)


def make_engine(
    plan: Plan,
    settings: Settings,
    *,
    observers: Sequence[Observer],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    instances: list[tuple[str, Job]],
) -> Engine:
    """The engine ``settings`` ask for, each a sibling over Engine's run
    loop: Sequential; Threads when ``workers`` > 1; with an ``executor``,
    Sending, the loop that sends tries to it (sending.py)."""
    options: dict[str, Any] = dict(
        no_act=settings.no_act, observers=observers, clock=clock, sleep=sleep,
        instances=instances, fail_fast=settings.fail_fast,
    )
    executor, workers = settings.executor, settings.workers
    if executor is not None:
        # Each loaded only when asked for: threads, pickle, futures.
        from .engine.executor import executor_size
        from .engine.sending import Sending

        size = executor_size(executor) if workers is None else workers
        return Sending(plan, workers=size, executor=executor, **options)
    if workers is not None and workers > 1:
        from .engine.threads import Threads

        return Threads(plan, workers=workers, **options)
    return Sequential(plan, **options)


class DoJobber:
    """Builds a job graph from a root Job class, runs it, and reports on it.

    Typical use::

        dojob = DoJobber()
        dojob.configure(RootJob, verbose=True)
        dojob.set_args('arg1', movie='Zardoz')
        dojob.checknrun()
        if dojob.success(): ...

    ``clock`` and ``sleep`` (keyword-only) replace ``time.perf_counter`` and
    ``time.sleep`` for the retry delays, e.g. with a fake clock in tests.
    """

    def __init__(
        self,
        dojobber_loglevel: int | str | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ):
        set_up_log(dojobber_loglevel)
        # Held by checknrun: one run at a time, whichever thread asks.
        self._running = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._plan: Plan | None = None
        self._engine: Engine | None = None
        self._result: RunResult | None = None
        self._graph: digraph | None = None
        self._coloured_for: RunResult | None = None
        self._recorder: ReportRecorder | None = None
        self._history: HistoryRecorder | None = None
        self._report: RunReport | None = None
        # Instances still owed a Cleanup; kept across runs so none is lost.
        self._pending_cleanups: list[tuple[str, Job]] = []
        self._settings: dict[str, Any] = {}
        self._args: tuple[Any, ...] = ()
        self._kwargs: dict[str, Any] = {}
        self._cleanup_after_run = True
        # The thread in which checknrun() calls a subclass's cleanup().
        self._ending_in: int | None = None
        # What nodestatus, noderesults and nodeexceptions return; None: made
        # from the last run's result when first read (see _published).
        self._nodestatus: dict[str, bool | None] | None = {}
        self._noderesults: dict[str, Any] | None = {}
        self._nodeexceptions: dict[str, BaseException] | None = {}

    @property
    def nodestatus(self) -> dict[str, bool | None]:
        """job name -> True (passed), False (failed), None (never tried), for
        the jobs the last run reached, in run order."""
        if self._nodestatus is None:
            self._fill_node_dicts()
        return self._nodestatus  # type: ignore[return-value]

    @nodestatus.setter
    def nodestatus(self, value: dict[str, bool | None]) -> None:
        self._nodestatus = value

    @property
    def noderesults(self) -> dict[str, Any]:
        """job name -> the value returned by the Check that passed, in the
        order the jobs passed."""
        if self._noderesults is None:
            self._fill_node_dicts()
        return self._noderesults  # type: ignore[return-value]

    @noderesults.setter
    def noderesults(self, value: dict[str, Any]) -> None:
        self._noderesults = value

    @property
    def nodeexceptions(self) -> dict[str, BaseException]:
        """job name -> the exception that made it fail, for failed jobs only."""
        if self._nodeexceptions is None:
            self._fill_node_dicts()
        return self._nodeexceptions  # type: ignore[return-value]

    @nodeexceptions.setter
    def nodeexceptions(self, value: dict[str, BaseException]) -> None:
        self._nodeexceptions = value

    def configure(
        self,
        root: type[Job],
        no_act: bool = False,
        verbose: bool = False,
        debug: bool = False,
        cleanup: bool = True,
        default_tries: float = 3,
        default_retry_delay: float = 1,
        *,
        observers: Sequence[Observer] = (),
        workers: int | None = None,
        executor: Executor | None = None,
        default_timeout: float | None = None,
        fail_fast: bool = False,
        default_retry_backoff: float = 1,
        default_retry_delay_max: float | None = None,
        default_retry_jitter: float = 0,
        history: str | os.PathLike[str] | None = None,
    ) -> None:
        """Build and validate the job graph reachable from ``root``.

        ``no_act`` only Checks (never Runs); ``verbose`` prints a line per
        phase on stderr and ``debug`` adds tracebacks (it implies verbose).
        ``cleanup`` runs the Cleanups at the end of each ``checknrun``.
        ``default_tries`` and ``default_retry_delay`` apply to jobs whose
        TRIES or RETRY_DELAY is None. Keyword-only: ``observers`` watch
        every run (e.g. a progress display); ``workers`` > 1 runs up to that
        many jobs at once in threads (docs/parallel.rst); ``executor``, any
        ``concurrent.futures.Executor``, runs each try as one task on it,
        ``workers`` (default: its size) at once (docs/scaling-out.rst).
        ``default_timeout`` is the longest a try may take, in seconds (None:
        no limit; a try that takes longer fails with JobTimeoutError).
        ``fail_fast`` starts no new try once a job has failed with no tries
        left. ``default_retry_backoff`` (a factor >= 1),
        ``default_retry_delay_max`` (seconds, None: no cap) and
        ``default_retry_jitter`` (a fraction from 0 to 1) shape the wait
        between tries. The timeout and these three apply to jobs whose own
        setting is None; see docs/timeouts-and-retries.rst. ``history``
        records every run in a SQLite file or a ``postgresql://`` URL; None
        uses ``DOJOBBER_HISTORY`` if set, ``""`` records nowhere. A history
        that cannot be written never changes the run: it gives a
        ``HistoryWarning`` and ``report().history_error`` (docs/history.rst).

        Invalid input raises a ConfigurationError naming the job and the
        bad value; a call while ``checknrun()`` runs raises DoJobberError.
        A likely mistake in a Job class (``check`` for ``Check``, a plain
        Job with no Check) gives a ``DoJobberWarning``.
        """
        with self._alone("configure()"):
            self._configure(root, Settings(
                no_act, verbose, debug, cleanup, default_tries, default_retry_delay,
                observers=observers, workers=workers, executor=executor,
                default_timeout=default_timeout, fail_fast=fail_fast,
                default_retry_backoff=default_retry_backoff,
                default_retry_delay_max=default_retry_delay_max,
                default_retry_jitter=default_retry_jitter, history=history,
            ))

    def _configure(self, root: type[Job], settings: Settings) -> None:
        plan = build_plan(root, settings)
        # Likely mistakes (a lower-case ``check``...) warn, never stop: 0.6.2
        # scripts with such a job still run as they did.
        # Only the jobs the walk did not find usual can have one.
        suspects = plan.classes if plan.unusual is None else [
            plan.classes[i] for i in plan.unusual]
        warn_about_jobs(suspects, stacklevel=4)  # the caller of configure()
        watching: list[Observer] = (
            [VerbosePrinter(debug=settings.debug, no_act=settings.no_act)]
            if settings.verbose or settings.debug
            else [FailedCleanupPrinter()]
        )
        # Run report (dojobber.report): times every try for report().
        self._recorder = ReportRecorder()
        watching.append(self._recorder)
        # What report() says the run was configured with.
        self._settings = settings.for_report(plan.names[-1])
        self._history = None
        place = settings.history_place()
        if place is not None:
            from .history.record import HistoryRecorder  # only runs that record load it

            self._history = HistoryRecorder(place, self._recorder, self._settings)
        watching.extend(settings.observers)
        if self._history is not None:
            # Last: the report's recorder has finished timing the run when
            # the history reads it, and the command's observer has made
            # the signals wait for the row to be written (command/run.py).
            watching.append(self._history)
        self._plan = plan
        self._engine = make_engine(
            plan,
            settings,
            observers=watching,
            clock=self._clock,
            sleep=self._sleep,
            instances=self._pending_cleanups,
        )
        self._cleanup_after_run = settings.cleanup
        self._graph = None
        self._forget_run()

    def set_args(self, *args: Any, **kwargs: Any) -> None:
        """Set the arguments that every Check and Run will be called with."""
        self._args = args
        self._kwargs = kwargs

    def checknrun(self, node: type[Job] | str | None = None) -> None:
        """Run the graph from the root, or from ``node`` (a Job class or name).

        Every call is a fresh run: statuses, tries and storage start over.
        One run at a time: a call from a job of the running graph, or from
        another thread while a run is on, raises DoJobberError and leaves
        the running one alone (use another DoJobber object instead).
        """
        refuse_runs()  # the dojobber command is importing this graph's module
        with self._alone("checknrun"):
            self._checknrun(node)

    def _checknrun(self, node: type[Job] | str | None) -> None:
        scheduler = self._configured()
        start = self._index_of(node)
        self._forget_run()
        # 0.6.2 called two public methods on self, which a subclass may
        # override: success() after each pass, cleanup() at the end. Only
        # an override is called (looked up once a run): the usual run pays
        # nothing for it.
        kind = type(self)
        scheduler.after_pass = (
            None if kind.success is DoJobber.success else self._success_after_pass)
        ended = False
        try:
            scheduler.run(start, self._args, self._kwargs)
            result = scheduler.result
            if result is not None and result.false_checks:
                warn_about_false_checks(result, stacklevel=4)  # the caller of checknrun()
            ended = True
        finally:
            result = scheduler.result
            if result is not None:
                self._publish(result)
            if self._cleanup_after_run:
                if ended and kind.cleanup is not DoJobber.cleanup:
                    self._cleanup_by_override()
                else:
                    # After Ctrl-C (or another exception), the Cleanups
                    # themselves, not an override: 0.6.2 called none.
                    try:
                        self._cleanup()
                    except BaseException:
                        # After Ctrl-C the interrupt must win; the failed
                        # Cleanups were already reported on stderr.
                        if result is None or not result.interrupted:
                            raise

    def _success_after_pass(self) -> bool:
        """The subclass's success(), asked after a pass as 0.6.2 asked it;
        it sees the run so far (nodestatus, super().success())."""
        result = self._engine.result if self._engine is not None else None
        if result is not None:
            self._publish(result)
        return bool(self.success())

    def _cleanup_by_override(self) -> None:
        """Call the subclass's cleanup() at the end of the run, as 0.6.2 did;
        its ``super().cleanup()`` runs the Cleanups although the run still
        holds the lock (see cleanup)."""
        self._ending_in = threading.get_ident()
        try:
            self.cleanup()
        finally:
            self._ending_in = None

    def cleanup(self) -> None:
        """Run the Cleanup of every job instance made so far, newest first.

        Each instance is cleaned up once. Like ``contextlib.ExitStack``,
        every pending Cleanup runs even when some raise; each failure is
        printed (``NAME.cleanup: fail "MESSAGE"``) and listed in
        ``report().cleanup_errors``; then the first exception propagates,
        its type unchanged. Only a KeyboardInterrupt stops the rest (they
        stay pending for the next call). Raises DoJobberError while
        ``checknrun()`` runs: the run calls it when it ends.

        A subclass may override it, as with 0.6.2: ``checknrun()`` then
        calls the override when a run with ``cleanup`` on ends normally,
        and the override's ``super().cleanup()`` runs the Cleanups. After
        Ctrl-C the run calls the Cleanups themselves, not the override.
        """
        if self._ending_in == threading.get_ident():
            # An override that checknrun() is calling at its end: the run
            # holds the lock, in this very thread.
            self._cleanup()
            return
        with self._alone("cleanup()"):
            self._cleanup()

    def _cleanup(self) -> None:
        if self._engine is not None:
            # The report must list the failures of these Cleanups too.
            self._report = None
            self._engine.cleanup()

    @contextmanager
    def _alone(self, what: str) -> Iterator[None]:
        """Hold the run lock for ``what``, or raise if a run holds it."""
        if not self._running.acquire(blocking=False):
            if what == "checknrun":
                raise DoJobberError(ALREADY_RUNNING)
            raise DoJobberError(
                f"{what} cannot be called while checknrun is running on this DoJobber"
            )
        try:
            yield
        finally:
            self._running.release()

    def tries_allowed(self) -> dict[str, int]:
        """Job name -> the tries it may have in one run: its TRIES rounded
        up, or ``default_tries``. Empty before ``configure``."""
        plan = self._plan
        return {} if plan is None else dict(zip(plan.names, plan.tries, strict=True))

    def success(self) -> bool:
        """True when every job reached by the last run passed."""
        return self._result is not None and self._result.success

    def partial_success(self) -> bool:
        """True when at least one job of the last run passed."""
        return any(status is True for status in self.nodestatus.values())

    def failure(self) -> bool:
        """``not self.success()``: a subclass's success() decides, as in 0.6.2."""
        return not self.success()

    def report(self) -> RunReport:
        """The report of the last ``checknrun``: per job its outcome, tries,
        seconds and last error, plus ``to_dict()``/``to_json()``.

        Raises DoJobberError when nothing has run since ``configure``.
        """
        result = self._result
        if result is None or self._recorder is None:
            raise DoJobberError("no run to report on: call checknrun() before report()")
        if self._report is None:
            assert self._engine is not None
            self._report = self._recorder.report(
                result, self._engine.events.failures, self._settings
            )
            history = self._history
            if history is not None:
                from dataclasses import replace

                self._report = replace(self._report, history_error=history.error,
                                       history_place=history.place,
                                       history_run=history.run_id)
        return self._report

    @property
    def graph(self) -> digraph:
        """The job graph as a pygraph digraph, coloured by the last run."""
        from . import render

        if self._graph is None:
            if self._plan is None:
                from pygraph.classes.digraph import digraph

                self._graph = digraph()
            else:
                self._graph = self._plan.to_digraph()
            self._coloured_for = None
        if self._coloured_for is not self._result and self._plan is not None:
            render.colour(self._graph, self._outcomes())
            self._coloured_for = self._result
        return self._graph

    def graph_dot(self) -> str:
        """The picture of the job graph as Graphviz DOT text.

        Before a run it is the plain dependency graph; after one, nodes are
        coloured by outcome, carry a tooltip (outcome, tries, last error)
        and the graph has a legend.
        """
        from . import render

        return render.dot_text(self.graph, self._job_states())

    def write_graph(
        self,
        filed: render.Target,
        fmt: str | None = None,
        *,
        renderer: str | None = None,
        strict: bool = False,
    ) -> None:
        """Write the picture to a path (``str``, ``bytes``, ``os.PathLike``)
        or a binary or text file object.

        ``fmt`` is ``dot`` or ``gv`` (DOT text, needs nothing), ``svg`` or
        ``png`` (Graphviz's ``dot`` program, or in-process with the
        ``dojobber[pictures]`` extra) or another ``dot -T`` format (``pdf``...
        through ``dot``). Without ``fmt``, a path's extension gives it when
        it names one (``graph.svg``), else it is ``png``, as in 0.6.2.
        ``renderer`` forces ``graphviz`` or ``wasm`` (the in-process one), or
        ``auto``, which prefers ``graphviz`` (the default).

        Where nothing here can draw the format (no Graphviz, no ``pictures``
        extra), it writes nothing and gives a ``DoJobberWarning`` saying what
        to install, so that a script written for 0.6.2 goes on as it did;
        with ``strict=True`` or a ``renderer`` given, it raises RenderError
        instead. A format it does not know, and a renderer that fails,
        always raise RenderError; nothing is written then.
        """
        from . import render

        if fmt is None:
            fmt = render.format_for_path(filed) or "png"
        fmt = render.picture_format(fmt)
        if renderer is None and not strict:
            missing = render.missing_renderer(fmt)
            if missing is not None:
                warnings.warn(
                    f"write_graph() wrote nothing: {missing} (pass strict=True to raise an error)",
                    DoJobberWarning,
                    stacklevel=2,
                )
                return
        drawn = render.render(self.graph_dot(), fmt, "auto" if renderer is None else renderer)
        render.write(filed, drawn, fmt)

    def display_graph(self, *, strict: bool = False) -> str | None:
        """Show the picture on screen, without waiting for the viewer.

        Uses ImageMagick's ``display`` on an X display, else the desktop's
        viewer (``xdg-open``, or ``open`` on macOS) on a temporary file,
        whose path is returned. Where there is no screen, no viewer or no
        way to draw the picture, it shows nothing, gives a
        ``DoJobberWarning`` saying why (and what to install) and returns
        None, as 0.6.2 returned; ``strict=True`` raises RenderError instead.
        """
        from . import render

        try:
            command = render.viewer()
            fmt = render.display_format()
        except RenderError as error:
            if strict:
                raise
            warnings.warn(
                f"display_graph() showed nothing: {error} (pass strict=True to raise an error)",
                DoJobberWarning,
                stacklevel=2,
            )
            return None
        return render.show(command, render.render(self.graph_dot(), fmt), fmt)

    # Internals

    def _configured(self) -> Engine:
        if self._engine is None:
            raise NotConfiguredError("call configure(root) before checknrun()")
        return self._engine

    def _index_of(self, node: type[Job] | str | None) -> int:
        plan = self._plan
        assert plan is not None
        if node is None:
            return len(plan) - 1
        name = node if isinstance(node, str) else getattr(node, "__name__", None)
        index = plan.index.get(name) if isinstance(name, str) else None
        if index is None or not (isinstance(node, str) or plan.classes[index] is node):
            root = plan.names[-1]
            raise UnknownJobError(
                f"checknrun: {node!r} is not a job of the graph configured from {root!r}",
                None,
                node,
            )
        return index

    def _forget_run(self) -> None:
        self._result = None
        self._report = None
        self.nodestatus = {}
        self.noderesults = {}
        self.nodeexceptions = {}

    def _publish(self, result: RunResult) -> None:
        # The three dicts are made when first read: a program that only asks
        # success() never pays for them, in time or in memory kept. The
        # benchmark keeps it: it times configure() + checknrun() and
        # measures the memory kept after the run, without reading them
        # (docs/performance.rst, "Results when asked for").
        self._result = result
        self._nodestatus = self._noderesults = self._nodeexceptions = None

    def _fill_node_dicts(self) -> None:
        """Make the node dicts not made yet (and not assigned by the user)."""
        status, results, exceptions = self._published()
        if self._nodestatus is None:
            self._nodestatus = status
        if self._noderesults is None:
            self._noderesults = results
        if self._nodeexceptions is None:
            self._nodeexceptions = exceptions

    def _published(
        self,
    ) -> tuple[dict[str, bool | None], dict[str, Any], dict[str, BaseException]]:
        """nodestatus, noderesults and nodeexceptions, made from the last run."""
        result = self._result
        if result is None:
            return {}, {}, {}
        names, order = result.plan.names, result.order
        status, results, errors = result.status, result.results, result.errors
        return (
            {names[i]: status[i] for i in order},
            # In the order the jobs passed, as 0.6.2 filled it.
            {names[i]: results[i] for i in result.passed},
            # A job whose status is False always has an error: no None gets in.
            {names[i]: errors[i] for i in order if status[i] is False},  # type: ignore[misc]
        )

    def _job_states(self) -> dict[str, render.JobState] | None:
        result = self._result
        if result is None:
            return None
        from . import render

        names = result.plan.names
        # The recorder has every job's last failure, also of jobs that passed later.
        last_errors = self._recorder.last_errors if self._recorder else {}
        return {
            names[i]: render.JobState(result.outcome[i], result.tries[i], last_errors.get(names[i]))
            for i in result.order
        }

    def _outcomes(self) -> dict[str, Outcome]:
        result = self._result
        if result is None:
            return {}
        names, outcome, status = result.plan.names, result.outcome, result.status
        # The graph's colours follow nodestatus, as in 0.6.2: a job whose
        # retry was cut short failed its tries before (False, red).
        return {
            names[i]: Outcome.FAILED
            if outcome[i] is Outcome.INTERRUPTED and status[i] is False else outcome[i]
            for i in result.order
        }
