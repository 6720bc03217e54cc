"""How a worker process takes Ctrl-C and SIGTERM: a try cut short, an idle worker gone quietly.

Ctrl-C at a terminal and systemd's stop reach every process of the group,
the pool's workers too, in no particular order. Python's own handling would
print a ``KeyboardInterrupt`` traceback from every idle worker and kill a
busy one on SIGTERM, its instance lost with it. With ``worker_signals``
installed (the pools ``dojobber run`` starts have it from the start, as
their initializer; any other process pool gets it with its first try):

- a worker in a try's job code (``in_job_code``) has the try cut short by
  KeyboardInterrupt, as Ctrl-C does in-process; the try ends
  ``interrupted`` and its instance goes back for its Cleanup;
- a stop that comes between tries makes the next try stop as it starts;
- a worker with nothing to do says nothing: it ends with its pool, which a
  stopping run shuts down, or LEAVE_AFTER seconds after the signal, by
  that signal's default action (so that its pool sees a worker stopped
  from outside). It does not leave at once: a worker that ends breaks its
  process pool, and the answer of the try cut short beside it would be
  lost with the pool.

A second signal ends the worker at once, silently: the user means it.

A worker still starting (a ``spawn`` or loky interpreter loading, before
its initializer runs) would have Python's own handling. A worker started
from a thread that blocks both signals (``quiet_start``) keeps them
blocked, hence pending, until its initializer has put its own handlers in
place: only then does it unblock them, and one that came meanwhile is then
taken quietly.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import AbstractContextManager, contextmanager
from types import FrameType
from typing import Any, Iterator

from ..stopping import signals_held_back

#: Seconds an idle worker outlives the signal that stopped its run.
LEAVE_AFTER = 3.0

_STOPS = (signal.SIGINT, signal.SIGTERM)


class _State:
    pid = 0  # the process whose handlers these are (a forked child is not it)
    in_job = False  # the main thread is in a try's job code
    stopped = False  # a signal came


_state = _State()


def worker_signals(*_: Any) -> None:
    """Make this worker process take SIGINT and SIGTERM as described above.

    Give it as the initializer of a pool you make yourself
    (``ProcessPoolExecutor(initializer=dojobber.executor.worker_signals)``,
    loky's too) so that its workers are quiet from the start; without it a
    worker gets it with its first try. Only a process that
    ``multiprocessing`` started, in its main thread, is changed: elsewhere
    (the calling process, a thread pool, a Dask worker's threads) this does
    nothing.
    """
    if _state.pid == os.getpid():
        return
    if threading.current_thread() is not threading.main_thread():
        return
    import multiprocessing

    if multiprocessing.parent_process() is None:
        return  # not a worker: the caller's own signals are not ours to take
    _state.pid = os.getpid()
    _state.in_job = _state.stopped = False
    for signum in _STOPS:
        signal.signal(signum, _stopped)
    _unblock()


def quiet_start() -> AbstractContextManager[None]:
    """A block in which the process pool workers this (main) thread starts
    start with SIGINT and SIGTERM blocked: one that comes while a worker
    starts waits in it until ``worker_signals``, its initializer, takes it
    quietly, and in this process until the block ends (never lost).
    Start a pool's workers in it (a no-op task per worker); the pools
    ``dojobber run`` starts do. Only for a pool with ``worker_signals`` as
    its initializer: a worker started in it without one keeps both signals
    blocked until its first try. Does nothing where signals cannot be
    blocked (Windows) or outside the main thread."""
    if threading.current_thread() is threading.main_thread() and _can_block():
        from multiprocessing import resource_tracker

        # Started now: the tracker multiprocessing starts with the first
        # process unblocks both signals in the thread that starts it.
        resource_tracker.ensure_running()
    return signals_held_back()


def _can_block() -> bool:
    return hasattr(signal, "pthread_sigmask")


def _unblock() -> None:
    """Let through the stops that a worker started with blocked (quiet_start):
    this process's handlers for them are in place."""
    if _can_block():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


def quiet_worker(*_: Any) -> None:
    """Have this process ignore SIGINT and SIGTERM: a Dask worker that the
    run started, whose tries run in threads a signal cannot reach; the run
    cancels its tasks and closes its cluster instead."""
    if threading.current_thread() is threading.main_thread():
        for signum in _STOPS:
            signal.signal(signum, signal.SIG_IGN)
        _unblock()


def dask_setup(worker: Any) -> None:
    """What Dask calls in each worker that preloads this module."""
    quiet_worker()


@contextmanager
def in_job_code() -> Iterator[None]:
    """While in this block, a stop raises KeyboardInterrupt here; one that
    came before raises it at once."""
    if _state.pid != os.getpid():
        yield  # not a worker of ours (a thread, the calling process)
        return
    if _state.stopped:
        raise KeyboardInterrupt
    _state.in_job = True
    try:
        yield
    finally:
        _state.in_job = False


def _stopped(signum: int, frame: FrameType | None) -> None:
    _state.stopped = True
    # From now on the default actions: a second signal ends the worker at
    # once, and so does the first one's, sent again when the time is up.
    for stop in _STOPS:
        signal.signal(stop, signal.SIG_DFL)
    leaving = threading.Timer(LEAVE_AFTER, os.kill, (os.getpid(), signum))
    leaving.daemon = True
    leaving.start()
    if _state.in_job:
        _state.in_job = False
        raise KeyboardInterrupt
