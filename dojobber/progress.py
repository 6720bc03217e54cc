"""The live progress line on a terminal, as an observer of the event stream."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Callable, Sequence, TextIO

from .events import Observer
from .liveterminal import LiveTerminal
from .results import Outcome
from .terminal import can_redraw, cut_to, escape

if TYPE_CHECKING:
    from .results import RunResult

class ProgressLine(Observer):
    """Keeps one line at the bottom of a terminal up to date during a run::

        dojobber: 7/19 passed, 2 failed, 3.1s; running: Popcorn (try 4)

    Nothing is drawn until the run has lasted ``delay`` seconds, so quick
    runs leave no trace. Then the line is redrawn on every try that starts
    or ends, and every ``interval`` seconds by a small thread (so a long
    Check or Run still shows its job and the elapsed time). It is erased
    when the run ends. Use it only when ``stream`` is a terminal and no
    verbose lines are being written: see ``wanted()``.

    It draws on ``terminal``, a ``LiveTerminal`` over ``stream`` made for it
    unless given: share one to write other lines above the progress line
    (``LiveTerminal.own_lines()``), and to keep what jobs print on lines of
    their own (``LiveTerminal.carrying_prints()``).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        delay: float = 0.5,
        interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        terminal: LiveTerminal | None = None,
    ):
        self._terminal = terminal or LiveTerminal(stream or sys.stderr)
        self._stream = self._terminal.stream
        self._delay = delay
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._start = 0.0
        self._total = 0
        self._passed = 0
        self._failed: set[str] = set()
        self._running: dict[str, int] = {}  # job -> try number, in start order

    @staticmethod
    def wanted(stream: TextIO, verbose: bool) -> bool:
        """True when a progress line belongs on ``stream``: a terminal that
        can redraw a line (``TERM`` is not ``dumb``), and not verbose."""
        return not verbose and can_redraw(stream)

    def run_started(self, jobs: Sequence[str]) -> None:
        with self._lock:
            self._start = self._clock()
            self._total = len(jobs)
            self._passed = 0
            self._failed.clear()
            self._running.clear()
        self._stop.clear()
        self._ticker = threading.Thread(
            target=self._tick, name="dojobber-progress", daemon=True
        )
        self._ticker.start()

    def try_started(self, job: str, number: int) -> None:
        with self._lock:
            self._running[job] = number
            self._draw()

    def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
        with self._lock:
            self._running.pop(job, None)
            if outcome is Outcome.FAILED:
                self._failed.add(job)
            else:
                self._failed.discard(job)
                self._passed += 1
            self._draw()

    def run_ended(self, result: RunResult) -> None:
        self._stop.set()
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join()
        self._ticker = None
        with self._lock:
            self._terminal.hide()

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        """Redraw the line (the caller holds the lock)."""
        elapsed = self._clock() - self._start
        if elapsed < self._delay or self._stop.is_set():
            return
        text = f"dojobber: {self._passed}/{self._total} passed"
        if self._failed:
            text += f", {len(self._failed)} failed"
        text += f", {elapsed:.1f}s"
        if self._running:
            shown = [
                # Escaped: a name must not drive the terminal (clear it, set its title).
                escape(name) if number == 1 else f"{escape(name)} (try {number})"
                for name, number in list(self._running.items())[:3]
            ]
            more = len(self._running) - len(shown)
            text += "; running: " + ", ".join(shown) + (f" +{more}" if more > 0 else "")
        # Cut in columns, not characters: a line wider than the terminal
        # would wrap, "\r" could then no longer take the cursor back to its
        # start, and each redraw would leave its first row on the screen.
        self._terminal.show(cut_to(text, self._width() - 1))

    def _width(self) -> int:
        try:
            return os.get_terminal_size(self._stream.fileno()).columns or 80
        except (AttributeError, ValueError, OSError):
            return 80
