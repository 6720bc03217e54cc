"""One try of one job: create it, Check, and if needed Run and recheck; report to a Sink.

Every engine runs its tries through ``Try``: in place (the sequential
engine), in worker threads, under a time limit, or in a worker of an
executor. Where the try runs changes; what a try is does not.
"""

from __future__ import annotations

import logging
import os
from operator import itemgetter
from typing import Any, Callable, Protocol, Sequence

from ..errors import TryExpired
from ..events import Dispatch
from ..jobs import Job
from ..results import Outcome, RunResult

log = logging.getLogger("DoJobber")

PASSED = Outcome.PASSED
PASSED_AFTER_RUN = Outcome.PASSED_AFTER_RUN
FAILED = Outcome.FAILED

#: What a try lets through: Ctrl-C, and the alarm of its TIMEOUT.
UNCAUGHT = (KeyboardInterrupt, TryExpired)

#: One try of the job at an index, as every engine calls it.
TryFunction = Callable[[int], None]


class Sink(Protocol):
    """Where a try reports what became of it."""

    def record(
        self, i: int, outcome: Outcome, value: Any, error: BaseException | None
    ) -> None:
        """The try of job ``i`` ended with ``outcome``: ``value`` is what the
        Check that passed returned, ``error`` what made it fail."""

    def keep(self, i: int, name: str, job: Job) -> None:
        """Keep ``job``, the instance of job ``i``'s try, for its Cleanup."""


class TryEvents(Protocol):
    """The events a try reports itself (a Dispatch has them): each a list of
    the observers' methods to call."""

    try_started: list[Callable[..., None]]
    not_created: list[Callable[..., None]]
    phase_ended: list[Callable[..., None]]
    #: ``phase_ended`` for a first Check that passed (see events.Unguarded).
    check_passed: list[Callable[..., None]]


class Outcomes:
    """The usual Sink: each outcome into the run's RunResult and to the
    observers (``try_ended``), each instance onto the run's Cleanup list."""

    def __init__(
        self, result: RunResult, events: Dispatch, instances: list[tuple[str, Job]]
    ):
        self.result = result
        self.events = events
        self.names = result.plan.names
        self.instances = instances

    def record(
        self, i: int, outcome: Outcome, value: Any, error: BaseException | None
    ) -> None:
        result = self.result
        result.ended[i] = result.stamp()
        # The usual try first, in a branch of its own: it needs no test of
        # the outcome per field (layered, 1k jobs: the run 3% faster).
        if outcome is PASSED:
            result.status[i] = True
            result.outcome[i] = PASSED
            result.results[i] = value
            result.errors[i] = None
            result.passed.append(i)
            if value is False:  # one identity test: the usual try pays no more
                result.false_checks.append(i)
            for notify in self.events.try_passed:
                notify(self.names[i], PASSED, None)
            return
        result.status[i] = outcome is not FAILED
        result.outcome[i] = outcome
        result.results[i] = value
        result.errors[i] = error
        if outcome is not FAILED:
            result.passed.append(i)
            if value is False:
                result.false_checks.append(i)
        else:
            result.failed_try[i] = result.tries[i]  # this try is over: see cut_short
        for notify in self.events.try_ended:
            notify(self.names[i], outcome, error)

    def keep(self, i: int, name: str, job: Job) -> None:
        self.instances.append((name, job))


class StartOrder(Outcomes):
    """The Sink of tries made several at once: instances are kept for
    Cleanup in the order their tries started, not the moment each try made
    its own (Cleanup is LIFO by start). ``starts`` is the ready-set's: per
    job, how many tries of the run started before its latest one."""

    def __init__(self, result: RunResult, events: Dispatch,
                 instances: list[tuple[str, Job]], starts: Sequence[int]):
        super().__init__(result, events, instances)
        self.starts = starts
        self.made: list[tuple[int, str, Job]] = []

    def keep(self, i: int, name: str, job: Job) -> None:
        self.made.append((self.starts[i], name, job))  # list.append is atomic

    def settle(self) -> None:
        """The run is over: its instances onto the Cleanup list, in start order."""
        self.made.sort(key=itemgetter(0))
        self.instances.extend((name, job) for _, name, job in self.made)
        self.made = []


