"""Describing exceptions and observers never fails, whatever they do."""

from __future__ import annotations

import io
import sys
import traceback
from typing import Any

import pytest

from dojobber import DoJobber, Job, Observer, cli
from dojobber.errortext import describe, one_line, type_name
from dojobber.events import Dispatch
from dojobber.output import indented_traceback


class Meta(type):
    @property
    def __module__(cls) -> Any:  # type: ignore[override]
        raise SystemExit("no module")


class Nameless(Exception, metaclass=Meta):
    pass


class Fancy(str):
    def __format__(self, spec: str) -> str:
        raise SystemExit("no format")


class FancyError(Exception):
    def __str__(self) -> str:
        return Fancy("fancy text")


class Numbered(Exception):
    pass


Numbered.__module__ = 5  # type: ignore[assignment]


class Interrupting(Exception):
    def __str__(self) -> str:
        raise KeyboardInterrupt


def test_type_name_of_a_class_that_hides_its_module() -> None:
    assert type_name(ValueError) == "ValueError"
    assert type_name(Dispatch) == "dojobber.events.Dispatch"
    assert type_name(Nameless) == "Nameless"
    assert type_name(Numbered) == "Numbered"


def test_ctrl_c_while_describing_still_stops_the_program() -> None:
    with pytest.raises(KeyboardInterrupt):
        describe(Interrupting())


def test_a_str_subclass_message_becomes_plain_text() -> None:
    text = describe(FancyError())
    assert type(text) is str and f"{text}" == "fancy text"
    assert one_line(FancyError()) == "FancyError: fancy text"
    assert one_line(ValueError("  two\n lines ")) == "ValueError: two lines"
    assert one_line(ValueError()) == "ValueError"


def test_a_traceback_that_cannot_be_formatted(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> list[str]:
        raise SystemExit("no traceback")

    monkeypatch.setattr(traceback, "format_exception", broken)
    assert indented_traceback(ValueError("bad\nvalue")) == ["  ValueError: bad value"]


class Ends(Observer):
    def __init__(self, log: list[str], interrupt: bool = False) -> None:
        self.log = log
        self.interrupt = interrupt

    def try_started(self, job: str, number: int) -> None:
        self.log.append(f"{job} {number}")
        raise OSError("cannot start")

    def run_ended(self, result: Any) -> None:
        self.log.append("ended")
        if self.interrupt:
            raise KeyboardInterrupt


def test_every_run_ended_is_called_before_a_keyboard_interrupt_from_one() -> None:
    first: list[str] = []
    second: list[str] = []
    dispatch = Dispatch([Ends(first, interrupt=True), Ends(second)])
    with pytest.raises(KeyboardInterrupt):
        dispatch.end_run(None)  # type: ignore[arg-type]
    assert first == second == ["ended"]


def test_a_switched_off_observer_misses_events_already_being_dispatched() -> None:
    """A parallel run may still hold an event's old list: the call is skipped."""
    log: list[str] = []
    dispatch = Dispatch([Ends(log)])
    old = dispatch.try_started
    old[0]("Job", 1)
    assert dispatch.try_started == [] and [f.event for f in dispatch.failures] == ["try_started"]
    old[0]("Job", 2)
    assert log == ["Job 1"]


class Quick(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


def quick_file(folder: Any) -> str:
    """A job file named after the test (the command imports it by name)."""
    name = "quick_" + folder.name.replace("-", "_")
    (folder / f"{name}.py").write_text(
        "from dojobber import Job\nclass Quick(Job):\n    def Check(self):\n        pass\n")
    return f"{folder}/{name}.py:Quick"


class Flaky(io.StringIO):
    """A stderr whose first write fails, as a full non-blocking pipe would."""

    failed = False

    def write(self, text: str) -> int:
        if not self.failed:
            self.failed = True
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return super().write(text)


def test_lost_verbose_lines_make_the_command_fail(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
) -> None:
    stderr = Flaky()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert cli.main(["run", quick_file(tmp_path), "-v"]) == 1
    assert stderr.getvalue().splitlines()[-1] == (
        "dojobber: error: cannot write to stderr: BlockingIOError: "
        "[Errno 11] Resource temporarily unavailable"
    )


class NoProgress(io.RawIOBase):
    """A binary stream that accepts nothing, without saying why."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return 0


def test_a_stream_that_takes_no_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    stuck = io.TextIOWrapper(NoProgress(), encoding="utf-8")  # type: ignore[arg-type]
    stuck.flush = lambda: None  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdout", stuck)
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert cli.main(["list", quick_file(tmp_path)]) == 1
    assert stderr.getvalue() == (
        "dojobber: error: cannot write to stdout: OSError: the stream took no data (0)\n")


def test_list_into_a_text_stream_without_a_buffer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert cli.main(["list", quick_file(tmp_path)]) == 0
    assert out.getvalue() == "Quick\n"


def test_dojobber_objects_stay_usable_after_a_refused_call() -> None:
    dojob = DoJobber()
    dojob.cleanup()  # nothing configured: nothing to do
    dojob.configure(Quick)
    dojob.checknrun()
    assert dojob.success() is True
