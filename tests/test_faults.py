"""Fault injection: nothing a job does may corrupt the run.

Every kind of exception is raised from ``__init__``, Check, Run and Cleanup;
jobs delete or change the working directory, mutate their DEPS, TRIES or
global_storage mid-run, and return odd objects from Check. Only
KeyboardInterrupt ends a run early, and only after the working directory is
restored and the Cleanups ran. See docs/robustness.rst.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dojobber
from dojobber.output import describe


class UnprintableError(Exception):
    """An exception whose ``__str__`` itself raises."""

    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class StrExitsError(Exception):
    """An exception whose ``__str__`` raises SystemExit."""

    def __str__(self) -> str:
        raise SystemExit("no str, and exit")


class StrNotStrError(Exception):
    """An exception whose ``__str__`` returns something else than a str."""

    def __str__(self) -> Any:
        return 42


class NotAnExceptionError(BaseException):
    """A user BaseException that is not an Exception."""


def recurse(depth: int = 0) -> int:
    return recurse(depth + 1) + 1


def raise_recursion() -> None:
    recurse()


HUGE = "x" * 2_000_000
NON_ASCII = "Zärdöz ☃ 🎬 不 \u200f"

#: (id, what to raise, the text the verbose line shows for it)
KINDS: list[tuple[str, Callable[[], BaseException], str | None]] = [
    ("ValueError", lambda: ValueError("bad value"), "bad value"),
    ("OSError", lambda: FileNotFoundError(2, "No such file", "/nope"),
     "[Errno 2] No such file: '/nope'"),
    ("SystemExit-code", lambda: SystemExit(3), "3"),
    ("SystemExit-none", lambda: SystemExit(), ""),
    ("GeneratorExit", lambda: GeneratorExit("closing"), "closing"),
    ("BaseException-subclass", lambda: NotAnExceptionError("odd"), "odd"),
    ("StopIteration", lambda: StopIteration("done"), "done"),
    ("MemoryError", lambda: MemoryError("pretend"), "pretend"),
    ("str-raises", lambda: UnprintableError(), "<UnprintableError: str() failed>"),
    ("str-raises-SystemExit", lambda: StrExitsError(), "<StrExitsError: str() failed>"),
    ("str-not-a-str", lambda: StrNotStrError(), "<StrNotStrError: str() failed>"),
    ("RecursionError", lambda: RecursionError("real one below"), None),
    ("huge-message", lambda: RuntimeError(HUGE), HUGE),
    ("non-ASCII", lambda: RuntimeError(NON_ASCII), NON_ASCII),
    # pytest's capture stream is strict UTF-8: the surrogate comes out escaped.
    ("lone-surrogate", lambda: RuntimeError("bad \udcff byte"), "bad \\udcff byte"),
    ("non-string-args", lambda: ValueError(3, None), "(3, None)"),
]
KIND_IDS = [k[0] for k in KINDS]


def fire(make: Callable[[], BaseException]) -> None:
    """Raise the fault; the RecursionError case recurses for real."""
    error = make()
    if isinstance(error, RecursionError):
        raise_recursion()
    raise error


class Log:
    """What the jobs of one test did, in order."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, ...]] = []
        self.raised: list[BaseException] = []

    def add(self, *entry: str) -> None:
        self.entries.append(entry)


def faulty(log: Log, where: str, make: Callable[[], BaseException], *,
           recheck_passes: bool = False) -> type[dojobber.Job]:
    """A job that raises ``make()`` in ``where`` (init/check/run/cleanup)."""

    def boom() -> None:
        try:
            fire(make)
        except BaseException as error:
            log.raised.append(error)
            raise

    class Faulty(dojobber.Job):
        def __init__(self) -> None:
            log.add("init", "Faulty")
            if where == "init":
                boom()

        def Check(self, *args: Any, **kwargs: Any) -> str:
            log.add(self._check_phase, "Faulty")
            if where == "check" and not (recheck_passes and self._check_phase == "recheck"):
                boom()
            if where == "run" and self._check_phase == "check":
                raise ValueError("not done")
            return "fine"

        def Run(self, *args: Any, **kwargs: Any) -> None:
            log.add("run", "Faulty")
            if where == "run":
                boom()

        def Cleanup(self) -> None:
            log.add("cleanup", "Faulty")
            if where == "cleanup":
                boom()

    return Faulty


