"""The sequential engine, and what every engine shares: a run's start and end, its Cleanups.

A run makes a RunResult, tells the observers it starts, gives the jobs the
ready-set says may start to one ``Try`` each (through the run's place:
this process, or an executor), and always returns to the directory it
started in. The thread engine (threads.py) changes only how many tries
run at once.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Protocol, Sequence

from ..events import Dispatch, Observer
from ..jobs import Job
from ..plan import Plan
from ..results import RunResult
from .cleanup import clean_up
from .ready import ReadySet
from .trying import Outcomes, Try, TryFunction

log = logging.getLogger("DoJobber")


class Place(Protocol):
    """Where the tries of a run are made."""

    def open(self, tries: Try) -> TryFunction:
        """The function that makes one try of a job, for the run ``tries`` is for."""

    def close(self) -> None:
        """The run is over: release what ``open`` took."""

    def stop(self) -> None:
        """The run is stopping (Ctrl-C, SIGTERM): start no try from now on,
        and send none again."""


class InProcess:
    """Tries made in this process: ``Try`` itself or, when a job of the plan
    has a TIMEOUT, ``Try`` within the time limits (timelimit.py)."""

    def open(self, tries: Try) -> TryFunction:
        if tries.result.plan.timeouts:
            # Loaded only for runs that need it: signals, threads.
            from .timelimit import within_limits

            return within_limits(tries)
        return tries.make

    def close(self) -> None:
        pass

    def stop(self) -> None:
        pass  # a try in this process is interrupted where it is


class Engine:
    """Runs a Plan one try at a time, in the contract's order: passes of
    depth-first post-order (ready.py).

    ``clock`` and ``sleep`` are injectable so tests can use a fake clock
    (TIMEOUT is always measured in real time). ``fail_fast`` stops starting
    tries once a job failed with no tries left. ``instances`` collects
    (name, job) pairs of the instances that have a Cleanup, in the order
    their tries started; ``cleanup()`` drains it newest first.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        no_act: bool = False,
        observers: Sequence[Observer] = (),
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
        instances: list[tuple[str, Job]] | None = None,
        fail_fast: bool = False,
        place: Place | None = None,
    ):
        self.plan = plan
        self.no_act = no_act
        self.fail_fast = fail_fast
        self.events = Dispatch(observers)
        self.clock = clock
        self.sleep = sleep
        self.instances: list[tuple[str, Job]] = [] if instances is None else instances
        self.place: Place = InProcess() if place is None else place
        self.result: RunResult | None = None
        #: When set, asked after each pass of a run in passes (this engine's,
        #: not the threads'): a true answer ends the run there, as 0.6.2's
        #: ``if self.success(): break`` did. None (the usual) asks nothing.
        self.after_pass: Callable[[], object] | None = None

    def run(self, start: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> RunResult:
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
            ready = ReadySet(plan, result, no_act=self.no_act, fail_fast=self.fail_fast,
                             clock=self.clock, sleep=self.sleep, random=_random,
                             after_pass=self.after_pass)
            sink = self.sink(result)
            tries = Try(result, events, sink, no_act=self.no_act, args=args,
                        kwargs=kwargs, global_storage={}, cwd=self.tries_cwd(cwd))
            try_ = self.place.open(tries)
            try:
                self.make_tries(ready, try_, sink, cwd)
            finally:
                self.place.close()
        except KeyboardInterrupt:
            # The tries under way have ended or were left behind: those
            # with no outcome were cut short.
            result.mark_interrupted()
            self.place.stop()
            raise
        finally:
            _restore_cwd(cwd)
            events.end_run(result)
        return result

    def sink(self, result: RunResult) -> Outcomes:
        """Where this run's tries report."""
        return Outcomes(result, self.events, self.instances)

    def tries_cwd(self, cwd: str | None) -> str | None:
        """The directory each phase of a try starts in: the run's, since
        nothing else runs beside it."""
        return cwd

    def make_tries(
        self, ready: ReadySet, try_: TryFunction, sink: Outcomes, cwd: str | None
    ) -> None:
        """Make each try the ready-set gives, one after the other."""
        for i in ready:
            try_(i)

    def cleanup(self) -> None:
        """Call Cleanup on every kept instance, newest first, once each
        (see cleanup.clean_up)."""
        clean_up(self.instances, self.events)


def _random() -> float:
    # Looked up at each call, so that ``random.seed()`` gives repeatable
    # jitter; imported here, as only jitter needs it.
    import random

    return random.random()


def _restore_cwd(cwd: str | None) -> None:
    if cwd is None:
        return
    try:
        os.chdir(cwd)
    except OSError as error:
        # A job removed the directory the run started in; the results are
        # still worth returning, so report it rather than raise.
        log.warning("Could not return to %s: %s", cwd, error)
