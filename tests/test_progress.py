"""The live progress line, driven event by event with a fake clock."""

from __future__ import annotations

import io
import os
import time

import pytest

from dojobber import Outcome
from dojobber.progress import ProgressLine
from dojobber.terminal import cut_to

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


@pytest.mark.parametrize("name", ["発行者" * 30, "🚀📦" * 45, "Cafe\u0301" * 40],
                         ids=["cjk", "emoji", "combining"])
def test_a_wide_name_is_cut_to_the_columns_of_the_terminal(name: str) -> None:
    import pyte

    clock = Clock()
    line, out = make(clock)
    line.run_started([name])
    clock.now += 1.0
    line.try_started(name, 1)
    line.run_ended(None)  # type: ignore[arg-type]
    drawn = out.getvalue().rsplit(ERASE, 2)[1]
    assert drawn.startswith("dojobber: 0/1 passed, 1.0s; running: " + name[:4])
    # On an emulated terminal of 80 columns (the width when none is known):
    # one row, at most 79 columns, and only a wide character short of them.
    screen = pyte.Screen(80, 3)
    pyte.Stream(screen).feed(ERASE + drawn)
    assert (screen.cursor.y, screen.cursor.x) in ((0, 78), (0, 79))


@pytest.mark.parametrize(("text", "width"), [
    ("Fetch", 5),
    ("発行", 4),  # wide: two columns each
    ("ＡＢ", 4),  # fullwidth forms
    ("🚀x", 3),
    ("Cafe\u0301", 4),  # a combining mark takes none
    ("a\u200db", 2),  # nor a zero-width joiner
    ("a\x07b\x9b", 2),  # nor a control character
    ("\u2764\ufe0f", 2),  # shown as an emoji by some terminals: counted wide
])
def test_the_columns_a_text_takes(text: str, width: int) -> None:
    assert cut_to(text, width) == text  # it fits in as many columns
    assert cut_to(text, width - 1) != text  # and in no fewer


def test_a_cut_keeps_the_marks_of_its_last_character_and_no_half_wide_one() -> None:
    assert cut_to("Cafe\u0301s", 4) == "Cafe\u0301"
    assert cut_to("ab発行", 3) == "ab"
    assert cut_to("ab発行", 4) == "ab発"
    assert cut_to("plain ASCII", 5) == "plain"


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


def test_wanted_only_on_a_terminal_and_not_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    assert ProgressLine.wanted(Terminal(), verbose=False)
    assert not ProgressLine.wanted(Terminal(), verbose=True)
    assert not ProgressLine.wanted(io.StringIO(), verbose=False)
    with open(os.devnull, "w") as closed:
        pass
    assert not ProgressLine.wanted(closed, verbose=False)  # isatty() raises ValueError


def test_not_wanted_on_a_dumb_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "dumb")  # it cannot erase a line: "\x1b[K" would show
    assert not ProgressLine.wanted(Terminal(), verbose=False)


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
