"""The scheduler: passes, tries, retry delays, check/run/recheck, cleanup."""

from __future__ import annotations

import logging
import math
import os
import time
from array import array
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from .errors import TryExpired
from .events import Dispatch, Observer
from .jobs import Job
from .plan import Plan
from .results import Outcome, RunResult

if TYPE_CHECKING:
    from .timeouts import TryFunction

log = logging.getLogger("DoJobber")

PASSED = Outcome.PASSED
PASSED_AFTER_RUN = Outcome.PASSED_AFTER_RUN
FAILED = Outcome.FAILED
BLOCKED = Outcome.BLOCKED


class Scheduler:
    """Runs a Plan in the contract's order: passes of depth-first post-order.

    ``clock`` and ``sleep`` are injectable so tests can use a fake clock
    (TIMEOUT is always measured in real time). ``fail_fast`` stops starting
    tries once a job failed with no tries left.
    ``instances`` collects (name, job) pairs of the instances that have a
    Cleanup, in the order their tries started; ``cleanup()`` drains it newest first.
    """

    #: True on the copy that a try under a time limit runs on: its outcome
    #: must then go through ``_end``, which that copy gates (timeouts.py).
    _gated = False

    def __init__(
        self,
        plan: Plan,
        *,
        no_act: bool = False,
        observers: Sequence[Observer] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        instances: list[tuple[str, Job]] | None = None,
        fail_fast: bool = False,
    ):
        self.plan = plan
        # Read by every try, so one attribute away rather than two.
        self._names, self._classes = plan.names, plan.classes
        self.no_act = no_act
        self.fail_fast = fail_fast
        self.events = Dispatch(observers)
        self.clock = clock
        self.sleep = sleep
        self.instances: list[tuple[str, Job]] = [] if instances is None else instances
        self.result: RunResult | None = None

    def run(
        self, start: int, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> RunResult:
        """One full run from job index ``start``; always restores the cwd."""
        plan = self.plan
        order = plan.order_from(start)
        result = RunResult(plan, order, self.no_act)
        self.result = result
        events = self.events
        events.start_run(result)
        try:
            cwd: str | None = os.getcwd()
        except OSError:
            # Called from a directory that was deleted: none to return to.
            cwd = None
        try:
            # Inside the try: an observer that started something (a thread)
            # in run_started is told run_ended even after a Ctrl-C here.
            if events.run_started:
                jobs = (plan.names if isinstance(order, range)
                        else list(map(plan.names.__getitem__, order)))
                for notify in events.run_started:
                    notify(list(jobs))  # a copy each: an observer may keep it
            self._passes(result, cwd, args, kwargs)
        except KeyboardInterrupt:
            result.interrupted = True
            raise
        finally:
            _restore_cwd(cwd)
            events.end_run(result)
        return result

    def _passes(
        self, result: RunResult, cwd: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Try each job ``_walk`` names, after waiting out its retry delay."""
        plan, tries = self.plan, result.tries
        global_storage: dict[str, Any] = {}
        # Machine floats, not a float object per job.
        next_start = array("d", [_NEVER]) * len(plan)
        waits = plan.waits  # if not, the clock is never read
        try_ = self._executor()
        for i in self._walk(result):
            if waits:
                self._wait_for(i, tries[i] + 1, next_start)
            tries[i] += 1
            try_(i, result, cwd, args, kwargs, global_storage)

    def _wait_for(self, i: int, number: int, next_start: array[float]) -> None:
        """Sleep until try ``number`` of job ``i`` may start, and set when the
        next may: its retry delay after this one starts."""
        now = None
        if next_start[i] > _NEVER:
            now = self.clock()
            if next_start[i] > now:
                self.sleep(next_start[i] - now)
                now = self.clock()
        plan = self.plan
        if number < plan.tries[i] and (plan.delays[i] or i in plan.backoff):
            next_start[i] = (self.clock() if now is None else now) + (
                self._retry_delay(i, number) if i in plan.backoff else plan.delays[i]
            )

    def _executor(self) -> TryFunction:
        """What executes one try, for every engine: ``_try`` itself, or,
        when a job has a TIMEOUT, ``_try`` within it (dojobber/timeouts.py)."""
        if self.plan.timeouts:
            # Loaded only for runs that need it: signals, copies, threads.
            from .timeouts import within_timeouts

            return within_timeouts(self)
        return self._try

    def _retry_delay(self, i: int, tries: int) -> float:
        """The least time from the start of try ``tries`` of job ``i`` to its
        next, for a job that has a backoff (the others wait ``plan.delays[i]``)."""
        return self.plan.backoff[i].delay(self.plan.delays[i], tries, _random)

    def _walk(self, result: RunResult) -> Iterator[int]:
        """The jobs to try, in the contract's order of passes.

        A job's try is over when the next job is asked for, so its outcome
        decides what comes next. A pass tries, in run order, each job that
        has not passed and whose dependencies all have. The first pass
        walks the whole order. At the start of a later pass the only jobs
        ready to try are those that failed with tries left; a job becomes
        ready when its last dependency passes, and since its dependents
        come after it in the order, it is still tried in this pass, where a
        full walk would have reached it. A heap of positions in the order
        gives exactly that sequence without walking every job every pass:
        a run costs time in proportion to its tries, not passes times jobs.
        """
        plan = self.plan
        dep_start, dep_jobs, budgets = plan.dep_start, plan.dep_jobs, plan.tries
        status, tries, order = result.status, result.tries, result.order
        fail_fast, no_act = self.fail_fast, self.no_act
        retry: list[int] = []  # positions of failed jobs with tries left
        # While every job so far passed, so did each job's dependencies,
        # which come before it: only after a failure are they looked at.
        all_passed = True
        for p, i in enumerate(order):
            if not all_passed:
                deps_passed = True
                for dep in dep_jobs[dep_start[i]:dep_start[i + 1]]:
                    if status[dep] is not True:
                        deps_passed = False
                        break
                if not deps_passed:
                    continue
            yield i
            if not status[i]:
                all_passed = False
                if fail_fast and (no_act or tries[i] >= budgets[i]):
                    result.stopped_by = i
                    result.passes = 1
                    return
                if tries[i] < budgets[i]:
                    retry.append(p)
        result.passes = 1
        if not retry or self.no_act:
            return

        first_dependent, dependents = plan.dependents
        position = plan.positions(order)
        waiting = [0] * len(plan)  # dependencies not passed yet
        for i in order:
            if status[i] is not True:
                waiting[i] = sum(status[dep] is not True
                                 for dep in dep_jobs[dep_start[i]:dep_start[i + 1]])
        ready = retry  # ascending, so already a heap
        while ready:
            retry = []
            while ready:
                p = heappop(ready)
                i = order[p]
                yield i
                if status[i]:
                    for dependent in dependents[first_dependent[i]:first_dependent[i + 1]]:
                        waiting[dependent] -= 1
                        if not waiting[dependent] and position[dependent] >= 0:
                            heappush(ready, position[dependent])
                elif tries[i] < budgets[i]:
                    retry.append(p)
                elif fail_fast:
                    result.stopped_by = i
                    result.passes += 1
                    return
            result.passes += 1
            ready = retry

    def _try(
        self,
        i: int,
        result: RunResult,
        cwd: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        global_storage: dict[str, Any],
    ) -> None:
        """One try of job ``i``: create it, Check, and if needed Run and recheck.

        In sequential runs each phase starts in the run's directory, as in
        0.6.2: a Check that changes directory does not move its Run. When
        the directory cannot be restored the phase fails with that OSError
        and the job's own method is not called. (``cwd`` is None in parallel
        runs: a chdir there would move the jobs running in other threads;
        see dojobber/parallel.py.)

        One method, not one per phase: it runs once per try, so on big
        graphs every call it makes shows.
        """
        # The job's name is looked up where it is used, not held: on a big
        # graph, a reference to it is one more cache miss per try.
        names = self._names
        events = self.events
        result.started[i] = result.stamp()
        for notify in events.try_started:
            notify(names[i], result.tries[i])
        try:
            job = self._classes[i]()
        except _UNCAUGHT:
            raise
        except BaseException as error:
            log.error('Could not create Job "%s" - check its __init__', names[i])
            for notify in events.not_created:
                notify(names[i], error)
            return self._end(i, result, FAILED, None, error)
        # No local variable may hold an exception when this returns: the
        # traceback references this frame, which would then reference the
        # exception back, a cycle only the cyclic garbage collector frees.
        # ``except ... as error`` unbinds ``error`` by itself.
        try:
            try:
                job.storage = {}
                job.global_storage = global_storage
                job._check_phase = "check"
            except _UNCAUGHT:
                raise
            except BaseException as error:
                # An instance that refuses the scheduler's attributes (a
                # read-only property, a __setattr__ that raises) fails this
                # job, not the run.
                log.error('Could not prepare Job "%s" - it refused storage, '
                          "global_storage or _check_phase", names[i])
                for notify in events.not_created:
                    notify(names[i], error)
                return self._end(i, result, FAILED, None, error)

            # Check
            try:
                if cwd is not None:  # _return_to(cwd), inlined: every try has this phase
                    try:
                        here: str | None = os.getcwd()
                    except OSError:
                        here = None
                    if here != cwd:
                        os.chdir(cwd)
            except OSError as error:
                for notify in events.phase_ended:
                    notify(names[i], "check", error)
                return self._end(i, result, FAILED, None, error)
            try:
                # A call without * and ** when there is nothing to pass:
                # spreading an empty tuple and dict costs more than Check does.
                value = job._check_results = (
                    job.Check(*args, **kwargs) if args or kwargs else job.Check()
                )
            except _UNCAUGHT:
                raise
            except BaseException as error:
                _set_outcome(job, "_check_exception", error)
                for notify in events.phase_ended:
                    notify(names[i], "check", error)
                if self.no_act:
                    return self._end(i, result, FAILED, None, error)
            else:
                for notify in events.check_passed:
                    notify(names[i], "check", None)
                if self._gated:
                    return self._end(i, result, PASSED, value, None)
                # What _end(i, result, PASSED, value, None) does, without the
                # call: most tries end here.
                result.ended[i] = result.stamp()
                result.status[i] = True
                result.outcome[i] = PASSED
                result.results[i] = value
                result.errors[i] = None
                result.passed.append(i)
                for notify in events.try_passed:
                    notify(names[i], PASSED, None)
                return

            # Run: its outcome is deliberately ignored, only the recheck decides.
            try:
                if cwd is not None:
                    _return_to(cwd)
                job._run_results = job.Run(*args, **kwargs) if args or kwargs else job.Run()
            except _UNCAUGHT:
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
                    _return_to(cwd)
                job._check_phase = "recheck"
                value = job._recheck_results = (
                    job.Check(*args, **kwargs) if args or kwargs else job.Check()
                )
            except _UNCAUGHT:
                raise
            except BaseException as error:
                _set_outcome(job, "_recheck_exception", error)
                for notify in events.phase_ended:
                    notify(names[i], "recheck", error)
                return self._end(i, result, FAILED, None, error)
            for notify in events.phase_ended:
                notify(names[i], "recheck", None)
            return self._end(i, result, PASSED_AFTER_RUN, value, None)
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
                self._remember(i, names[i], job)
            elif job._check_exception is not None:
                _forget_errors(job)

    def _remember(self, i: int, name: str, job: Job) -> None:
        """Keep a new instance of job ``i`` for Cleanup (the parallel engine
        overrides this to order instances by the start of their try)."""
        self.instances.append((name, job))

    def _end(
        self,
        i: int,
        result: RunResult,
        outcome: Outcome,
        value: Any,
        error: BaseException | None,
    ) -> None:
        """Record the outcome of job ``i``'s try: the one way a try reports
        it (a try under a time limit reports through a gate, see timeouts.py)."""
        result.ended[i] = result.stamp()
        result.status[i] = outcome is not FAILED
        result.outcome[i] = outcome
        result.results[i] = value
        result.errors[i] = error
        if outcome is not FAILED:
            result.passed.append(i)
        events = self.events
        for notify in events.try_passed if outcome is PASSED else events.try_ended:
            notify(self.plan.names[i], outcome, error)

    def cleanup(self) -> None:
        """Call Cleanup on every remembered instance, newest first, once each.

        Like ``contextlib.ExitStack``: a Cleanup that raises does not stop
        the others; when all have run, the first exception propagates. Only
        KeyboardInterrupt stops at once (the rest stay pending).
        """
        events = self.events
        instances = self.instances
        first: BaseException | None = None
        while instances:
            name, job = instances[-1]
            for notify in events.cleanup_started:
                notify(name)
            # Taken off only now: a Ctrl-C above leaves it pending.
            instances.pop()
            try:
                job.Cleanup()  # type: ignore[attr-defined]
            except BaseException as error:
                for notify in events.cleanup_ended:
                    notify(name, error)
                if isinstance(error, KeyboardInterrupt):
                    raise
                if first is None:
                    first = error
            else:
                for notify in events.cleanup_ended:
                    notify(name, None)
        if first is not None:
            try:
                raise first
            finally:
                first = None  # no frame <-> traceback cycle


def _set_outcome(job: Job, attribute: str, error: BaseException) -> None:
    """Record a phase's exception on the instance, if the instance lets us.

    An instance that refuses it (its own ``__setattr__`` rules) keeps the
    phase's outcome off itself; the run has it all the same.
    """
    try:
        setattr(job, attribute, error)
    except Exception:
        pass


#: ``next_start`` of a job that need not wait.
_NEVER = -math.inf

#: What a try lets through: Ctrl-C, and the alarm of its TIMEOUT.
_UNCAUGHT = (KeyboardInterrupt, TryExpired)


def _random() -> float:
    # Looked up at each call, so that ``random.seed()`` gives repeatable
    # jitter; imported here, as only jitter needs it.
    import random

    return random.random()


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


def _return_to(cwd: str) -> None:
    """``os.chdir(cwd)``, skipped when already there (``getcwd`` is the cheaper call)."""
    try:
        if os.getcwd() == cwd:
            return
    except OSError:
        pass  # the current directory is gone: chdir says what is wrong with cwd
    os.chdir(cwd)


def _restore_cwd(cwd: str | None) -> None:
    if cwd is None:
        return
    try:
        os.chdir(cwd)
    except OSError as error:
        # A job removed the directory the run started in; the results are
        # still worth returning, so report it rather than raise.
        log.warning("Could not return to %s: %s", cwd, error)
