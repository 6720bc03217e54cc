"""The thread engine: up to ``workers`` tries at once, each in a worker thread.

Same tries, delays, statuses and events as the sequential engine: the
ready-set decides what may start (as soon as may, ready.py) and ``Try``
makes each try; this adds only the threads and one lock around the
ready-set. A failed job waits out its RETRY_DELAY without holding a worker.

The working directory is not changed before each try (that would move the
jobs running in other threads); the run restores it before and after.
"""

from __future__ import annotations

import logging
import os
import threading
from operator import itemgetter
from time import sleep as _sleep
from typing import Any, Callable

from ..events import Dispatch
from ..jobs import Job
from ..plan import Plan
from ..results import RunResult
from ..settings import check_workers
from .ready import ReadySet
from .sequential import Engine
from .trying import Outcomes, TryFunction

log = logging.getLogger("DoJobber")


class Threads(Engine):
    """Runs up to ``workers`` tries at once: a job starts as soon as all of
    its dependencies passed and a worker is free."""

    def __init__(self, plan: Plan, *, workers: int, **options: Any):
        super().__init__(plan, **options)
        self.workers = check_workers(workers)

    def sink(self, result: RunResult) -> StartOrder:
        return StartOrder(result, self.events, self.instances)

    def tries_cwd(self, cwd: str | None) -> str | None:
        return None  # a chdir would move the tries running in other threads

    def make_tries(
        self, ready: ReadySet, try_: TryFunction, sink: Outcomes, cwd: str | None
    ) -> None:
        assert isinstance(sink, StartOrder)
        result = ready.result
        try:
            self.execute(ready, try_, sink)
        finally:
            # There are no passes here; report the most tries any job had,
            # the number of rounds a sequential run would have needed at least.
            result.passes = max((result.tries[i] for i in result.order), default=0)
            sink.settle()
            _warn_if_moved(cwd)


    def execute(self, ready: ReadySet, try_: TryFunction, sink: StartOrder) -> None:
        """Make every try the ready-set gives, up to ``workers`` at once: in
        worker threads, each calling ``try_``."""
        _Run(ready, try_, sink, self.workers, self.place.stop).execute()


class StartOrder(Outcomes):
    """The thread engine's sink: instances are kept for Cleanup in the order
    their tries started, not the moment a worker thread made them (Cleanup
    is LIFO by start)."""

    def __init__(
        self, result: RunResult, events: Dispatch, instances: list[tuple[str, Job]]
    ):
        super().__init__(result, events, instances)
        #: Per job, how many tries of the run started before its latest one.
        self.seq = [0] * len(result.plan)
        self.made: list[tuple[int, str, Job]] = []

    def keep(self, i: int, name: str, job: Job) -> None:
        self.made.append((self.seq[i], name, job))  # list.append is atomic

    def settle(self) -> None:
        """The run is over: its instances onto the Cleanup list, in start order."""
        self.made.sort(key=itemgetter(0))
        self.instances.extend((name, job) for _, name, job in self.made)
        self.made = []


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


