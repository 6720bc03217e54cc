"""The executor of a run, replaced when it breaks, and the wait for each try's answer."""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from ..errors import ExecutorError, JobTimeoutError, WorkerLostError
from ..stopping import HELD
from .starts import Start, Starts, listening_host
from .worker import run_try, why

log = logging.getLogger("DoJobber")

#: Seconds past a try's TIMEOUT after which the caller stops waiting for it.
#: The worker enforces TIMEOUT itself; this is for a try that defeats that
#: (blocks the alarm, or never returns to Python code).
STUCK_AFTER = 5.0

#: Seconds a broken pool whose workers were all stopped by a signal waits
#: for the run to be stopped too before it is replaced: SIGTERM or Ctrl-C
#: to the process group reaches the workers and this process in no
#: particular order.
STOP_GRACE = 1.0

#: Seconds a stopping run waits for the answers of its tries in flight
#: before it cancels those it can (sending.py): a try that a signal to the
#: process group cut short answers at once, but one on Dask runs on in a
#: thread that no signal reaches.
STOP_WAIT = 5.0

#: How a worker stopped from outside ends: by the signals a process group
#: gets from a terminal, systemd or a shell (the pool's own clean-up of a
#: broken pool sends SIGTERM to the workers left), or with 255, what a
#: forkserver pool reports for a worker whose forkserver was stopped before
#: it could say how the worker ended.
_STOPPED = frozenset({-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP, 255})


