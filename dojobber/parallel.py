"""The parallel engine: runs a Plan's independent jobs at once in worker threads."""

from __future__ import annotations

import logging
import os
import threading
from heapq import heappop, heappush
from operator import itemgetter
from time import sleep as _sleep
from typing import Any

from .jobs import Job
from .plan import Plan
from .results import RunResult
from .scheduler import Scheduler
from .settings import check_workers

log = logging.getLogger("DoJobber")


class ParallelScheduler(Scheduler):
    """Runs up to ``workers`` tries at once, each in a worker thread.

    Same tries, delays, statuses and events as the sequential Scheduler, whose
    one-try logic (``_try``) it reuses; only the order differs: a job starts
    as soon as all of its dependencies passed and a worker is free, and a
    failed job waits out its RETRY_DELAY without holding a worker.

    The working directory is not changed before each try (that would move the
    jobs running in other threads); ``run`` restores it before and after.
    """

    def __init__(self, plan: Plan, *, workers: int, **options: Any):
        super().__init__(plan, **options)
        self.workers = check_workers(workers)
        self._run: _Run | None = None

    def _passes(
        self,
        result: RunResult,
        cwd: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        run = self._run = _Run(self, result, args, kwargs)
        try:
            run.execute()
        finally:
            self._run = None
            # There are no passes here; report the most tries any job had,
            # the number of rounds a sequential run would have needed at least.
            result.passes = max((result.tries[i] for i in result.order), default=0)
            # Cleanup is LIFO by the start of the tries, not by the moment a
            # worker thread happened to create the instance.
            run.made.sort(key=itemgetter(0))
            self.instances.extend((name, job) for _, name, job in run.made)
            _warn_if_moved(cwd)

    def _remember(self, i: int, name: str, job: Job) -> None:
        run = self._run
        assert run is not None
        run.made.append((run.seq[i], name, job))


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
    """The shared state of one parallel run, guarded by one lock.

    Worker threads take ready jobs and, after each try, release the jobs
    that were waiting for it. The calling thread only waits: it moves jobs
    whose retry delay ran out back to the ready heap, detects the end, and
    is the thread that receives KeyboardInterrupt.
    """

    def __init__(
        self,
        scheduler: ParallelScheduler,
        result: RunResult,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ):
        plan = scheduler.plan
        self.scheduler = scheduler
        self.result = result
        self.args = args
        self.kwargs = kwargs
        self.global_storage: dict[str, Any] = {}
        n = len(plan)
        order = result.order
        self.n = n
        self.order = order
        dep_start = plan.dep_start
        # Jobs not reached by this run have position -1 and are never readied.
        position = plan.positions(order)
        waiting = [0] * n
        ready: list[int] = []
        for k, i in enumerate(order):
            waiting[i] = dep_start[i + 1] - dep_start[i]
            if not waiting[i]:
                ready.append(k)  # ascending, so already a heap
        self.position = position
        self.waiting = waiting
        self.first_dependent, self.dependents = plan.dependents
        # Heap keys are tries * n + position: first tries go before retries,
        # as in the sequential passes, and otherwise the run order decides.
        self.ready = ready
        self.delayed: list[tuple[float, int]] = []  # (next allowed start, key)
        self.started = [0.0] * n
        self.seq = [0] * n
        self.count = 0
        self.made: list[tuple[int, str, Job]] = []
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
        count = min(self.scheduler.workers, len(self.order))
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
                return
            except KeyboardInterrupt:
                pass  # a second Ctrl-C: still stopping, try again

    def _wait(self) -> None:
        clock, sleep = self.scheduler.clock, self.scheduler.sleep
        ready, delayed = self.ready, self.delayed
        with self.lock:
            while not self.stop and (self.running or ready or delayed):
                if not delayed:
                    self.main.wait()
                    continue
                now = clock()
                if delayed[0][0] <= now:
                    while delayed and delayed[0][0] <= now:
                        heappush(ready, heappop(delayed)[1])
                    self.work.notify(len(ready))
                    continue
                delta = delayed[0][0] - now
                if self.running or ready:
                    self.main.wait(min(delta, threading.TIMEOUT_MAX))
                else:
                    # Nothing runs, so nothing needs the lock meanwhile: sleep
                    # the way the sequential engine does (an injected sleep
                    # works too; Ctrl-C interrupts it).
                    sleep(delta)
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
        try_ = self.scheduler._executor()
        result, args, kwargs = self.result, self.args, self.kwargs
        global_storage = self.global_storage
        lock = self.lock
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
            try_(i, result, None, args, kwargs, global_storage)

    def _take(self) -> int:
        """The next job to try (lock held), or -1 when this worker should end."""
        ready = self.ready
        while not (self.stop or self.done):
            if ready:
                i = self.order[heappop(ready) % self.n]
                self.running += 1
                self.result.tries[i] += 1
                self.started[i] = self.scheduler.clock()
                self.seq[i] = self.count
                self.count += 1
                if ready and self.idle:
                    self.work.notify()
                return i
            self.idle += 1
            self.work.wait()
            self.idle -= 1
        return -1

    def _finish(self, i: int) -> None:
        """Account for the end of a try of job ``i`` (lock held)."""
        self.running -= 1
        result = self.result
        if result.status[i] is True:
            waiting, position, ready = self.waiting, self.position, self.ready
            first = self.first_dependent
            for dependent in self.dependents[first[i]:first[i + 1]]:
                waiting[dependent] -= 1
                if not waiting[dependent] and position[dependent] >= 0:
                    heappush(ready, position[dependent])
        else:
            scheduler = self.scheduler
            plan = scheduler.plan
            tries = result.tries[i]
            if not scheduler.no_act and tries < plan.tries[i]:
                key = tries * self.n + self.position[i]
                backoff = plan.backoff
                due = self.started[i] + (
                    scheduler._retry_delay(i, tries) if backoff and i in backoff
                    else plan.delays[i]
                )
                if due <= scheduler.clock():
                    heappush(self.ready, key)
                else:
                    heappush(self.delayed, (due, key))
                    self.main.notify()
            elif scheduler.fail_fast and result.stopped_by is None:
                # Start nothing new; the tries running now still finish.
                result.stopped_by = i
                self.stop = True
                self.work.notify_all()
                self.main.notify()
        if not self.running and not self.ready:
            self.main.notify()


_SPINS = 100  # yields before _acquire blocks; a critical section is a few lines


def _acquire(lock: threading.Lock) -> None:
    """Take ``lock``, yielding the GIL while another thread holds it.

    A blocking acquire hands the lock, on release, to a thread that then
    still has to wait for the GIL; with several workers busy on quick jobs
    every acquire turns into a pair of context switches (a lock convoy).
    Yielding lets the holder finish its few lines instead. After a while
    (a holder that really waits), block as usual.
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
