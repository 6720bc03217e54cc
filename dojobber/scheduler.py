"""The scheduler: passes, tries, retry delays, check/run/recheck, cleanup."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .events import Dispatch, Observer, Outcome
from .graph import Plan
from .jobs import Job

log = logging.getLogger("DoJobber")

PASSED = Outcome.PASSED
PASSED_AFTER_RUN = Outcome.PASSED_AFTER_RUN
FAILED = Outcome.FAILED
BLOCKED = Outcome.BLOCKED


@dataclass
class RunResult:
    """Everything one run decided, as lists indexed like the Plan.

    Only the indices in ``order`` (the jobs the run reached) are meaningful.
    ``status`` is True (passed), False (failed) or None (never tried).
    """

    plan: Plan
    order: list[int]
    status: list[bool | None]
    outcome: list[Outcome]
    results: list[Any]
    errors: list[BaseException | None]
    tries: list[int]
    passes: int = 0
    interrupted: bool = False

    @property
    def success(self) -> bool:
        """True when every job the run reached passed."""
        status = self.status
        return all(status[i] is True for i in self.order)


class Scheduler:
    """Runs a Plan in the contract's order: passes of depth-first post-order.

    ``clock`` and ``sleep`` are injectable so tests can use a fake clock.
    ``instances`` collects (name, job) pairs whose class has a Cleanup, in
    creation order; ``cleanup()`` drains it newest first.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        no_act: bool = False,
        observers: Sequence[Observer] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        instances: list[tuple[str, Job]] | None = None,
    ):
        self.plan = plan
        self.no_act = no_act
        self.events = Dispatch(observers)
        self.clock = clock
        self.sleep = sleep
        self.instances: list[tuple[str, Job]] = [] if instances is None else instances
        self.result: RunResult | None = None
        self._has_cleanup = [callable(getattr(c, "Cleanup", None)) for c in plan.classes]

    def run(
        self, start: int, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> RunResult:
        """One full run from job index ``start``; always restores the cwd."""
        plan = self.plan
        n = len(plan)
        order = plan.order_from(start)
        result = RunResult(
            plan, order, [None] * n, [BLOCKED] * n, [None] * n, [None] * n, [0] * n
        )
        self.result = result
        for notify in self.events.run_started:
            notify([plan.names[i] for i in order])
        try:
            cwd: str | None = os.getcwd()
        except OSError:
            # Called from a directory that was deleted: none to return to.
            cwd = None
        try:
            self._passes(result, cwd, args, kwargs)
        except KeyboardInterrupt:
            result.interrupted = True
            raise
        finally:
            _restore_cwd(cwd)
            for notify in self.events.run_ended:
                notify(result)
        return result

    def _passes(
        self, result: RunResult, cwd: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        plan = self.plan
        deps, budgets, delays = plan.deps, plan.tries, plan.delays
        status, tries = result.status, result.tries
        clock, sleep = self.clock, self.sleep
        global_storage: dict[str, Any] = {}
        next_start: dict[int, float] = {}
        pending = result.order
        while True:
            for i in pending:
                if status[i] is True:
                    continue
                for dep in deps[i]:
                    if status[dep] is not True:
                        break
                else:
                    if tries[i] >= budgets[i]:
                        continue
                    now = clock()
                    wait_until = next_start.get(i)
                    if wait_until is not None and wait_until > now:
                        sleep(wait_until - now)
                        now = clock()
                    next_start[i] = now + delays[i]
                    tries[i] += 1
                    self._try(i, result, cwd, args, kwargs, global_storage)
            result.passes += 1
            pending = [i for i in pending if status[i] is not True]
            if not pending or self.no_act:
                return
            if not any(status[i] is False and tries[i] < budgets[i] for i in pending):
                return

    def _try(
        self,
        i: int,
        result: RunResult,
        cwd: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        global_storage: dict[str, Any],
    ) -> None:
        """One try of job ``i``: create it, Check, and if needed Run and recheck."""
        name = self.plan.names[i]
        events = self.events
        for notify in events.try_started:
            notify(name, result.tries[i])
        try:
            job = self.plan.classes[i]()
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            log.error('Could not create Job "%s" - check its __init__', name)
            for notify in events.not_created:
                notify(name, error)
            return self._end(i, result, FAILED, None, error)
        job.storage = {}
        job.global_storage = global_storage
        job._check_phase = "check"
        if self._has_cleanup[i]:
            self._remember(i, name, job)

        # cwd is None in parallel runs: a chdir there would move the jobs
        # running in other threads (see dojobber/parallel.py).
        if cwd is not None:
            try:
                os.chdir(cwd)
            except OSError as error:
                for notify in events.phase_ended:
                    notify(name, "check", error)
                return self._end(i, result, FAILED, None, error)

        try:
            value = job._check_results = job.Check(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            job._check_exception = error
            for notify in events.phase_ended:
                notify(name, "check", error)
            if self.no_act:
                return self._end(i, result, FAILED, None, error)
        else:
            for notify in events.phase_ended:
                notify(name, "check", None)
            return self._end(i, result, PASSED, value, None)

        # Run's outcome is deliberately ignored: only the recheck decides.
        run_error: BaseException | None = None
        try:
            job._run_results = job.Run(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            run_error = job._run_exception = error
        for notify in events.phase_ended:
            notify(name, "run", run_error)

        job._check_phase = "recheck"
        try:
            value = job._recheck_results = job.Check(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            job._recheck_exception = error
            for notify in events.phase_ended:
                notify(name, "recheck", error)
            return self._end(i, result, FAILED, None, error)
        for notify in events.phase_ended:
            notify(name, "recheck", None)
        return self._end(i, result, PASSED_AFTER_RUN, value, None)

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
        result.status[i] = outcome is not FAILED
        result.outcome[i] = outcome
        result.results[i] = value
        result.errors[i] = error
        for notify in self.events.try_ended:
            notify(self.plan.names[i], outcome, error)

    def cleanup(self) -> None:
        """Call Cleanup on every remembered instance, newest first, once each.

        A Cleanup that raises stops the rest; they stay pending for the next
        call, and the exception propagates.
        """
        events = self.events
        instances = self.instances
        while instances:
            name, job = instances.pop()
            for notify in events.cleanup_started:
                notify(name)
            try:
                job.Cleanup()  # type: ignore[attr-defined]
            except BaseException as error:
                for notify in events.cleanup_ended:
                    notify(name, error)
                raise
            for notify in events.cleanup_ended:
                notify(name, None)


def _restore_cwd(cwd: str | None) -> None:
    if cwd is None:
        return
    try:
        os.chdir(cwd)
    except OSError as error:
        # A job removed the directory the run started in; the results are
        # still worth returning, so report it rather than raise.
        log.warning("Could not return to %s: %s", cwd, error)