class Pool:
    """The run's executor, replaced when it breaks (a worker process died).

    A broken ``ProcessPoolExecutor`` fails every try it had, running or
    queued, not only the one whose process died, and cannot say which it
    was. So the tries it had are sent again, each alone on a new pool: one
    that breaks the pool when alone failed with WorkerLostError; the others
    get their result as if nothing happened (a try is only counted once).
    A try is counted in flight on its pool from its submit until its
    future is done; one that broke with its pool stays counted on it, so
    that each try that broke with it knows whether it was alone.

    Once the run is stopping (``stop``), nothing is sent, again or anew: a
    try waiting for its answer ends with KeyboardInterrupt, as the run does.
    """

    def __init__(self, executor: Executor, clock: Callable[[], float] = time.monotonic):
        self.executor = executor
        self.clock = clock
        self.generation = 0
        self.made: list[Executor] = []  # replacements, shut down at the end of the run
        self.state = threading.Condition()
        self.running = 0  # tries submitted and not returned, outside of isolation
        self.alone = False  # a try runs alone
        self.queued_alone = 0
        self.in_flight: dict[int, int] = {}  # generation -> tries it has not returned
        self.stopping = threading.Event()
        #: Hears tries with a TIMEOUT start in their workers (made when first needed).
        self.starts: Starts | None = None
        self.deaf = False  # no socket could be opened for ``starts``
        # What may still give an answer: the futures whose callback has not
        # ended, and the threads that wait for a try. Set operations, so the
        # callbacks' threads need no lock (see ``busy``).
        self.live: set[Future[bytes]] = set()
        self.waiters: set[threading.Thread] = set()

    def stop(self) -> None:
        """The run is stopping (Ctrl-C, SIGTERM): send no try from now on."""
        self.stopping.set()

    def cancel(self) -> None:
        """Cancel the tries in flight that the executor can still cancel
        (queued on a process pool; any task of Dask's, running or not:
        Dask cannot cut a running task short). A cancelled try, like one
        whose worker died, is interrupted once the run is stopping."""
        for future in list(self.live):
            future.cancel()

    def busy(self) -> bool:
        """Whether a try sent may still give its answer. False once every
        answer was given: a stopping run's last word on what it waits for,
        since a second Ctrl-C can take an answer from its queue before the
        run counted it (see sending.py)."""
        return bool(self.live) or any(thread.is_alive() for thread in list(self.waiters))

    def close(self) -> None:
        if self.starts is not None:
            self.starts.close()
            self.starts = None
        for executor in self.made:
            executor.shutdown(wait=True)
        self.made.clear()

    def run(self, task: bytes, name: str, limit: float | None) -> bytes:
        """Send ``task`` and wait for its answer (when the job has a TIMEOUT,
        at most ``limit`` and STUCK_AFTER seconds from when the worker said
        the try started: a try waiting for a worker is not late)."""
        if self.stopping.is_set():
            raise KeyboardInterrupt
        with self._shared():
            sent = self._submit(task, name, limit)
            try:
                return self._await(sent, name, limit)
            except BrokenExecutor:
                pass
        return self._again(sent.generation, task, name, limit)

    def send(self, task: bytes, name: str, limit: float | None, answered: Answered) -> None:
        """Send ``task`` without waiting: ``answered`` gets its answer (the
        bytes, or the exception ``run`` would raise) once, from another
        thread. A try with a TIMEOUT, and one whose pool broke, is waited
        for in a thread of its own, as ``run`` waits; the others need none
        (see sending.py for what a thread per try costs)."""
        if limit is not None:
            self._in_thread(lambda: self.run(task, name, limit), answered, name)
            return
        if self.stopping.is_set():
            raise KeyboardInterrupt
        with self.state:
            while self.alone or self.queued_alone:
                self.state.wait()
            self.running += 1
        try:
            self._submit(task, name, None, functools.partial(self._answered, task, name, answered))
        except BaseException:
            self._shared_ended()
            raise

    def _answered(
        self, task: bytes, name: str, answered: Answered, generation: int, future: Future[bytes]
    ) -> None:
        # Called by the executor as the future is done: it must not wait.
        self._shared_ended()
        try:
            answer = _answer(future, name, None, self.stopping)
        except BrokenExecutor:
            self._in_thread(lambda: self._again(generation, task, name, None), answered, name)
        except BaseException as error:
            answered(error)
        else:
            answered(answer)

    def _again(self, generation: int, task: bytes, name: str, limit: float | None) -> bytes:
        """The answer to a try whose pool (``generation``) broke under it:
        the pool replaced, the try sent again alone, unless it was alone
        already."""
        with self.state:
            # The pool's other tries stay counted: they broke with it.
            alone = self.in_flight[generation] == 1
        self._unless_stopping(generation)
        self._renew(generation, name)
        if alone:
            raise WorkerLostError(_lost(name), name)
        with self._isolated():
            if self.stopping.is_set():
                raise KeyboardInterrupt
            sent = self._submit(task, name, limit)
            try:
                return self._await(sent, name, limit)
            except BrokenExecutor:
                self._renew(sent.generation, name)
                raise WorkerLostError(_lost(name), name) from None

    def _await(self, sent: Sent, name: str, limit: float | None) -> bytes:
        """The answer to ``sent``; a try stuck past its TIMEOUT (and
        STUCK_AFTER) is abandoned and fails with JobTimeoutError."""
        start = sent.start
        try:
            if start is None:
                return _answer(sent.future, name, None, self.stopping)
            # Woken when the worker says the try started, or when it is done.
            sent.future.add_done_callback(lambda _: start.heard.set())
            start.heard.wait()
            wait = None
            if start.at is not None and not sent.future.done():
                wait = max(0.0, start.at + (limit or 0.0) + STUCK_AFTER - self.clock())
            return _answer(sent.future, name, wait, self.stopping)
        except _Stuck:
            self._abandon(sent.generation, sent.future, name)
            raise JobTimeoutError(name, "its try on the executor", limit or 0.0) from None
        finally:
            if start is not None and self.starts is not None:
                self.starts.forget(start)

    def _abandon(self, generation: int, future: Future[bytes], name: str) -> None:
        """Give up on a stuck try; its answer, if it ever comes, is dropped.

        The processes of a standard-library process pool are killed (the
        stuck one among them) and the pool replaced: the tries that were
        running beside it are sent again. Other executors cannot be told to
        stop a task: it keeps its worker busy until it ends by itself.
        """
        future.cancel()
        from concurrent.futures import ProcessPoolExecutor

        with self.state:
            executor = self.executor if generation == self.generation else None
        if executor is None:
            return  # that pool broke and was replaced already: its processes are gone
        if not isinstance(executor, ProcessPoolExecutor):
            log.warning("The try of Job \"%s\" is stuck past its TIMEOUT; it keeps "
                        "running on the executor", name)
            return
        kill = getattr(executor, "kill_workers", None)  # Python 3.14
        if callable(kill):
            kill()
        else:
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.kill()
        self._renew(generation, name)

    def _submit(
        self, task: bytes, name: str, limit: float | None,
        then: Callable[[int, Future[bytes]], None] | None = None,
    ) -> Sent:
        """Send ``task``, counted in flight on its pool until it is done
        (one that broke with its pool stays counted: see ``run``); ``then``
        is called as it is done, after that count, with the pool's
        generation and the future."""
        start = None if limit is None else self._expect()
        word = None if start is None else start.word
        for _ in range(2):
            with self.state:
                generation, executor = self.generation, self.executor
                self.in_flight[generation] = self.in_flight.get(generation, 0) + 1
            try:
                future = executor.submit(run_try, task, word)
            except BrokenExecutor:
                # Broke before this run, or between two tries: nothing ran.
                self._done(generation)
                self._unless_stopping(generation)
                self._renew(generation, name)
                continue
            except Exception as error:
                self._done(generation)
                if self.stopping.is_set() or HELD.pending is not None:
                    # The stop took the executor as it took the try (its
                    # forkserver, say): the try is interrupted, not failed.
                    raise KeyboardInterrupt from None
                raise ExecutorError(
                    f"the executor refused a try of job {name!r}: {why(error)}", name
                ) from error
            # One callback rather than two: each costs the executor's thread.
            # It holds no reference to the future (a Sent would): a future
            # kept alive in a cycle until the garbage collector comes keeps
            # a Dask task's key, and an equal task sent meanwhile is not
            # run but answered with the earlier result.
            self.live.add(future)
            future.add_done_callback(functools.partial(self._ended, generation, then))
            return Sent(generation, future, start)
        raise ExecutorError(f"the executor breaks at once for job {name!r}", name)

    def _ended(
        self, generation: int, then: Callable[[int, Future[bytes]], None] | None,
        future: Future[bytes],
    ) -> None:
        # Called by the executor as the future gets its result, before it
        # goes on: a try that ended before its pool broke is no longer
        # counted when the tries that broke with it ask who was there.
        try:
            if future.cancelled() or not isinstance(future.exception(), BrokenExecutor):
                self._done(generation)
            if then is not None:
                then(generation, future)
        finally:
            self.live.discard(future)  # after ``then`` gave its answer

    def _in_thread(self, wait: Callable[[], bytes], answered: Answered, name: str) -> None:
        """Call ``wait`` in a thread of its own; what it returns or raises to ``answered``."""

        def target() -> None:
            try:
                answer: bytes | BaseException = wait()
            except BaseException as error:
                answer = error
            answered(answer)

        thread = threading.Thread(target=target, name=f"dojobber-wait-{name}", daemon=True)
        thread.start()
        self.waiters.add(thread)
        self.waiters.difference_update([t for t in list(self.waiters) if not t.is_alive()])

    def _done(self, generation: int) -> None:
        with self.state:
            self.in_flight[generation] -= 1

    def _expect(self) -> Start | None:
        """A Start for a try with a TIMEOUT: None where the workers cannot
        be heard (no socket here), and then the try has no backstop."""
        with self.state:
            if self.starts is None and not self.deaf:
                try:
                    self.starts = Starts(listening_host(self.executor), self.clock)
                except OSError as error:
                    self.deaf = True
                    log.warning("Cannot listen for tries starting on the executor (%s): "
                                "a try stuck past its TIMEOUT there is waited for", error)
            starts = self.starts
        return None if starts is None else starts.expect()

    def _unless_stopping(self, generation: int) -> None:
        """Raise KeyboardInterrupt rather than replace a broken pool when the
        run is stopping, or is about to: the pool's workers were all
        stopped by a signal, most likely with this process's group."""
        if not self.stopping.is_set():
            with self.state:
                executor = self.executor if generation == self.generation else None
            if executor is None or not _stopped_from_outside(executor):
                return
            if not self.stopping.wait(STOP_GRACE):
                return  # only the workers were stopped: replace them
        raise KeyboardInterrupt

    def _renew(self, generation: int, name: str) -> None:
        with self.state:
            if generation != self.generation:
                return  # another try renewed it already
            try:
                executor = _replacement(self.executor)
            except Exception as error:
                raise ExecutorError(
                    f"the executor is broken and cannot be replaced (job {name!r}): "
                    f"{why(error)}", name
                ) from error
            self.executor = executor
            self.made.append(executor)
            self.generation += 1
            log.warning("A worker process died or was stopped; the process pool was replaced")

    @contextmanager
    def _shared(self) -> Iterator[None]:
        with self.state:
            while self.alone or self.queued_alone:
                self.state.wait()
            self.running += 1
        try:
            yield
        finally:
            self._shared_ended()

    def _shared_ended(self) -> None:
        with self.state:
            self.running -= 1
            self.state.notify_all()

    @contextmanager
    def _isolated(self) -> Iterator[None]:
        with self.state:
            self.queued_alone += 1
            while self.alone or self.running:
                self.state.wait()
            self.queued_alone -= 1
            self.alone = True
        try:
            yield
        finally:
            with self.state:
                self.alone = False
                self.state.notify_all()


