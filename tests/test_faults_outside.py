"""Fault injection from outside the jobs: nothing may corrupt a run.

A job that calls ``checknrun()`` on its own DoJobber, two threads sharing
one, observers that raise in every method, exceptions that cannot be
described, and the example script with its stderr or stdout closed, broken
or full. See docs/robustness.rst.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dojobber import DoJobber, DoJobberError, DummyJob, Job, Observer, Outcome
from dojobber.dojobber import ALREADY_RUNNING
from dojobber.events import EVENTS
from dojobber.progress import ProgressLine

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"

ENGINES = pytest.mark.parametrize("workers", [1, 3], ids=["sequential", "threads"])


# One run at a time per DoJobber


@ENGINES
def test_a_job_cannot_start_a_nested_run_and_the_outer_run_goes_on(workers: int) -> None:
    dojob = DoJobber()
    refused: list[str] = []
    cleaned: list[str] = []

    class Sib(Job):
        def Check(self, *args: Any, **kwargs: Any) -> str:
            return "sib"

    class Nested(Job):
        DEPS = [Sib]

        def Check(self, *args: Any, **kwargs: Any) -> str:
            if self._check_phase == "check":
                raise ValueError("run me")
            return "nested"

        def Run(self, *args: Any, **kwargs: Any) -> None:
            for call in (lambda: dojob.checknrun(Sib), dojob.checknrun, dojob.cleanup,
                         lambda: dojob.configure(Sib)):
                try:
                    call()
                except DoJobberError as error:
                    refused.append(str(error))
            refused.append(f"{len(cleaned)} cleaned during the run")

        def Cleanup(self) -> None:
            cleaned.append("Nested")

    class Root(Job):
        DEPS = [Sib, Nested]

        def Check(self, *args: Any, **kwargs: Any) -> None:
            pass

    dojob.configure(Root, workers=workers)
    dojob.checknrun()
    assert refused == [
        ALREADY_RUNNING,
        ALREADY_RUNNING,
        "cleanup() cannot be called while checknrun is running on this DoJobber",
        "configure() cannot be called while checknrun is running on this DoJobber",
        "0 cleaned during the run",
    ]
    assert ALREADY_RUNNING == (
        "checknrun is already running on this DoJobber; "
        "use another DoJobber object for a nested run"
    )
    assert dojob.nodestatus == {"Sib": True, "Nested": True, "Root": True}
    assert dojob.noderesults == {"Sib": "sib", "Nested": "nested", "Root": None}
    assert dojob.success() is True
    assert cleaned == ["Nested"]  # once, after its try was over
    # The refusals left nothing behind: the next run works as usual.
    dojob.checknrun()
    assert dojob.success() is True and cleaned == ["Nested", "Nested"]


@ENGINES
def test_a_job_may_run_a_sub_graph_with_a_dojobber_of_its_own(workers: int) -> None:
    inner_status: list[Any] = []

    class Inner(Job):
        def Check(self, *args: Any, **kwargs: Any) -> str:
            return "inner"

    class Outer(Job):
        def Check(self, *args: Any, **kwargs: Any) -> str:
            if self._check_phase == "check":
                raise ValueError("run me")
            return "outer"

        def Run(self, *args: Any, **kwargs: Any) -> None:
            own = DoJobber()
            own.configure(type("InnerRoot", (Job,), {"DEPS": [Inner],
                                                     "Check": lambda self: None}),
                          workers=workers)
            own.checknrun()
            inner_status.append(own.nodestatus)

    dojob = DoJobber()
    dojob.configure(Outer, workers=workers)
    dojob.checknrun()
    assert dojob.nodestatus == {"Outer": True} and dojob.noderesults == {"Outer": "outer"}
    assert inner_status == [{"Inner": True, "InnerRoot": True}]


@ENGINES
def test_a_second_thread_cannot_run_the_same_dojobber_meanwhile(workers: int) -> None:
    made: list[str] = []
    cleaned: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    class Counted(Job):
        def __init__(self) -> None:
            made.append(type(self).__name__)

        def Check(self, *args: Any, **kwargs: Any) -> None:
            pass

        def Cleanup(self) -> None:
            cleaned.append(type(self).__name__)

    class Slow(Counted):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            inside.set()
            assert release.wait(60)

    leaves = [type(f"Leaf{k}", (Counted,), {}) for k in range(5)]
    root = type("Root", (Counted,), {"DEPS": [Slow, *leaves]})
    dojob = DoJobber()
    dojob.configure(root, workers=workers)
    failures: list[BaseException] = []

    def first_run() -> None:
        try:
            dojob.checknrun()
        except BaseException as error:  # the test below reports it
            failures.append(error)

    runner = threading.Thread(target=first_run)
    runner.start()
    try:
        assert inside.wait(60)
        with pytest.raises(DoJobberError) as caught:
            dojob.checknrun()
        assert str(caught.value) == ALREADY_RUNNING
        with pytest.raises(DoJobberError, match="cleanup"):
            dojob.cleanup()
    finally:
        release.set()
        runner.join(60)
    assert failures == []
    assert dojob.success() is True and len(dojob.nodestatus) == 7
    assert Counter(made) == Counter(cleaned) and len(made) == 7


@ENGINES
def test_two_dojobbers_in_two_threads_both_work(workers: int) -> None:
    meet = threading.Barrier(2, timeout=60)
    dojobs = [DoJobber(), DoJobber()]
    failures: list[BaseException] = []

    def graph(tag: str) -> type[Job]:
        class Meets(Job):
            def Check(self, *args: Any, **kwargs: Any) -> str:
                if self._check_phase == "check":
                    raise ValueError("not yet")
                return f"{tag} met"

            def Run(self, *args: Any, **kwargs: Any) -> None:
                meet.wait()  # both runs are inside a try at once

        leaves = [type(f"{tag}{k}", (Job,), {"Check": lambda self, **kw: kw["who"]})
                  for k in range(4)]
        return type(f"{tag}Root", (Job,), {"DEPS": [Meets, *leaves],
                                           "Check": lambda self, **kw: None})

    def run(dojob: DoJobber, tag: str) -> None:
        try:
            dojob.configure(graph(tag), workers=workers)
            dojob.set_args(who=tag)
            dojob.checknrun()
        except BaseException as error:  # the test below reports it
            failures.append(error)

    threads = [threading.Thread(target=run, args=(dojob, tag))
               for dojob, tag in zip(dojobs, ["A", "B"], strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    for dojob, tag in zip(dojobs, ["A", "B"], strict=True):
        assert dojob.success() is True
        assert dojob.noderesults["Meets"] == f"{tag} met"
        assert [dojob.noderesults[f"{tag}{k}"] for k in range(4)] == [tag] * 4


# Observers that raise


class Witness(Observer):
    """Records every event, to compare with a run that had no broken observer."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()

    def _add(self, *event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def run_started(self, jobs: Any) -> None:
        self._add("run_started", tuple(jobs))

    def try_started(self, job: str, number: int) -> None:
        self._add("try_started", job, number)

    def not_created(self, job: str, error: BaseException) -> None:
        self._add("not_created", job)

    def phase_ended(self, job: str, phase: str, error: BaseException | None) -> None:
        self._add("phase_ended", job, phase, error is None)

    def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
        self._add("try_ended", job, outcome)

    def cleanup_started(self, job: str) -> None:
        self._add("cleanup_started", job)

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        self._add("cleanup_ended", job, error is None)

    def run_ended(self, result: Any) -> None:
        self._add("run_ended", result.success)


class StrExits(Exception):
    """An exception whose ``__str__`` raises SystemExit."""

    def __str__(self) -> str:
        raise SystemExit("no str")


def broken_observer(events: str | tuple[str, ...], error: BaseException) -> Witness:
    """A Witness that raises ``error`` in the methods named in ``events``."""

    class Broken(Witness):
        def _add(self, *event: Any) -> None:
            super()._add(*event)
            if event[0] in events:
                raise error

    return Broken()


def mixed_graph(cleaned: list[str]) -> type[Job]:
    """Every kind of event: a pass, a pass after Run, a failed __init__,
    a failed job, a blocked one, a Cleanup that fails."""

    class Cleans(Job):
        def Cleanup(self) -> None:
            cleaned.append(type(self).__name__)

    class Passes(Cleans):
        def Check(self, *args: Any, **kwargs: Any) -> str:
            return "passes"

    class AfterRun(Cleans):
        def Check(self, *args: Any, **kwargs: Any) -> str:
            if self._check_phase == "check":
                raise ValueError("run me")
            return "after run"

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    class NoInit(DummyJob):
        def __init__(self) -> None:
            raise OSError("no instance")

    class Fails(Cleans):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("always")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    class Blocked(DummyJob):
        DEPS = [Fails]

    class MessyCleanup(Passes):
        def Cleanup(self) -> None:
            super().Cleanup()
            raise LookupError("messy")

    return type("Root", (Job,), {
        "DEPS": [Passes, AfterRun, NoInit, Blocked, MessyCleanup],
        "Check": lambda self: None,
    })


def run_mixed(workers: int, *observers: Observer) -> tuple[DoJobber, list[str]]:
    cleaned: list[str] = []
    dojob = DoJobber("ERROR")
    dojob.configure(mixed_graph(cleaned), workers=workers, default_tries=2,
                    default_retry_delay=0, observers=list(observers))
    with pytest.raises(LookupError, match="messy"):
        dojob.checknrun()
    return dojob, cleaned


def outcome(dojob: DoJobber, cleaned: list[str]) -> Any:
    return (dojob.nodestatus, dojob.noderesults,
            {name: repr(error) for name, error in dojob.nodeexceptions.items()},
            sorted(cleaned), [timeless(job.to_dict()) for job in dojob.report().jobs],
            dojob.report().cleanup_errors)


def timeless(job: dict[str, Any]) -> dict[str, Any]:
    """A job's report without its times (they differ from run to run)."""
    untimed = {"start": 0, "seconds": 0}
    return job | {"seconds": 0, "history": [
        one | untimed | {"phases": [phase | untimed for phase in one["phases"]]}
        for one in job["history"]]}


@pytest.fixture
def dojobber_log() -> Iterator[list[logging.LogRecord]]:
    """The records of the DoJobber developer log, at every level."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("DoJobber")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


ERRORS = [RuntimeError("observer broke"), SystemExit(3), StrExits()]


@ENGINES
@pytest.mark.parametrize("error", ERRORS, ids=["RuntimeError", "SystemExit", "str-exits"])
@pytest.mark.parametrize("event", EVENTS)
def test_an_observer_that_raises_changes_nothing(
    event: str, error: BaseException, workers: int,
    dojobber_log: list[logging.LogRecord], capsys: pytest.CaptureFixture[str],
) -> None:
    before, after = Witness(), Witness()
    expected, expected_cleaned = run_mixed(workers, before)
    broken = broken_observer(event, error)
    dojob, cleaned = run_mixed(workers, broken, after)
    assert outcome(dojob, cleaned) == outcome(expected, expected_cleaned)
    # Every other observer saw the whole run.
    assert Counter(after.events) == Counter(before.events)
    # The broken one saw nothing after its first failure, but run_ended.
    first = next(k for k, e in enumerate(broken.events) if e[0] == event)
    assert broken.events[first + 1:] in ([], [("run_ended", False)])
    assert ("run_ended", False) in broken.events
    [failure] = dojob.report().observer_errors
    assert failure.observer == f"{__name__}.broken_observer.<locals>.Broken"
    assert failure.event == event
    assert failure.error.type.endswith(type(error).__name__)
    assert failure.error.message == ("<StrExits: str() failed>"
                                     if isinstance(error, StrExits) else str(error))
    assert dojob.report().to_dict()["observer_errors"] == [failure.to_dict()]
    [logged] = [r for r in dojobber_log if r.getMessage().startswith("Observer")]
    assert logged.getMessage() == (
        f"Observer {failure.observer} raised in {event}; "
        "it is switched off for the rest of the run"
    )
    assert logged.exc_info is not None and logged.exc_info[1] is error
    # The next run starts with every observer switched on again.
    with pytest.raises(LookupError):
        dojob.checknrun()
    assert len(dojob.report().observer_errors) == 1
    capsys.readouterr()


@ENGINES
def test_an_observer_that_raises_everywhere_loses_no_cleanup(workers: int) -> None:
    expected, expected_cleaned = run_mixed(workers)
    dojob, cleaned = run_mixed(workers, broken_observer(EVENTS, OSError("everywhere")))
    assert outcome(dojob, cleaned) == outcome(expected, expected_cleaned)
    assert [f.event for f in dojob.report().observer_errors] == ["run_started"]


def test_keyboard_interrupt_from_an_observer_stops_the_run_like_ctrl_c() -> None:
    seen = Witness()
    cleaned: list[str] = []

    class Stops(Observer):
        def try_ended(self, job: str, outcome: Outcome, error: Any) -> None:
            if job == "AfterRun":
                raise KeyboardInterrupt

    dojob = DoJobber()
    dojob.configure(mixed_graph(cleaned), observers=[Stops(), seen], default_retry_delay=0)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert dojob.nodestatus["Passes"] is True and dojob.nodestatus["Root"] is None
    assert cleaned == ["AfterRun", "Passes"]
    assert [e[0] for e in seen.events[-5:]] == [
        "run_ended", "cleanup_started", "cleanup_ended", "cleanup_started", "cleanup_ended"]
    assert dojob.report().interrupted is True


def progress_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "dojobber-progress"]


class Quick(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


@ENGINES
@pytest.mark.parametrize("error", [RuntimeError("no start"), KeyboardInterrupt()],
                         ids=["RuntimeError", "KeyboardInterrupt"])
def test_the_progress_thread_stops_when_another_observer_breaks_run_started(
    workers: int, error: BaseException,
) -> None:
    line = ProgressLine(open(os.devnull, "w"), delay=0, interval=0.001)  # noqa: SIM115
    dojob = DoJobber()
    dojob.configure(Quick, workers=workers,
                    observers=[line, broken_observer("run_started", error)])
    if isinstance(error, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            dojob.checknrun()
    else:
        dojob.checknrun()
        assert dojob.success() is True
    assert progress_threads() == []


def test_the_progress_thread_stops_when_its_own_observer_is_switched_off() -> None:
    class BrokenLine(ProgressLine):
        def try_ended(self, job: str, outcome: Outcome, error: Any) -> None:
            raise ValueError("cannot count")

    dojob = DoJobber()
    line = BrokenLine(open(os.devnull, "w"), delay=0, interval=0.001)  # noqa: SIM115
    dojob.configure(Quick, observers=[line])
    dojob.checknrun()
    assert dojob.success() is True
    assert progress_threads() == []
    assert [f.event for f in dojob.report().observer_errors] == ["try_ended"]


# Exceptions that cannot be described


class StrNotAString(Exception):
    def __str__(self) -> Any:
        return 42


@ENGINES
@pytest.mark.parametrize("kind", [StrExits, StrNotAString])
def test_an_exception_that_cannot_be_shown_changes_nothing(
    kind: type[Exception], workers: int, capsys: pytest.CaptureFixture[str],
) -> None:
    class Hostile(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            raise kind()

        def Run(self, *args: Any, **kwargs: Any) -> None:
            raise kind()

        def Cleanup(self) -> None:
            raise kind()

    class After(DummyJob):
        DEPS = [Hostile]

    dojob = DoJobber()
    dojob.configure(type("Top", (Job,), {"DEPS": [After, Quick], "Check": lambda self: None}),
                    debug=True, default_tries=1, workers=workers)
    with pytest.raises(kind):
        dojob.checknrun()
    assert dojob.nodestatus == {"Hostile": False, "After": None, "Quick": True, "Top": None}
    shown = f"<{kind.__name__}: str() failed>"
    err = capsys.readouterr().err.splitlines()
    assert f'Hostile.recheck: fail "{shown}"' in err
    assert f'Hostile.cleanup: fail "{shown}"' in err
    report = dojob.report()
    assert report["Hostile"].error is not None
    assert report["Hostile"].error.message == shown
    assert report.cleanup_errors[0].error.message == shown
    assert f"failed: Hostile after 1 try: {report['Hostile'].error}" in report.summary()
    assert shown in report.to_json()


# The example's three scenarios, with a broken observer or broken streams

SCENARIOS = {
    "default": (["-v", "--no-x11"], 1),
    "success": (["-v", "--no-x11", "--battery_state", "charged", "--couch_space"], 0),
    "no-act": (["-n", "-v", "--no-x11"], 1),
}

DRIVER = textwrap.dedent("""
    import sys
    import dojobber
    import dojobber_example

    BROKEN = sys.argv[1].split(",")

    class Broken(dojobber.Observer):
        pass

    def breaks(event):
        def method(self, *args):
            if event in BROKEN:
                raise RuntimeError("observer broke in " + event)
        return method

    for event in dojobber.events.EVENTS:
        setattr(Broken, event, breaks(event))

    configure = dojobber.DoJobber.configure

    def with_broken_observer(self, root, *args, **kwargs):
        kwargs["observers"] = [Broken()]
        return configure(self, root, *args, **kwargs)

    dojobber.DoJobber.configure = with_broken_observer
    sys.exit(dojobber_example.main(sys.argv[2:]))
""")


def run_example(args: list[str], broken: str = "", **streams: Any) -> subprocess.CompletedProcess[str]:
    """The example script, through a driver that adds an observer raising
    in each method named in ``broken`` (comma-separated)."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    options.update(streams)
    return subprocess.run([sys.executable, "-c", DRIVER, broken, *args], cwd=TESTS,
                          text=True, timeout=120, check=False, **options)


@pytest.fixture(scope="module")
def clean_stdout() -> dict[str, str]:
    """What the example prints on stdout in each scenario, undisturbed."""
    return {name: run_example(args).stdout for name, (args, _) in SCENARIOS.items()}


@pytest.mark.parametrize("broken", [*EVENTS, ",".join(EVENTS)],
                         ids=[*EVENTS, "every-method"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_example_with_a_broken_observer_keeps_its_golden_trace(
    scenario: str, broken: str, clean_stdout: dict[str, str],
) -> None:
    args, code = SCENARIOS[scenario]
    done = run_example(args, broken)
    assert done.stderr == (GOLDEN / f"example-verbose-{scenario}.txt").read_text()
    assert done.stdout == clean_stdout[scenario]
    assert done.returncode == code


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_example_in_threads_with_an_observer_broken_everywhere(
    scenario: str, clean_stdout: dict[str, str],
) -> None:
    args, code = SCENARIOS[scenario]
    done = run_example([*args, "--workers", "3"], ",".join(EVENTS))
    expected = (GOLDEN / f"example-verbose-{scenario}.txt").read_text()
    assert sorted(done.stderr.splitlines()) == sorted(expected.splitlines())
    assert done.stdout == clean_stdout[scenario]
    assert done.returncode == code


OUTPUTS = [("stderr", "closed"), ("stderr", "broken"), ("stderr", "full"), ("stdout", "closed")]


@pytest.mark.parametrize("stream, how", OUTPUTS, ids=["-".join(o) for o in OUTPUTS])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_example_with_its_output_closed_broken_or_full(
    scenario: str, stream: str, how: str, clean_stdout: dict[str, str],
) -> None:
    """DoJobber's lines cannot be written: the run is the same, silently.
    (The example prints on stdout itself; DoJobber only ever looks at a
    closed one, so only that case is DoJobber's business there.)"""
    args, code = SCENARIOS[scenario]
    fd = 1 if stream == "stdout" else 2
    if how == "closed":
        done = run_example(args, **{stream: subprocess.DEVNULL},
                           preexec_fn=lambda: os.close(fd))
    elif how == "broken":
        read, write = os.pipe()
        os.close(read)  # a pipe nobody reads: every write to it fails
        try:
            done = run_example(args, **{stream: write})
        finally:
            os.close(write)
    else:
        with open("/dev/full", "w") as full:
            done = run_example(args, **{stream: full})
    assert done.returncode == code
    if stream == "stderr":
        assert done.stdout == clean_stdout[scenario]
    else:
        assert done.stderr == (GOLDEN / f"example-verbose-{scenario}.txt").read_text()
