"""The executor engine's loop: one thread sends the ready tries and reports each answer as it comes.

The thread engine would give each try in flight a thread that waits for
its answer. On an executor that is the costly part: with 32 tries in
flight on a 2-process pool, 32 threads wake and take the GIL in turns.
Here the calling thread sends up to ``workers`` tries, and each answer
comes back to it through one queue, as a plain loop over
``executor.submit`` would do (600 no-op tries, 32 in flight, best of 7
taking turns on the shared 2-core machine: 110-177 us per try, against
184-239 us with a thread per try and 75-135 us through ``submit`` alone;
benchmarks/bench_overhead.py). The run loop, the ready-set, the sink and
the order of Cleanups are every engine's (sequential.py), the replay is
executor.py's. A try that must be waited for on its own (the backstop of its
TIMEOUT, a pool that broke under it) gets a thread from the pool.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from queue import Empty, SimpleQueue
from typing import Any

from ..plan import Plan
from ..settings import check_workers
from ..stopping import HELD
from .executor import Remote
from .pool import STOP_WAIT
from .ready import ReadySet
from .sequential import Engine
from .trying import Try

#: How often a stopping run looks whether its pool still owes answers (seconds).
DRAIN_POLL = 0.1
#: The longest a stop waits while the loop waits for an answer (seconds).
TAKE_POLL = 0.1


class Sending(Engine):
    """Up to ``workers`` tries at once on ``executor``, all sent and
    reported by the calling thread."""

    in_passes = False

    def __init__(self, plan: Plan, *, workers: int, executor: Executor, **options: Any):
        super().__init__(plan, **options)
        self.workers = check_workers(workers)
        self.executor = executor

    def make_tries(self, ready: ReadySet, tries: Try) -> None:
        remote = Remote(tries, self.executor)
        try:
            Loop(ready, remote, self.workers).execute()
        finally:
            remote.close()


class Loop:
    """One run's tries on the executor: sent, answered, reported, in one thread."""

    def __init__(self, ready: ReadySet, remote: Remote, workers: int):
        self.ready = ready
        self.remote = remote
        self.workers = workers
        #: ``(job, answer)`` of each try whose answer came: its bytes, or what ended it.
        self.answers: SimpleQueue[tuple[int, bytes | BaseException]] = SimpleQueue()
        self.in_flight = 0
        self.stopping = False  # fail_fast: nothing new starts

    def execute(self) -> None:
        """Every try to its end. On Ctrl-C, or a try that ended with
        KeyboardInterrupt, nothing new starts; the tries in flight are
        waited for and reported (their Cleanups run), then it propagates."""
        try:
            self._loop()
        except BaseException:
            self.remote.pool.stop()
            self._drain()
            raise

    def _loop(self) -> None:
        ready = self.ready
        while True:
            while not self.stopping and self.in_flight < self.workers:
                i = ready.take()
                if i < 0:
                    break
                self._send(i)
            if not self.in_flight:
                if self.stopping or not ready.delayed:
                    return
                # Nothing runs: sleep as the other engines do until the
                # first retry may start (an injected sleep works too).
                due = ready.next_due() or 0.0
                ready.sleep(max(0.0, due - ready.clock()))
                ready.promote(ready.clock())
                continue
            next_due = ready.next_due()
            if not self._report_next(None if next_due is None
                                     else max(0.0, next_due - ready.clock())):
                ready.promote(ready.clock())

    def _report_next(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds (None: for as long as it takes)
        for the next answer and report it; False when none came.

        An answer is taken and reported with the stops held
        (stopping.HELD): a Ctrl-C as ``get`` hands it over would take it
        away, its instance with it. The wait itself is in slices of
        TAKE_POLL seconds, so that a stop waits no longer than that.
        """
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = TAKE_POLL if end is None else min(TAKE_POLL, end - time.monotonic())
            with HELD:
                try:
                    i, answer = self.answers.get(timeout=max(0.0, wait))
                except Empty:
                    pass
                else:
                    self._report(i, answer)
                    return True
            if end is not None and time.monotonic() >= end:
                return False

    def _send(self, i: int) -> None:
        answers = self.answers
        # A stop waits until the try is sent and counted (stopping.HELD).
        with HELD:
            self.remote.send(i, lambda answer: answers.put((i, answer)))
            # Counted once sent: a try the stopping run did not send has no answer to wait for.
            self.in_flight += 1

    def _report(self, i: int, answer: bytes | BaseException) -> None:
        # A stop waits until the answer is recorded, its instance kept for its Cleanup.
        with HELD:
            self.in_flight -= 1
            try:
                self.remote.receive(i, answer)
            finally:
                if self.ready.done(i):
                    self.stopping = True  # fail_fast: the tries in flight still end

    def _drain(self) -> None:
        """Wait for the tries in flight and report them; a second Ctrl-C
        cannot cut this short (their instances still need their Cleanup).
        Those still in flight STOP_WAIT seconds after the stop are
        cancelled where the executor can cancel them (Dask's), and then
        reported interrupted.

        The count of tries in flight alone cannot say when to stop: where
        the stops are not held (Python's own Ctrl-C handler, outside the
        command), the interrupt that stopped the run can land as ``get``
        hands over an answer, before it is counted, and that answer is
        gone. So the wait ends too once the pool has no answer left to give.
        """
        pool = self.remote.pool
        cancel_at: float | None = time.monotonic() + STOP_WAIT
        while self.in_flight:
            try:
                if self._report_next(DRAIN_POLL):
                    continue
            except KeyboardInterrupt:
                continue  # the run is already stopping
            if cancel_at is not None and time.monotonic() >= cancel_at:
                cancel_at = None
                pool.cancel()
            elif not pool.busy() and self.answers.empty():
                return