#: What gets a try's answer: the answer's bytes, or what ended the try.
Answered = Callable[["bytes | BaseException"], None]


class Sent:
    """A try sent: the pool it went to, its future, and its Start (None
    when it has no TIMEOUT)."""

    __slots__ = ("generation", "future", "start")

    def __init__(self, generation: int, future: Future[bytes], start: Start | None):
        self.generation = generation
        self.future = future
        self.start = start


class _Stuck(Exception):
    """A try did not come back in time (its TIMEOUT and STUCK_AFTER)."""


def _answer(
    future: Future[bytes], name: str, wait: float | None, stopping: threading.Event
) -> bytes:
    """The future's result within ``wait`` seconds (None: no limit), else _Stuck.

    BrokenExecutor and KeyboardInterrupt pass; the rest (cancelled, a
    worker lost as the executor reports it) is an ExecutorError, or
    KeyboardInterrupt once the run is ``stopping``: the stop cancelled the
    try, or took its worker.
    """
    try:
        return future.result(wait)
    except FutureTimeout:
        raise _Stuck() from None
    except (BrokenExecutor, KeyboardInterrupt):
        raise
    except Exception as error:
        if stopping.is_set():
            raise KeyboardInterrupt from None
        if isinstance(error, CancelledError):
            raise ExecutorError(
                f"the executor cancelled the try of job {name!r}", name) from error
        raise ExecutorError(
            f"the executor could not run the try of job {name!r}: {why(error)}", name
        ) from error


