"""The run loop every engine shares (``Engine``), and the sequential engine over it.

A run makes a RunResult, tells the observers it starts, gives the jobs the
ready-set says may start to one ``Try`` each, and always returns to the
directory it started in. The engines are siblings over this loop, as
concurrent.futures' executors are over ``Executor``: each says only where
a try runs, in ``make_tries`` (``Sequential`` here, in this thread;
``Threads`` in threads.py; ``Sending`` in sending.py, to an executor).
"""

from __future__ import annotations

import logging
import os
import time
from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar, Sequence

from ..events import Dispatch, Observer
from ..jobs import Job
from ..plan import Plan
from ..results import RunResult
from .cleanup import clean_up
from .ready import ReadySet
from .trying import Outcomes, StartOrder, Try, TryFunction

log = logging.getLogger("DoJobber")


class InProcess:
    """Tries made in this process: ``Try`` itself or, when a job of the plan
    has a TIMEOUT, ``Try`` within the time limits (timelimit.py)."""

    def open(self, tries: Try) -> TryFunction:
        """The function that makes one try of a job, for the run ``tries`` is for."""
        if tries.result.plan.timeouts:
            # Loaded only for runs that need it: signals, threads.
            from .timelimit import within_limits

            return within_limits(tries)
        return tries.make


class Engine(ABC):
    """The run loop of every engine: a Plan run from one job, in the
    contract's order; a subclass says where each try runs (``make_tries``).

    ``clock`` and ``sleep`` are injectable so tests can use a fake clock
    (TIMEOUT is always measured in real time). ``fail_fast`` stops starting
    tries once a job failed with no tries left. ``instances`` collects
    (name, job) pairs of the instances that have a Cleanup, in the order
    their tries started; ``cleanup()`` drains it newest first.
    """

    #: True: one try at a time, in passes (ready.py), each phase of a try in
    #: the run's directory. False: tries start as soon as they may, several
    #: at once, so none may chdir; their instances are kept in start order.
    in_passes: ClassVar[bool]

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
    ):
        self.plan = plan
        self.no_act = no_act
        self.fail_fast = fail_fast
        self.events = Dispatch(observers)
        self.clock = clock
        self.sleep = sleep
        self.instances: list[tuple[str, Job]] = [] if instances is None else instances
        self.result: RunResult | None = None
        #: When set, asked after each pass of a run in passes (the sequential
        #: engine's; the others have no passes): a true answer ends the run
        #: there, as 0.6.2's ``if self.success(): break`` did. None (the
        #: usual) asks nothing.
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
            if self.in_passes:
                sink = Outcomes(result, events, self.instances)
                self.make_tries(ready, Try(result, events, sink, no_act=self.no_act, args=args,
                                           kwargs=kwargs, global_storage={}, cwd=cwd))
            else:
                self._make_tries_at_once(ready, args, kwargs, cwd)
        except KeyboardInterrupt:
            # The tries under way have ended or were left behind: those
            # with no outcome were cut short.
            result.mark_interrupted()
            raise
        finally:
            _restore_cwd(cwd)
            events.end_run(result)
        return result

    def _make_tries_at_once(self, ready: ReadySet, args: tuple[Any, ...],
                            kwargs: dict[str, Any], cwd: str | None) -> None:
        result = ready.result
        ready.open()
        sink = StartOrder(result, self.events, self.instances, ready.starts)
        # No directory for the tries: a chdir would move those running beside it.
        tries = Try(result, self.events, sink, no_act=self.no_act, args=args,
                    kwargs=kwargs, global_storage={}, cwd=None)
        try:
            self.make_tries(ready, tries)
        finally:
            # There are no passes here; report the most tries any job had,
            # the number of rounds a run in passes would have needed at least.
            result.passes = max((result.tries[i] for i in result.order), default=0)
            sink.settle()
            _warn_if_moved(cwd)

    @abstractmethod
    def make_tries(self, ready: ReadySet, tries: Try) -> None:
        """Make, through ``tries``, every try ``ready`` gives (in passes,
        iterating it; else by ``take`` and ``done``, ``ready`` opened), and
        return when none is left; on Ctrl-C, start nothing new, wait for the
        tries in flight (each reported) and let it propagate."""

    def cleanup(self) -> None:
        """Call Cleanup on every kept instance, newest first, once each
        (see cleanup.clean_up)."""
        clean_up(self.instances, self.events)


class Sequential(Engine):
    """One try at a time, in this thread, in passes of depth-first
    post-order (ready.py): 0.6.2's order."""

    in_passes = True

    def make_tries(self, ready: ReadySet, tries: Try) -> None:
        try_ = InProcess().open(tries)
        for i in ready:
            try_(i)


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


def _warn_if_moved(cwd: str | None) -> None:
    if cwd is None:
        return  # the run started in a deleted directory: nothing to compare
    try:
        moved = os.getcwd() != cwd
    except OSError:
        moved = True
    if moved:
        log.warning(
            "A job changed the working directory during a parallel run; "
            "jobs must not chdir when workers > 1 (restoring %s)",
            cwd,
        )
