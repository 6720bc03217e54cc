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

    ``make`` makes a try whose first Check passes with no call of its own
    besides the job's methods, the observers' and the sink's: it runs once
    per try, so on big graphs every call it makes shows; the other paths
    (a failed Check, a job that cannot be made) go through helpers. The
    engines call it as a bound method (``Try.make``), never ``Try`` itself:
    calling an instance costs a lookup of ``__call__`` each time
    (docs/performance.rst, 'One method per try'; ``sh dev.sh bench``).
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
        """One try of job ``i``: create it, Check, and if needed Run and
        recheck (one method on the path of a passing try: see the class)."""
        # names[i] where used, not held: on a big graph, one cache miss less per try.
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
            return self._not_created(i, error, 'Could not create Job "%s" - check its __init__')
        # No local may hold an exception when this returns: its traceback holds
        # this frame, a cycle only the cyclic GC frees (``except as`` unbinds).
        check_failed = False  # then the instance holds exceptions to forget
        try:
            try:
                job.storage = {}
                job.global_storage = self.global_storage
                job._check_phase = "check"
            except UNCAUGHT:
                raise
            except BaseException as error:
                # Refused (a read-only property...): this job fails, not the run.
                return self._not_created(i, error, 'Could not prepare Job "%s" - it refused '
                                         "storage, global_storage or _check_phase")
            try:
                if cwd is not None:
                    return_to(cwd)
            except OSError as error:
                return self._phase_failed(i, "check", error)
            try:
                # No * and ** when there is nothing to pass (docs/performance.rst).
                value = job._check_results = (job.Check(*args, **kwargs) if args or kwargs
                                              else job.Check())
            except UNCAUGHT:
                raise
            except BaseException as check_error:
                check_failed = True
                return self._check_failed(i, job, check_error)  # in this handler: see there
            for notify in events.check_passed:
                notify(names[i], "check", None)
            return self.record(i, PASSED, value, None)
        finally:
            # Decided on the instance once its try is over, as 0.6.2 did at
            # cleanup time: a Cleanup that Run set on ``self`` counts too.
            try:
                cleanup = getattr(job, "Cleanup", None)
            except Exception as error:
                # A __getattr__ or property that raises: no Cleanup, and why.
                log.warning('Could not look up the Cleanup of Job "%s": %s', names[i], error)
                cleanup = None
            if cleanup is not None and callable(cleanup):
                self.sink.keep(i, names[i], job)
            elif check_failed:
                _forget_errors(job)


    def _not_created(self, i: int, error: BaseException, message: str) -> None:
        """The try of job ``i`` ends before its Check: its instance could not
        be made or prepared (``message`` says which, with the job's name)."""
        name = self.names[i]
        log.error(message, name)
        for notify in self.events.not_created:
            notify(name, error)
        self.record(i, FAILED, None, error)

    def _phase_failed(self, i: int, phase: str, error: BaseException) -> None:
        """The try of job ``i`` fails in ``phase`` with ``error``, before the
        job's own method was called (its directory could not be restored)."""
        for notify in self.events.phase_ended:
            notify(self.names[i], phase, error)
        self.record(i, FAILED, None, error)

    def _check_failed(self, i: int, job: Job, error: BaseException) -> None:
        """The first Check of job ``i`` raised ``error``: report it and, unless
        no_act, Run and recheck. Called in the Check's exception handler, so
        that Run and the recheck happen inside it, as in 0.6.2: what they
        raise has the Check's error as its __context__, and a traceback
        shows both ("During handling of the above exception...")."""
        _set_outcome(job, "_check_exception", error)
        for notify in self.events.phase_ended:
            notify(self.names[i], "check", error)
        if self.no_act:
            return self.record(i, FAILED, None, error)
        return self._run_and_recheck(i, job)

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