class _Run:
    """The shared state of one run in threads, guarded by one lock.

    Worker threads take ready jobs and, after each try, tell the ready-set
    it is done. The calling thread only waits: it moves jobs whose retry
    delay ran out back to the ready ones, detects the end, and is the
    thread that receives KeyboardInterrupt.
    """

    def __init__(self, ready: ReadySet, try_: TryFunction, sink: StartOrder, workers: int,
                 stop_place: Callable[[], None]):
        self.ready = ready
        self.stop_place = stop_place
        self.try_ = try_
        self.sink = sink
        self.workers = workers
        ready.open()
        self.started = 0  # tries started so far
        self.running = 0
        self.idle = 0
        self.done = False
        self.stop = False
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.work = threading.Condition(self.lock)
        self.main = threading.Condition(self.lock)

    def execute(self) -> None:
        """Run every job to its end; re-raise what stopped the run, if anything."""
        count = min(self.workers, len(self.ready.result.order))
        threads: list[threading.Thread] = []
        try:
            for k in range(count):
                thread = threading.Thread(
                    target=self._work, name=f"dojobber-worker-{k}", daemon=True
                )
                # Listed before it starts, so an interrupt here still waits for it.
                threads.append(thread)
                thread.start()
            self._wait()
        except BaseException:
            # Ctrl-C (or anything else) in the calling thread: start nothing
            # new and let the running tries end before it propagates.
            self._stop_all()
            _join(threads)
            raise
        _join(threads)
        if self.error is not None:
            raise self.error

    def _stop_all(self) -> None:
        while True:
            try:
                with self.lock:
                    self.stop = True
                    self.work.notify_all()
                self.stop_place()  # tries waiting on an executor end too
                return
            except KeyboardInterrupt:
                pass  # a second Ctrl-C: still stopping, try again

    def _wait(self) -> None:
        ready = self.ready
        clock, sleep = ready.clock, ready.sleep
        with self.lock:
            while not self.stop and (self.running or ready.ready or ready.delayed):
                due = ready.next_due()
                if due is None:
                    self.main.wait()
                    continue
                now = clock()
                if due <= now:
                    ready.promote(now)
                    self.work.notify(len(ready.ready))
                    continue
                if self.running or ready.ready:
                    self.main.wait(min(due - now, threading.TIMEOUT_MAX))
                else:
                    # Nothing runs, so nothing needs the lock meanwhile: sleep
                    # the way the sequential engine does (an injected sleep
                    # works too; Ctrl-C interrupts it).
                    sleep(due - now)
            self.done = True
            self.work.notify_all()

    def _work(self) -> None:
        try:
            self._work_loop()
        except BaseException as error:
            # KeyboardInterrupt from a job or an observer, or an injected
            # clock that raised (observers' other errors never get here):
            # stop the run as Ctrl-C would; the calling thread re-raises it.
            with self.lock:
                if self.error is None:
                    self.error = error
                self.stop = True
                self.work.notify_all()
                self.main.notify()

    def _work_loop(self) -> None:
        try_, lock = self.try_, self.lock
        i = -1
        while True:
            _acquire(lock)
            try:
                if i >= 0:
                    self._finish(i)
                i = self._take()
                if i < 0:
                    return
            finally:
                lock.release()
            try_(i)

    def _take(self) -> int:
        """The next job to try (lock held), or -1 when this worker should end."""
        ready = self.ready
        while not (self.stop or self.done):
            i = ready.take()
            if i >= 0:
                self.running += 1
                self.sink.seq[i] = self.started
                self.started += 1
                if ready.ready and self.idle:
                    self.work.notify()
                return i
            self.idle += 1
            self.work.wait()
            self.idle -= 1
        return -1

    def _finish(self, i: int) -> None:
        """Account for the end of a try of job ``i`` (lock held)."""
        self.running -= 1
        ready = self.ready
        delayed = len(ready.delayed)
        if ready.done(i):
            # Fail-fast: start nothing new; the tries running now still finish.
            self.stop = True
            self.work.notify_all()
            self.main.notify()
        elif len(ready.delayed) > delayed:
            self.main.notify()  # a new retry delay to wait out
        if not self.running and not ready.ready:
            self.main.notify()


_SPINS = 100  # yields before _acquire blocks; a critical section is a few lines


def _acquire(lock: threading.Lock) -> None:
    """Take ``lock``, yielding the GIL while another thread holds it.

    A blocking acquire hands the lock, on release, to a thread that then
    still has to wait for the GIL; with several workers busy on quick jobs
    every acquire turns into a pair of context switches (a lock convoy).
    Yielding lets the holder finish its few lines instead. After a while
    (a holder that really waits), block as usual. (benchmarks/bench_parallel.py,
    20,000 passing jobs, CPU time of workers=4 over workers=1: 2.82x, median
    4.52x, with a plain acquire; 1.64x, median 1.65x, with this.)
    """
    acquire = lock.acquire
    if acquire(False):
        return
    for _ in range(_SPINS):
        _sleep(0)
        if acquire(False):
            return
    acquire()


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        while thread.is_alive():
            try:
                thread.join()
            except KeyboardInterrupt:
                # Already stopping; the tries still running cannot be
                # interrupted from here, so keep waiting for them.
                pass