def _lost(name: str) -> str:
    return (f"the worker process running the try of job {name!r} died "
            "(os._exit, a signal or out of memory) before the try ended")


def _stopped_from_outside(executor: Executor) -> bool:
    """Whether every worker process of ``executor`` that has ended was
    stopped by SIGTERM, SIGINT or SIGHUP, or with its forkserver (not one
    that exited, crashed or was killed by the kernel)."""
    # A private attribute of the standard library's pool, read with care.
    processes = getattr(executor, "_processes", None)
    if not isinstance(processes, dict):
        return False
    ended = [process.exitcode for process in list(processes.values())
             if process.exitcode is not None]
    return bool(ended) and all(code in _STOPPED for code in ended)


def _replacement(executor: Executor) -> Executor:
    """A new pool like ``executor``: only process pools are known how to
    make, of its own class where that takes the same arguments (one that
    changes only how tries are sent, as ``dojobber run``'s, which starts
    each worker with the stops held back)."""
    from concurrent.futures import ProcessPoolExecutor

    if not isinstance(executor, ProcessPoolExecutor):
        raise TypeError(f"DoJobber only replaces a ProcessPoolExecutor, not {executor!r}")
    kind = type(executor)
    if kind.__init__ is not ProcessPoolExecutor.__init__:
        kind = ProcessPoolExecutor
    # Private attributes, read with care: the pool keeps no public copy.
    options: dict[str, Any] = {
        "max_workers": getattr(executor, "_max_workers", None),
        "mp_context": getattr(executor, "_mp_context", None),
        "initializer": getattr(executor, "_initializer", None),
        "initargs": getattr(executor, "_initargs", ()),
    }
    per_child = getattr(executor, "_max_tasks_per_child", None)
    if per_child is not None:
        options["max_tasks_per_child"] = per_child
    return kind(**options)