class Try:
    """The tries of one run: ``make(i)`` makes one try of job ``i`` (the
    ready-set has counted it already).

    In sequential runs each phase starts in the run's directory ``cwd``, as
    in 0.6.2: a Check that changes directory does not move its Run. When
    the directory cannot be restored the phase fails with that OSError and
    the job's own method is not called. ``cwd`` is None where tries share
    the process with others (a chdir would move them too).
    """

    def __init__(
        self,
        result: RunResult,
        events: TryEvents,
        sink: Sink,
        *,
        no_act: bool,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        global_storage: dict[str, Any],
        cwd: str | None,
    ):
        self.result = result
        self.events = events
        self.sink = sink
        self.no_act = no_act
        self.args = args
        self.kwargs = kwargs
        self.global_storage = global_storage
        self.cwd = cwd
        # Read by every try, so one attribute away rather than two.
        self.names: Sequence[str] = result.plan.names
        self.classes: Sequence[type[Job]] = result.plan.classes
        self.record = sink.record

    def reporting_to(self, events: TryEvents, sink: Sink) -> Try:
        """The same tries, reporting to other ``events`` and ``sink`` (a try
        under a time limit reports through a gate)."""
        return Try(
            self.result, events, sink, no_act=self.no_act, args=self.args,
            kwargs=self.kwargs, global_storage=self.global_storage, cwd=self.cwd,
        )

    def make(self, i: int) -> None:
        """One try of job ``i``: create it, Check, and if needed Run and recheck.

        One method, not one per phase: it runs once per try, so on big
        graphs every call it makes shows. The engines call it as a bound
        method (``Try.make``), never ``Try`` itself: calling an instance
        costs a lookup of ``__call__`` each time (layered, 1k jobs: the run
        5% slower).
        """
        # The job's name is looked up where it is used, not held: on a big
        # graph, a reference to it is one more cache miss per try.
        names, events, result = self.names, self.events, self.result
        args, kwargs, cwd = self.args, self.kwargs, self.cwd
        result.started[i] = result.stamp()
        for notify in events.try_started:
            notify(names[i], result.tries[i])
        try:
            job = self.classes[i]()
        except UNCAUGHT:
            raise
        except BaseException as error:
            log.error('Could not create Job "%s" - check its __init__', names[i])
            for notify in events.not_created:
                notify(names[i], error)
            return self.record(i, FAILED, None, error)
        # No local variable may hold an exception when this returns: the
        # traceback references this frame, which would then reference the
        # exception back, a cycle only the cyclic garbage collector frees.
        # ``except ... as error`` unbinds ``error`` by itself.
        check_failed = False  # then the instance holds exceptions to forget
        try:
            try:
                job.storage = {}
                job.global_storage = self.global_storage
                job._check_phase = "check"
            except UNCAUGHT:
                raise
            except BaseException as error:
                # An instance that refuses these attributes (a read-only
                # property, a __setattr__ that raises) fails this job, not the run.
                log.error('Could not prepare Job "%s" - it refused storage, '
                          "global_storage or _check_phase", names[i])
                for notify in events.not_created:
                    notify(names[i], error)
                return self.record(i, FAILED, None, error)

            # Check
            try:
                if cwd is not None:
                    return_to(cwd)
            except OSError as error:
                for notify in events.phase_ended:
                    notify(names[i], "check", error)
                return self.record(i, FAILED, None, error)
            try:
                # A call without * and ** when there is nothing to pass:
                # spreading an empty tuple and dict costs more than a passing
                # Check does (135 ns against 42 ns, docs/performance.rst).
                value = job._check_results = (
                    job.Check(*args, **kwargs) if args or kwargs else job.Check()
                )
            except UNCAUGHT:
                raise
            except BaseException as check_error:
                check_failed = True
                _set_outcome(job, "_check_exception", check_error)
                for notify in events.phase_ended:
                    notify(names[i], "check", check_error)
                if self.no_act:
                    return self.record(i, FAILED, None, check_error)
                # Run and the recheck happen inside this handler, as in
                # 0.6.2: what they raise has the Check's error as its
                # __context__, and a traceback shows both ("During handling
                # of the above exception...").
                return self._run_and_recheck(i, job)
            else:
                for notify in events.check_passed:
                    notify(names[i], "check", None)
                return self.record(i, PASSED, value, None)
        finally:
            # Decided on the instance once its try is over, as 0.6.2 did at
            # cleanup time: a Cleanup that Run set on ``self`` counts too.
            try:
                cleanup = getattr(job, "Cleanup", None)
            except Exception as error:
                # A __getattr__ or property that raises: no Cleanup to call,
                # but the user should hear why.
                log.warning('Could not look up the Cleanup of Job "%s": %s', names[i], error)
                cleanup = None
            if cleanup is not None and callable(cleanup):
                self.sink.keep(i, names[i], job)
            elif check_failed:
                _forget_errors(job)


    def _run_and_recheck(self, i: int, job: Job) -> None:
        """Run, then the recheck, of a try whose first Check failed (called
        in that Check's exception handler)."""
        names, events, args, kwargs, cwd = self.names, self.events, self.args, self.kwargs, self.cwd
        # Run: its outcome is deliberately ignored, only the recheck decides.
        try:
            if cwd is not None:
                return_to(cwd)
            job._run_results = job.Run(*args, **kwargs) if args or kwargs else job.Run()
        except UNCAUGHT:
            raise
        except BaseException as error:
            _set_outcome(job, "_run_exception", error)
            for notify in events.phase_ended:
                notify(names[i], "run", error)
        else:
            for notify in events.phase_ended:
                notify(names[i], "run", None)

        # Recheck
        try:
            if cwd is not None:
                return_to(cwd)
            job._check_phase = "recheck"
            value = job._recheck_results = (
                job.Check(*args, **kwargs) if args or kwargs else job.Check()
            )
        except UNCAUGHT:
            raise
        except BaseException as error:
            _set_outcome(job, "_recheck_exception", error)
            for notify in events.phase_ended:
                notify(names[i], "recheck", error)
            return self.record(i, FAILED, None, error)
        for notify in events.phase_ended:
            notify(names[i], "recheck", None)
        return self.record(i, PASSED_AFTER_RUN, value, None)


