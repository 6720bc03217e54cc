"""A terminal shared by a live line at its bottom and the lines written above it."""

from __future__ import annotations

import logging
import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, TextIO, cast

#: Carriage return, then erase to the end of the line.
ERASE = "\r\x1b[K"


class LiveTerminal:
    """One terminal, ``stream``, where a live line (the progress line) stays
    at the bottom while other text scrolls above it, written from any thread.

    ``show`` draws the live line, ``hide`` takes it away; ``write`` puts
    text above it: the live line is erased, the text written, and the live
    line drawn again once the text has ended its line. While text leaves
    its line unfinished (``Working...`` without a newline) the live line
    stays away, so that nothing is ever glued to it.

    Every drawing starts at column 0 with an erase. Text that reaches the
    terminal behind its back (a subprocess writing to the file descriptor)
    can therefore at worst follow an old copy of the live line, which is
    then drawn again, whole, on the line below.
    """

    def __init__(self, stream: TextIO):
        self.stream = stream
        # Re-entrant: a signal handler may write while the main thread does.
        self._lock = threading.RLock()
        self._line = ""
        self._shown = False
        self._open = False  # the last text written left its line unfinished
        self._broken = False

    def show(self, line: str) -> None:
        """Make ``line`` (one line, shorter than the terminal) the live line."""
        with self._lock:
            self._line = line
            self._draw()  # over the old one: a drawing starts with an erase

    def hide(self) -> None:
        """Erase the live line for good and leave the cursor on a fresh line."""
        with self._lock:
            self._line = ""
            self._clear(end_open_line=True)

    def write(self, text: str, to: TextIO | None = None, *, own_line: bool = False) -> None:
        """Write ``text`` to ``to`` (a stream onto this terminal, by default
        ``stream``) above the live line, and flush it. With ``own_line``, the
        text starts a line of its own even when the last text left its line
        unfinished. Errors writing ``text`` are the caller's."""
        target = self.stream if to is None else to
        with self._lock:
            self._clear(end_open_line=own_line)
            # What the text leaves is noted before it is written: Ctrl-C
            # may land as soon as the terminal shows it, and a line left
            # open unknowingly would get the next line glued to it.
            if text:
                self._open = not text.endswith("\n")
            target.write(text)
            target.flush()
            self._draw()

    def shares(self, stream: TextIO | None) -> bool:
        """True when ``stream`` writes to this terminal (the same file)."""
        try:
            mine = os.fstat(self.stream.fileno())
            theirs = os.fstat(stream.fileno())  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            return False
        return os.path.samestat(mine, theirs)

    def passing(self, stream: TextIO) -> TextIO:
        """A text stream for code that writes to ``stream``: what it writes
        goes above the live line."""
        return cast(TextIO, Above(self, stream))

    def own_lines(self) -> TextIO:
        """A text stream for whole lines of DoJobber's own (a line per
        finished job): each starts a line of its own above the live line."""
        return cast(TextIO, Above(self, self.stream, own_line=True))

    @contextmanager
    def carrying_prints(self) -> Iterator[None]:
        """Within the block, ``sys.stdout`` and ``sys.stderr``, where they
        are this terminal, write above the live line; they are put back when
        the block ends, however it ends (unless code in it replaced them).
        Then what they hold unflushed is written, and a line left unfinished
        is ended: what follows the block starts a line of its own."""
        saved_out, saved_err = sys.stdout, sys.stderr
        out = Above(self, saved_out) if self.shares(saved_out) else saved_out
        err = Above(self, saved_err) if self.shares(saved_err) else saved_err
        sys.stdout, sys.stderr = cast(TextIO, out), cast(TextIO, err)
        # Logging handlers made earlier (logging.basicConfig() at the top of
        # a script) hold the streams themselves: they are carried too.
        swaps = [(handler, old, new) for handler in _stream_handlers()
                 for old, new in ((saved_out, out), (saved_err, err))
                 if handler.stream is old and new is not old]
        for handler, _, new in swaps:
            handler.setStream(new)
        try:
            yield
        finally:
            if sys.stdout is out:
                sys.stdout = saved_out
            if sys.stderr is err:
                sys.stderr = saved_err
            for handler, old, new in swaps:
                if handler.stream is new:
                    handler.setStream(old)
            for carried in (out, err):
                if isinstance(carried, Above):
                    carried.release()
            with self._lock:
                # Past the block nothing tells what writes next that the
                # line is open: end it now, before it gets glued on.
                if self._open:
                    self._clear(end_open_line=True)
                    self._draw()

    def _clear(self, *, end_open_line: bool) -> None:
        """Erase the live line if it is shown; else, when asked, end the
        line that text left unfinished (the caller holds the lock)."""
        if self._shown:
            self._put(ERASE)
            self._shown = False
        elif end_open_line and self._open:
            self._put("\n")
            self._open = False

    def _draw(self) -> None:
        """Draw the live line if there is one and the cursor is at the start
        of a line (the caller holds the lock)."""
        if self._line and not self._open and not self._broken:
            self._shown = True  # before drawing, for the same reason as in ``write``
            self._put(ERASE + self._line)
            self._shown = not self._broken
        elif self._shown:  # shown, and now an empty line
            self._clear(end_open_line=False)

    def _put(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            # The terminal went away (closed, or a broken pipe): the live
            # line is a courtesy, never a reason to fail whoever wrote.
            self._broken = True


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    """Every logging handler that writes to a stream, on any logger."""
    loggers = [logging.getLogger()] + [
        logger for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)]
    found = {id(handler): handler for logger in loggers for handler in logger.handlers
             if isinstance(handler, logging.StreamHandler)}
    return list(found.values())