def plain(log: Log, name: str, deps: list[type[dojobber.Job]] = ()) -> type[dojobber.Job]:
    """A job that passes its first Check and records its Cleanup."""

    def check(self: dojobber.Job, *args: Any, **kwargs: Any) -> str:
        log.add("check", name)
        return f"{name} ok"

    def cleanup(self: dojobber.Job) -> None:
        log.add("cleanup", name)

    return type(name, (dojobber.Job,), {"DEPS": list(deps), "Check": check,
                                        "Cleanup": cleanup})


def configure(root: type[dojobber.Job], **kwargs: Any) -> dojobber.DoJobber:
    dojob = dojobber.DoJobber()
    options: dict[str, Any] = {"verbose": True, "default_tries": 2, "default_retry_delay": 0}
    options.update(kwargs)
    dojob.configure(root, **options)
    return dojob


def lines(err: str, cleanup: bool = False) -> list[str]:
    """The verbose lines, without debug's indented traceback lines and
    (unless ``cleanup``) without the cleanup lines."""
    return [
        line for line in err.splitlines()
        if not line.startswith("  ") and (cleanup or ".cleanup" not in line)
    ]


def recheck_text(text: str | None) -> str:
    """The quoted text of a fail line (None stands for a real RecursionError)."""
    return "maximum recursion depth exceeded" if text is None else text


# Exceptions from each phase


@pytest.mark.parametrize("debug", [False, True], ids=["verbose", "debug"])
@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_init_raises(kind: Any, debug: bool, capsys: pytest.CaptureFixture[str]) -> None:
    _, make, _ = kind
    log = Log()
    bad = faulty(log, "init", make)
    root = plain(log, "Root", [bad, plain(log, "Sibling")])
    dojob = configure(root, debug=debug)
    assert dojob.checknrun() is None
    assert dojob.nodestatus == {"Faulty": False, "Sibling": True, "Root": None}
    assert dojob.nodeexceptions == {"Faulty": log.raised[-1]}
    assert len(log.raised) == 2  # both tries were made
    assert lines(capsys.readouterr().err) == [
        "Faulty.check: fail", "Sibling.check: pass", "Faulty.check: fail"
    ]
    # No instance was made, so there is nothing of Faulty to clean up.
    assert ("cleanup", "Faulty") not in log.entries


