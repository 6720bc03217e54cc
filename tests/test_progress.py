"""The live progress line, driven event by event with a fake clock."""

from __future__ import annotations

import io
import os
import time

from dojobber import Outcome
from dojobber.progress import ProgressLine

ERASE = "\r\x1b[K"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, interval: float = 3600.0) -> tuple[ProgressLine, io.StringIO]:
    out = io.StringIO()
    return ProgressLine(out, delay=0.5, interval=interval, clock=clock), out


def test_quick_runs_leave_no_trace() -> None:
    clock = Clock()
    line, out = make(clock)
    line.run_started(["A", "B"])
    line.try_started("A", 1)
    clock.now += 0.2
    line.try_ended("A", Outcome.PASSED, None)
    line.run_ended(None)  # type: ignore[arg-type]
    assert out.getvalue() == ""


def test_line_shows_counts_elapsed_and_running_jobs() -> None:
    clock = Clock()
    line, out = make(clock)
    line.run_started(["A", "B", "C"])
    line.try_started("A", 1)
    clock.now += 1.0
    line.try_ended("A", Outcome.PASSED_AFTER_RUN, None)
    assert out.getvalue() == ERASE + "dojobber: 1/3 passed, 1.0s"
    line.try_started("B", 1)
    line.try_ended("B", Outcome.FAILED, ValueError())
    clock.now += 0.25
    line.try_started("B", 2)
    assert out.getvalue().rsplit(ERASE, 1)[1] == (
        "dojobber: 1/3 passed, 1 failed, 1.2s; running: B (try 2)")
    line.try_ended("B", Outcome.PASSED_AFTER_RUN, None)
    assert out.getvalue().rsplit(ERASE, 1)[1] == "dojobber: 2/3 passed, 1.2s"
    line.run_ended(None)  # type: ignore[arg-type]
    assert out.getvalue().endswith(ERASE)


def test_many_running_jobs_and_long_lines_are_cut() -> None:
    clock = Clock()
    line, out = make(clock)
    line.run_started([f"J{i}" for i in range(6)])
    clock.now += 1.0
    for i in range(5):
        line.try_started(f"J{i}", 1)
    assert out.getvalue().rsplit(ERASE, 1)[1] == (
        "dojobber: 0/6 passed, 1.0s; running: J0, J1, J2 +2")
    for i in range(5):
        line.try_ended(f"J{i}", Outcome.PASSED, None)
    line.try_started("X" * 200, 1)
    last = out.getvalue().rsplit(ERASE, 1)[1]
    assert len(last) == 79  # no terminal size known: 80 columns, minus one
    line.run_ended(None)  # type: ignore[arg-type]


def test_ticker_redraws_during_a_long_try() -> None:
    clock = Clock()
    line, out = make(clock, interval=0.01)
    line.run_started(["Long"])
    line.try_started("Long", 1)
    assert out.getvalue() == ""
    clock.now += 3.0
    deadline = time.monotonic() + 30
    while "running: Long" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    line.run_ended(None)  # type: ignore[arg-type]
    assert ERASE + "dojobber: 0/1 passed, 3.0s; running: Long" in out.getvalue()
    assert out.getvalue().endswith(ERASE)


def test_wanted_only_on_a_terminal_and_not_verbose() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert ProgressLine.wanted(Terminal(), verbose=False)
    assert not ProgressLine.wanted(Terminal(), verbose=True)
    assert not ProgressLine.wanted(io.StringIO(), verbose=False)
    with open(os.devnull, "w") as closed:
        pass
    assert not ProgressLine.wanted(closed, verbose=False)  # isatty() raises ValueError


def test_a_name_that_would_drive_the_terminal_is_shown_escaped() -> None:
    clock = Clock()
    line, out = make(clock)
    hostile = "Clear\x1b[2J\x1b]0;owned\x07"
    line.run_started([hostile])
    clock.now += 1.0
    line.try_started(hostile, 1)
    line.run_ended(None)  # type: ignore[arg-type]  # its ticker stops with the test
    shown = out.getvalue().rsplit(ERASE, 2)[1]
    assert shown == "dojobber: 0/1 passed, 1.0s; running: Clear\\x1b[2J\\x1b]0;owned\\x07"
    assert "\x1b" not in out.getvalue().replace(ERASE, "")