#: The code that calls a job's own methods: a frame whose nearest DoJobber
#: caller runs it is the job's code (the time limits interrupt only that).
JOB_CALLERS = frozenset({Try.make.__code__, Try._run_and_recheck.__code__})


def return_to(cwd: str) -> None:
    """``os.chdir(cwd)``, skipped when already there (``getcwd`` is the cheaper call)."""
    try:
        if os.getcwd() == cwd:
            return
    except OSError:
        pass  # the current directory is gone: chdir says what is wrong with cwd
    os.chdir(cwd)


def _set_outcome(job: Job, attribute: str, error: BaseException) -> None:
    """Record a phase's exception on the instance, if the instance lets us.

    An instance that refuses it (its own ``__setattr__`` rules) keeps the
    phase's outcome off itself; the run has it all the same.
    """
    try:
        setattr(job, attribute, error)
    except Exception:
        pass


def _forget_errors(job: Job) -> None:
    """Unset the exceptions a finished try left on an instance nobody keeps.

    Each exception's traceback references the instance (``self`` in the
    method that raised), so leaving them would make a reference cycle that
    only the cyclic garbage collector can free: on big graphs with many
    failed tries, much memory and collector time. The exceptions themselves
    live on in the run's results.
    """
    try:
        job._check_exception = job._run_exception = job._recheck_exception = None
    except Exception:
        pass  # an instance with its own rules keeps them, at some cost in memory