@pytest.mark.parametrize("debug", [False, True], ids=["verbose", "debug"])
@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_check_raises(kind: Any, debug: bool, capsys: pytest.CaptureFixture[str]) -> None:
    _, make, text = kind
    log = Log()
    bad = faulty(log, "check", make)
    root = plain(log, "Root", [bad, plain(log, "Sibling")])
    dojob = configure(root, debug=debug)
    dojob.checknrun()
    assert dojob.nodestatus == {"Faulty": False, "Sibling": True, "Root": None}
    assert dojob.nodeexceptions["Faulty"] is log.raised[-1]
    assert len(log.raised) == 4  # check and recheck, on both tries
    failed = f'Faulty.recheck: fail "{recheck_text(text)}"'
    got = lines(capsys.readouterr().err)
    if text is None:  # RecursionError: the message varies a little by version
        assert got[2].startswith('Faulty.recheck: fail "maximum recursion depth exceeded')
        got[2] = got[6] = failed
    assert got == [
        "Faulty.check: fail", "Faulty.run: pass", failed, "Sibling.check: pass",
        "Faulty.check: fail", "Faulty.run: pass", failed,
    ]
    # Every instance is cleaned up, newest first, after the last try.
    cleanups = [e[1] for e in log.entries if e[0] == "cleanup"]
    assert cleanups == ["Faulty", "Sibling", "Faulty"]


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_check_raises_in_no_act(kind: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, make, _ = kind
    log = Log()
    dojob = configure(plain(log, "Root", [faulty(log, "check", make)]), no_act=True, debug=True)
    dojob.checknrun()
    assert dojob.nodestatus == {"Faulty": False, "Root": None}
    assert ("run", "Faulty") not in log.entries
    err = capsys.readouterr().err
    assert lines(err) == ["Faulty.check: fail"]
    assert err.splitlines()[1] == "  Error was:"


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_run_raises_and_is_ignored(kind: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Whatever Run raises (sys.exit included), the recheck decides."""
    _, make, _ = kind
    log = Log()
    dojob = configure(plain(log, "Root", [faulty(log, "run", make)]), debug=True)
    dojob.checknrun()
    assert dojob.nodestatus == {"Faulty": True, "Root": True}
    assert dojob.noderesults["Faulty"] == "fine"
    assert dojob.nodeexceptions == {}
    assert lines(capsys.readouterr().err) == [
        "Faulty.check: fail", "Faulty.run: fail", "Faulty.recheck: pass", "Root.check: pass",
    ]
    assert dojob.success() is True


def test_run_exception_reaches_the_recheck() -> None:
    seen: list[Any] = []

    class Peeks(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            if self._check_phase == "check":
                raise ValueError("first")
            seen.append((self._run_exception, self._run_results))

        def Run(self, *args: Any, **kwargs: Any) -> None:
            sys.exit(4)

    configure(Peeks).checknrun()
    [(error, results)] = seen
    assert isinstance(error, SystemExit) and error.code == 4
    assert results is None


@pytest.mark.parametrize("workers", [1, 2], ids=["sequential", "threads"])
@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_cleanup_raises(kind: Any, workers: int, capsys: pytest.CaptureFixture[str]) -> None:
    """The run is complete and reported; every other Cleanup still runs
    (like contextlib.ExitStack), then the Cleanup's error propagates."""
    _, make, text = kind
    log = Log()
    first = plain(log, "First")
    root = plain(log, "Root", [first, faulty(log, "cleanup", make), plain(log, "Last")])
    dojob = configure(root, workers=workers)
    with pytest.raises(type(make())) as caught:
        dojob.checknrun()
    assert caught.value is log.raised[-1]
    assert dojob.nodestatus == {"First": True, "Faulty": True, "Last": True, "Root": True}
    assert dojob.success() is True
    shown = f'Faulty.cleanup: fail "{recheck_text(text)}"'
    got = [line for line in lines(capsys.readouterr().err, cleanup=True) if "cleanup" in line]
    if text is None:
        assert got[0].startswith('Faulty.cleanup: fail "maximum recursion depth exceeded')
        got[0] = shown
    assert got == [shown]
    cleaned = [e[1] for e in log.entries if e[0] == "cleanup"]
    if workers == 1:
        assert cleaned == ["Root", "Last", "Faulty", "First"]
    assert sorted(cleaned) == ["Faulty", "First", "Last", "Root"]
    [failure] = dojob.report().cleanup_errors
    assert failure.job == "Faulty"
    assert failure.error.message == describe(log.raised[-1])
    dojob.cleanup()  # once per instance: nothing left
    assert len([e for e in log.entries if e[0] == "cleanup"]) == 4


def test_failed_cleanup_is_reported_even_when_not_verbose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = Log()
    dojob = configure(faulty(log, "cleanup", lambda: OSError("disk gone")), verbose=False)
    with pytest.raises(OSError):
        dojob.checknrun()
    assert capsys.readouterr().err == 'Faulty.cleanup: fail "disk gone"\n'


# KeyboardInterrupt: the only fault that ends a run, after cleanup.


def interrupting_graph(log: Log, where: str, tmp_path: Path) -> type[dojobber.Job]:
    """Before -> Interrupted (which moves to tmp_path first) -> Never, under Root."""
    before = plain(log, "Before")

    class Interrupted(dojobber.Job):
        DEPS = [before]

        def __init__(self) -> None:
            os.chdir(tmp_path)
            if where == "init":
                raise KeyboardInterrupt

        def Check(self, *args: Any, **kwargs: Any) -> None:
            os.chdir(tmp_path)
            if where == "check" or (where == "recheck" and self._check_phase == "recheck"):
                raise KeyboardInterrupt
            if self._check_phase == "check":
                raise ValueError("needs a Run")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            if where == "run":
                raise KeyboardInterrupt

        def Cleanup(self) -> None:
            log.add("cleanup", "Interrupted")

    return plain(log, "Root", [Interrupted, plain(log, "Never")])


@pytest.mark.parametrize("where", ["init", "check", "run", "recheck"])
def test_keyboard_interrupt_ends_the_run_after_cleanup(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = Log()
    start = os.getcwd()
    dojob = configure(interrupting_graph(log, where, tmp_path))
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert os.getcwd() == start
    # The interrupted try has no outcome, so that job was never "tried".
    assert dojob.nodestatus == {"Before": True, "Interrupted": None, "Never": None, "Root": None}
    assert dojob.success() is False and dojob.partial_success() is True
    assert ("check", "Never") not in log.entries
    cleaned = [e[1] for e in log.entries if e[0] == "cleanup"]
    assert cleaned == (["Before"] if where == "init" else ["Interrupted", "Before"])
    capsys.readouterr()


def test_keyboard_interrupt_during_a_retry_delay(tmp_path: Path) -> None:
    log = Log()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise KeyboardInterrupt

    class Flaky(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            raise ValueError("never")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

        def Cleanup(self) -> None:
            log.add("cleanup", "Flaky")

    dojob = dojobber.DoJobber(clock=lambda: 50.0, sleep=sleep)
    dojob.configure(plain(log, "Root", [Flaky]), default_retry_delay=5)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert slept == [5.0]
    assert dojob.nodestatus == {"Flaky": False, "Root": None}
    assert log.entries == [("cleanup", "Flaky")]


def test_keyboard_interrupt_wins_over_a_failing_cleanup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C must stop the program even if a Cleanup then fails; the
    failure is still printed."""

    class Stops(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            raise KeyboardInterrupt

        def Cleanup(self) -> None:
            raise OSError("cleanup broke too")

    dojob = configure(Stops, verbose=False)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert capsys.readouterr().err == 'Stops.cleanup: fail "cleanup broke too"\n'


def test_keyboard_interrupt_without_automatic_cleanup(tmp_path: Path) -> None:
    log = Log()
    dojob = configure(interrupting_graph(log, "check", tmp_path), cleanup=False)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert log.entries[-1] == ("check", "Before")
    dojob.cleanup()
    assert [e[1] for e in log.entries if e[0] == "cleanup"] == ["Interrupted", "Before"]


def test_keyboard_interrupt_in_cleanup_stops_the_rest() -> None:
    """Cleanups left over stay pending: calling cleanup() again runs them."""
    log = Log()

    class Stops(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            pass

        def Cleanup(self) -> None:
            log.add("cleanup", "Stops")
            raise KeyboardInterrupt

    dojob = configure(plain(log, "Root", [plain(log, "First"), Stops]))
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert dojob.nodestatus == {"First": True, "Stops": True, "Root": True}
    assert [e[1] for e in log.entries if e[0] == "cleanup"] == ["Root", "Stops"]
    dojob.cleanup()
    assert [e[1] for e in log.entries if e[0] == "cleanup"] == ["Root", "Stops", "First"]


# The working directory


def test_each_job_starts_where_checknrun_was_called(tmp_path: Path) -> None:
    where: list[str] = []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    class Wanders(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            where.append(os.getcwd())
            os.chdir(elsewhere)
            if self._check_phase == "check":
                raise ValueError("run me")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            where.append(os.getcwd())

    class After(dojobber.Job):
        DEPS = [Wanders]

        def Check(self, *args: Any, **kwargs: Any) -> None:
            where.append(os.getcwd())

    start = os.getcwd()
    dojob = configure(After)
    dojob.checknrun()
    assert dojob.success()
    # Each phase starts where checknrun was called (0.6.2's rule): the
    # Check's chdir moves neither its Run, nor its recheck, nor the next job.
    assert where == [start, start, start, start]
    assert os.getcwd() == start


def test_a_job_deletes_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    monkeypatch.chdir(doomed)
    checked: list[str] = []

    class Deletes(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            os.rmdir(doomed)

    class Needs(dojobber.Job):
        DEPS = [Deletes]

        def Check(self, *args: Any, **kwargs: Any) -> None:
            checked.append("Needs")

    dojob = configure(Needs)
    dojob.checknrun()
    # The job after it cannot start where the run started: it fails with
    # the reason, without its Check being called.
    assert dojob.nodestatus == {"Deletes": True, "Needs": False}
    error = dojob.nodeexceptions["Needs"]
    assert isinstance(error, FileNotFoundError) and error.filename == str(doomed)
    assert checked == []
    assert lines(capsys.readouterr().err) == [
        "Deletes.check: pass", "Needs.check: fail", "Needs.check: fail"
    ]
    # A run started from the deleted directory still works: there is no
    # directory to return to, so none is restored.
    monkeypatch.setattr(Deletes, "Check", lambda self: None)
    dojob.checknrun()
    assert dojob.nodestatus == {"Deletes": True, "Needs": True}
    assert checked == ["Needs"]


def test_a_recreated_working_directory_lets_the_retries_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    monkeypatch.chdir(doomed)
    now = [0.0]

    def sleep(seconds: float) -> None:  # someone puts the directory back
        doomed.mkdir(exist_ok=True)
        now[0] += seconds

    class Deletes(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            os.rmdir(doomed)
            os.chdir(tmp_path)

    class Needs(dojobber.Job):
        DEPS = [Deletes]

        def Check(self, *args: Any, **kwargs: Any) -> str:
            return os.getcwd()

    dojob = dojobber.DoJobber(clock=lambda: now[0], sleep=sleep)
    dojob.configure(Needs, default_retry_delay=3)
    dojob.checknrun()
    assert dojob.nodestatus == {"Deletes": True, "Needs": True}
    assert dojob.noderesults["Needs"] == str(doomed)
    assert now == [3.0]
    assert os.getcwd() == str(doomed)


# Mutation of configuration and shared state while running


def test_deps_tries_and_delay_are_read_once_at_configure() -> None:
    log = Log()
    late = plain(log, "Late")

    class Mutates(dojobber.Job):
        TRIES = 1

        def Check(self, *args: Any, **kwargs: Any) -> None:
            log.add("check", "Mutates")
            type(self).DEPS = [late]
            type(self).TRIES = 5
            raise ValueError("never")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    dojob = configure(Mutates, default_tries=1)
    dojob.checknrun()
    assert dojob.nodestatus == {"Mutates": False}
    assert log.entries.count(("check", "Mutates")) == 2  # one try: check + recheck
    assert ("check", "Late") not in log.entries
    # Running the same configuration again still uses what configure read.
    dojob.checknrun()
    assert dojob.nodestatus == {"Mutates": False}
    assert log.entries.count(("check", "Mutates")) == 4
    assert ("check", "Late") not in log.entries
    # The next configure sees the new DEPS and TRIES.
    log.entries.clear()
    dojob.configure(Mutates, default_retry_delay=0)
    dojob.checknrun()
    assert dojob.nodestatus == {"Late": True, "Mutates": False}
    assert log.entries.count(("check", "Mutates")) == 10


def test_mutating_a_deps_list_in_place_mid_run() -> None:
    log = Log()
    first = plain(log, "First")
    deps: list[type[dojobber.Job]] = [first]

    class Grows(dojobber.Job):
        DEPS = deps

        def Check(self, *args: Any, **kwargs: Any) -> None:
            deps.append(plain(log, "Added"))
            deps.remove(first)

    dojob = configure(Grows)
    dojob.checknrun()
    assert dojob.nodestatus == {"First": True, "Grows": True}
    assert list(dojob.graph.nodes()) == ["First", "Grows"]


def test_global_storage_is_shared_and_survives_any_mutation() -> None:
    seen: list[Any] = []

    class Clears(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            self.global_storage["from Clears"] = 1
            self.global_storage.clear()
            self.global_storage["kept"] = [1]
            self.global_storage = {"mine": "only"}  # rebinds this instance only
            self.storage["x"] = 1

    class Reads(dojobber.Job):
        DEPS = [Clears]

        def Check(self, *args: Any, **kwargs: Any) -> None:
            seen.append((repr(self.global_storage), repr(self.storage)))
            self.global_storage["kept"].append(2)
            del self.global_storage["kept"]

    dojob = configure(Reads)
    dojob.checknrun()
    dojob.checknrun()
    # Each checknrun starts with a fresh global_storage and fresh storage.
    assert seen == [("{'kept': [1]}", "{}"), ("{'kept': [1]}", "{}")]
    assert dojob.success()


def test_a_job_that_breaks_its_own_instance_attributes() -> None:
    """Deleting or replacing the scheduler's attributes only hurts that job."""

    class Vandal(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            del self.storage
            del self.global_storage
            self._check_phase = "nonsense"
            raise ValueError("run me")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            self.Check = None  # type: ignore[assignment]

    class After(dojobber.Job):
        DEPS = [Vandal]

        def Check(self, *args: Any, **kwargs: Any) -> None:
            pass

    dojob = configure(After)
    dojob.checknrun()
    assert dojob.nodestatus == {"Vandal": False, "After": None}
    assert isinstance(dojob.nodeexceptions["Vandal"], TypeError)


# What Check may return


class BoolRaises:
    def __bool__(self) -> bool:
        raise RuntimeError("no truth")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no equality")

    __hash__ = None  # type: ignore[assignment]


def generator() -> Any:
    yield 1


ODD_RESULTS: list[tuple[str, Callable[[], Any]]] = [
    ("None", lambda: None),
    ("False", lambda: False),
    ("zero", lambda: 0),
    ("empty", lambda: ""),
    ("NaN", lambda: float("nan")),
    ("exception-instance", lambda: ValueError("returned, not raised")),
    ("NotImplemented", lambda: NotImplemented),
    ("generator", generator),
    ("bool-and-eq-raise", BoolRaises),
    ("a-class", lambda: dojobber.Job),
    ("huge-list", lambda: list(range(100_000))),
]


@pytest.mark.parametrize("make", [m for _, m in ODD_RESULTS], ids=[i for i, _ in ODD_RESULTS])
def test_check_returning_odd_objects_passes(
    make: Callable[[], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Check passes by returning, whatever it returns (as in 0.6.2)."""
    returned: list[Any] = []

    class Odd(dojobber.Job):
        def Check(self, *args: Any, **kwargs: Any) -> Any:
            returned.append(make())
            return returned[-1]

    class After(dojobber.Job):
        DEPS = [Odd]

        def Check(self, *args: Any, **kwargs: Any) -> Any:
            return self  # the job instance itself

    dojob = configure(After)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dojob.checknrun()
    # Only exactly False earns a warning (tests/test_false_check.py); 0, "" do not.
    assert [str(w.message).split(",")[0] for w in caught] == (
        ["Odd.Check returned False"] if returned[0] is False else [])
    assert dojob.nodestatus == {"Odd": True, "After": True}
    assert dojob.noderesults["Odd"] is returned[0]
    assert isinstance(dojob.noderesults["After"], After)
    assert dojob.success() is True
    assert lines(capsys.readouterr().err) == ["Odd.check: pass", "After.check: pass"]
    assert 'color="green"' in dojob.graph_dot() or "color=green" in dojob.graph_dot()


# Output streams that cannot show the message


def test_a_message_the_stream_cannot_encode_does_not_end_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(raw, encoding="ascii"))
    log = Log()
    dojob = configure(plain(log, "Root", [faulty(log, "check", lambda: OSError(NON_ASCII))]),
                      default_tries=1)
    dojob.checknrun()
    sys.stderr.flush()
    assert dojob.nodestatus == {"Faulty": False, "Root": None}
    assert raw.getvalue().decode("ascii").splitlines()[-1] == (
        'Faulty.recheck: fail "Z\\xe4rd\\xf6z \\u2603 \\U0001f3ac \\u4e0d \\u200f"'
    )


@pytest.mark.parametrize("encoding", ["ascii", "utf-8:strict", "latin-1"])
def test_real_stderr_with_any_encoding(encoding: str, tmp_path: Path) -> None:
    script = tmp_path / "odd_messages.py"
    script.write_text(textwrap.dedent("""
        import dojobber

        class Odd(dojobber.Job):
            def Check(self):
                raise RuntimeError("caf\\u00e9 \\U0001f3ac \\udcff")
            def Run(self):
                pass

        class Root(dojobber.Job):
            DEPS = [Odd]
            def Check(self):
                pass

        dojob = dojobber.DoJobber()
        dojob.configure(Root, verbose=True, default_tries=1)
        dojob.checknrun()
        print(dojob.nodestatus)
    """))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, timeout=60, check=False,
        env={**os.environ, "PYTHONIOENCODING": encoding},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == b"{'Odd': False, 'Root': None}"
    last = done.stderr.splitlines()[-1]
    assert last.startswith(b'Odd.recheck: fail "caf')
    assert last.endswith(b'\\udcff"')