class Above:
    """A text stream whose writes go to ``stream`` above the live line of
    ``terminal``; anything else (``fileno``, ``encoding``, ``buffer``...)
    is ``stream``'s own. Made by ``LiveTerminal.passing`` and
    ``LiveTerminal.own_lines``.

    Like a text stream on a terminal, it holds what a thread writes until
    a newline (or a carriage return) or a flush, then passes it on in one
    piece: a ``print()`` writes its text and its newline apart, and two
    threads printing at once must not mix their lines.
    """

    def __init__(self, terminal: LiveTerminal, stream: TextIO, *, own_line: bool = False):
        self._terminal = terminal
        self._stream = stream
        self._own_line = own_line
        self._pid = os.getpid()
        self._held: dict[int, str] = {}  # thread ident -> text not yet passed on
        self._held_lock = threading.Lock()

    def write(self, text: str) -> int:
        if os.getpid() != self._pid:
            # A forked child (a process pool): the live line and the locks
            # (perhaps held at the fork) are the parent's.
            return self._stream.write(text)
        if self._own_line:
            self._terminal.write(text, self._stream, own_line=True)
            return len(text)
        thread = threading.get_ident()
        with self._held_lock:
            held = self._held.pop(thread, "") + text
            if "\n" not in text and "\r" not in text:
                self._held[thread] = held
                return len(text)
        self._terminal.write(held, self._stream)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Pass on what this thread wrote so far, then flush the stream."""
        if os.getpid() == self._pid:
            with self._held_lock:
                held = self._held.pop(threading.get_ident(), "")
            if held:
                self._terminal.write(held, self._stream)
        self._stream.flush()

    def release(self) -> None:
        """Pass on what every thread wrote and nobody flushed yet."""
        with self._held_lock:
            held, self._held = list(self._held.values()), {}
        for text in held:
            self._terminal.write(text, self._stream)

    def __getattr__(self, name: str) -> Any:
        if name == "_stream":  # not set yet (a copy being made): no endless lookup
            raise AttributeError(name)
        return getattr(self._stream, name)
