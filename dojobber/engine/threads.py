"""The thread engine: up to ``workers`` tries at once, each in a worker thread.

Same run loop, tries, delays, statuses and events as the sequential
engine (sequential.py): the ready-set decides what may start (as soon as
may, ready.py) and ``Try`` makes each try; this adds only the threads and
one lock around the ready-set. A failed job waits out its RETRY_DELAY
without holding a worker.
"""

from __future__ import annotations

import threading
from time import sleep as _sleep
from typing import Any

from ..plan import Plan
from ..settings import check_workers
from .ready import ReadySet
from .sequential import Engine, InProcess
from .trying import Try, TryFunction


class Threads(Engine):
    """Runs up to ``workers`` tries at once, each in a worker thread of this
    process: a job starts as soon as all of its dependencies passed and a
    worker is free."""

    in_passes = False

    def __init__(self, plan: Plan, *, workers: int, **options: Any):
        super().__init__(plan, **options)
        self.workers = check_workers(workers)

    def make_tries(self, ready: ReadySet, tries: Try) -> None:
        _Run(ready, InProcess().open(tries), self.workers).execute()


class _Run:
    """The shared state of one run in threads, guarded by one lock.

    Worker threads take ready jobs and, after each try, tell the ready-set
    it is done. The calling thread only waits: it moves jobs whose retry
    delay ran out back to the ready ones, detects the end, and is the
    thread that receives KeyboardInterrupt.
    """

    def __init__(self, ready: ReadySet, try_: TryFunction, workers: int):
        self.ready = ready
        self.try_ = try_
        self.workers = workers
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
