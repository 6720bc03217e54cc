"""Stopping a run from outside: SIGTERM as Ctrl-C, stops while the command loads, held stops."""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Any, Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the run stops as it does on Ctrl-C. A
    KeyboardInterrupt, so every ``except KeyboardInterrupt`` path runs: no
    new try starts, the working directory is restored, Cleanups run."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # One stop is enough: a second SIGTERM must not cut the Cleanups short
    # (a supervisor that wants the process dead sends SIGKILL).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _stop(Terminated())


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    _stop(KeyboardInterrupt())


def _stop(stop: KeyboardInterrupt) -> None:
    if HELD.depth:
        HELD.pending = HELD.pending or stop
    else:
        raise stop


class Held:
    """A block the stops wait for (``with HELD:``, in the main thread): a
    SIGINT or SIGTERM that the command's handlers take meanwhile is raised
    as the block ends, so that what it does is done whole (an answer from
    a worker recorded with its instance, a try sent and counted). Elsewhere
    (Python's own Ctrl-C handler, another thread) it changes nothing."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Out of every block (a process forked inside one: a pool's worker)."""
        self.depth = 0
        self.pending: KeyboardInterrupt | None = None
        self.main = threading.main_thread().ident

    def __enter__(self) -> None:
        if threading.get_ident() == self.main:
            self.depth += 1

    def __exit__(self, *exc: object) -> None:
        if threading.get_ident() != self.main:
            return
        self.depth -= 1
        if not self.depth and self.pending is not None:
            stop, self.pending = self.pending, None
            raise stop


#: The one Held: stops reach the main thread only.
HELD = Held()
if hasattr(os, "register_at_fork"):
    # A process forked inside a held block (a pool's worker) is not in it.
    os.register_at_fork(after_in_child=HELD.forget)


@contextmanager
def sigterm_stops_the_run() -> Iterator[None]:
    """While in this block, SIGTERM raises :class:`Terminated` (once) in the
    main thread, as Ctrl-C raises KeyboardInterrupt (both wait for the end
    of a block DoJobber must do whole: an answer from a worker recorded);
    the previous handlers come back when the block ends.

    ``dojobber run`` does this around every run; the library never installs
    a signal handler by itself. A handler can only be installed from the
    main thread: called from another thread, this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    interrupt = signal.getsignal(signal.SIGINT)
    if interrupt is signal.default_int_handler:  # Python's own: one that waits for HELD
        signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if interrupt is signal.default_int_handler:
            signal.signal(signal.SIGINT, interrupt)


class StopNoted:
    """Notes SIGTERM, and once asked Ctrl-C too, instead of acting on it, so
    that what the command does after the jobs (Cleanups, reports) is never
    cut short; the command acts on the stop once that is done.

    A second Ctrl-C while Ctrl-C is noted stops at once (KeyboardInterrupt):
    the user means it. Only the main thread can install handlers; anywhere
    else ``note`` does nothing.
    """

    def __init__(self) -> None:
        #: The first signal noted (signal.SIGTERM or SIGINT), or None.
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def note(self, *, ctrl_c: bool = False) -> None:
        """From now on note SIGTERM (and with ``ctrl_c``, SIGINT) until ``end``."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGINT) if ctrl_c else (signal.SIGTERM,):
            if signum not in self._previous:
                self._previous[signum] = signal.signal(signum, self._noted)

    def _noted(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and self.signal == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C
        if self.signal is None:
            self.signal = signum

    def let_ctrl_c_through(self) -> None:
        """From now on Ctrl-C acts again (SIGTERM stays noted); a Ctrl-C
        noted already is still the stop."""
        handler = self._previous.pop(signal.SIGINT, None)
        if handler is not None:
            signal.signal(signal.SIGINT, handler)

    def end(self) -> None:
        """Put back the handlers ``note`` replaced."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def stop(self) -> KeyboardInterrupt | None:
        """The stop to act on: Terminated for SIGTERM, KeyboardInterrupt for
        Ctrl-C, None when neither came."""
        if self.signal is None:
            return None
        return Terminated() if self.signal == signal.SIGTERM else KeyboardInterrupt()


#: The stops noted while the ``dojobber`` command loads, before ``main``
#: can act on them (``note_early_stops``).
EARLY = StopNoted()


def note_early_stops() -> None:
    """In the ``dojobber`` command (``python -m dojobber``, the ``dojobber``
    script) and nowhere else: note SIGINT and SIGTERM from now on, while
    the command loads; ``cli.main`` acts on what came once it can (exit 130
    or 143 and one line, never a traceback). ``import dojobber`` calls this
    first thing; in a program that merely imports DoJobber it does nothing.
    """
    if launched_as_command():
        EARLY.note(ctrl_c=True)


def early_stop() -> KeyboardInterrupt | None:
    """What ``note_early_stops`` noted, if anything; the handlers it replaced
    are back."""
    EARLY.end()
    return EARLY.stop()


def launched_as_command(argv: list[str] | None = None) -> bool:
    """Whether this process is the ``dojobber`` command: ``python [-X ...]
    -m dojobber`` or a ``dojobber`` script that runs ``dojobber.cli.main``,
    as ``sys.orig_argv`` says (``argv`` in its place for tests)."""
    given: list[str] = getattr(sys, "orig_argv", []) if argv is None else argv
    args = given[1:]
    for k, arg in enumerate(args):
        if arg == "-m":
            return args[k + 1:k + 2] == ["dojobber"]
        if arg in ("-X", "-W", "-Q"):
            continue  # an option with its value as the next argument
        if arg.startswith("-m"):
            return arg == "-mdojobber"
        if arg.startswith("-") or (k and args[k - 1] in ("-X", "-W")):
            continue
        return _is_command_script(arg)
    return False


def _is_command_script(path: str) -> bool:
    """Whether ``path`` is the ``dojobber`` script installers write: one
    named dojobber that imports main from dojobber.cli."""
    name = os.path.basename(path).lower()
    if name not in ("dojobber", "dojobber.exe", "dojobber-script.py"):
        return False
    try:
        with open(path, "rb") as script:
            return b"from dojobber.cli import main" in script.read(4096)
    except OSError:
        return False


@contextmanager
def signals_held_back() -> Iterator[None]:
    """While in this block, SIGINT and SIGTERM wait in this thread (and in
    every thread it starts, for good); on the way out they are let through,
    and one that came meanwhile acts then. Where signals cannot be blocked
    (Windows), or outside the main thread, this does nothing."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = block(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)
