"""The verbose and debug lines on stderr, as observers of the event stream."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from .errors import JobTimeoutError
from .errortext import describe, traceback_lines
from .events import Observer
from .results import Phase
from .terminal import escape, is_terminal

__all__ = ["FailedCleanupPrinter", "VerbosePrinter", "describe", "indented_traceback"]


def indented_traceback(error: BaseException) -> list[str]:
    """The formatted traceback of ``error``, every line indented by two spaces."""
    return ["  " + line for line in traceback_lines(error)]


class _Writer(Observer):
    """Writes whole lines to ``stream`` (stderr by default, looked up each time)."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream

    def write(self, lines: list[str]) -> None:
        stream = self._stream or sys.stderr
        text = "\n".join(lines) + "\n"
        if is_terminal(stream):
            # A job's message must not drive the terminal (clear it, move
            # the cursor); files and pipes get the exact 0.6.2 bytes.
            text = escape(text, keep_newlines=True)
        # One write per event, under a lock, so parallel runs never
        # interleave two jobs' lines.
        with self._lock:
            try:
                stream.write(text)
            except UnicodeEncodeError:
                # A message this stream cannot encode must not end the run.
                encoding = getattr(stream, "encoding", None) or "ascii"
                stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
            stream.flush()


class FailedCleanupPrinter(_Writer):
    """Always installed: a failing Cleanup is reported even when not verbose."""

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        if error is not None:
            self.write([f'{job}.cleanup: fail "{describe(error)}"'])


class VerbosePrinter(FailedCleanupPrinter):
    """The ``verbose`` lines (``NAME.check: pass`` ...), and with ``debug``
    the tracebacks of failures and the cleanup progress lines."""

    def __init__(
        self, *, debug: bool = False, no_act: bool = False, stream: TextIO | None = None
    ):
        super().__init__(stream)
        self.debug = debug
        self.no_act = no_act

    def not_created(self, job: str, error: BaseException) -> None:
        lines = [f"{job}.check: fail"]
        if self.debug:
            lines.append("  Could not create job, error was ")
            lines += indented_traceback(error)
        self.write(lines)

    def phase_ended(self, job: str, phase: Phase, error: BaseException | None) -> None:
        if error is None:
            self.write([f"{job}.{phase}: pass"])
            return
        # A try that ran out of time says so, whatever its phase.
        timed_out = isinstance(error, JobTimeoutError)
        if phase == "recheck" or timed_out:
            lines = [f'{job}.{phase}: fail "{describe(error)}"']
        else:
            lines = [f"{job}.{phase}: fail"]
        # A failed first Check is routine (Run follows), so its traceback is
        # only worth showing when no Run will follow: in no_act mode.
        if self.debug and (phase != "check" or self.no_act or timed_out):
            lines.append("  Error was:")
            lines += indented_traceback(error)
        self.write(lines)

    def cleanup_started(self, job: str) -> None:
        if self.debug:
            self.write([f"{job}.cleanup running"])

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        if error is not None:
            super().cleanup_ended(job, error)
        elif self.debug:
            self.write([f"{job}.cleanup: pass"])
