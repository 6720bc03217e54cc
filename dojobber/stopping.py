"""Stopping a run from outside: SIGTERM treated like Ctrl-C, when asked for."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the run stops as it does on Ctrl-C. A
    KeyboardInterrupt, so every ``except KeyboardInterrupt`` path runs: no
    new try starts, the working directory is restored, Cleanups run."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # One stop is enough: a second SIGTERM must not cut the Cleanups short
    # (a supervisor that wants the process dead sends SIGKILL).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


@contextmanager
def sigterm_stops_the_run() -> Iterator[None]:
    """While in this block, SIGTERM raises :class:`Terminated` (once) in the
    main thread, as Ctrl-C raises KeyboardInterrupt; the previous handler
    comes back when the block ends.

    ``dojobber run`` does this around every run; the library never installs
    a signal handler by itself. A handler can only be installed from the
    main thread: called from another thread, this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
