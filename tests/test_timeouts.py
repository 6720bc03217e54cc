"""TIMEOUT and default_timeout: a try that takes too long fails, the run goes on.

Every hanging job here blocks on an Event that the test never sets while
the run lasts; a watchdog timer sets it after a minute, so that a broken
timeout makes the test fail (the job would then pass) instead of hanging
the suite. No test measures how long anything took.
"""

from __future__ import annotations

import functools
import logging
import math
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import dojobber
from conftest import make_job
from dojobber import DoJobber, DummyJob, Job, JobTimeoutError, Observer, Outcome
from dojobber.backoff import Backoff

WATCHDOG = 60.0  # seconds; only reached when timeouts are broken


@pytest.fixture
def stuck() -> Iterator[threading.Event]:
    """An Event nobody sets during the run: a call that never returns."""
    event = threading.Event()
    watchdog = threading.Timer(WATCHDOG, event.set)
    watchdog.daemon = True
    watchdog.start()
    yield event
    watchdog.cancel()
    event.set()  # release the tries a thread left behind
    for thread in threading.enumerate():
        if thread.name.startswith("dojobber-try-"):
            thread.join(WATCHDOG)


class Trace(Observer):
    """Every event of a try, in order, as (event, job, detail) tuples."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def try_started(self, job: str, number: int) -> None:
        self.events.append(("try_started", job, number))

    def not_created(self, job: str, error: BaseException) -> None:
        self.events.append(("not_created", job, type(error).__name__))

    def phase_ended(self, job: str, phase: str, error: BaseException | None) -> None:
        self.events.append(("phase_ended", job, phase, type(error).__name__))

    def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
        self.events.append(("try_ended", job, outcome.value, type(error).__name__))


def hanging(stuck: threading.Event, log: list[str], name: str = "Hang", *,
            phase: str = "check", **attrs: Any) -> type[Job]:
    """A job whose ``phase`` blocks until ``stuck`` is set; it logs when the
    blocking call is left (returned or interrupted)."""

    def block(where: str) -> None:
        try:
            stuck.wait()
        finally:
            log.append(f"left {where}")

    def check(job: Job) -> None:
        if job._check_phase == phase:
            block(phase)
        if phase != "check" and job._check_phase == "check":
            raise LookupError("not there yet")

    def run(job: Job) -> None:
        if phase == "run":
            block("run")

    attrs.setdefault("TIMEOUT", 0.5)
    attrs.setdefault("RETRY_DELAY", 0)
    return make_job(name, check=check, run=run, **attrs)


def configure(root: type[Job], **options: Any) -> tuple[DoJobber, Trace]:
    trace = Trace()
    dojob = DoJobber()
    dojob.configure(root, observers=[trace], **options)
    return dojob, trace


def in_thread(function: Any) -> None:
    """Call ``function`` in a thread other than the main one, and wait for it."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            function()
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(WATCHDOG * 2)
    assert not thread.is_alive()
    if failure:
        raise failure[0]


ENGINES = [
    pytest.param({"workers": 1}, id="sequential-main-thread"),
    pytest.param({"workers": 3}, id="threads"),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_hung_check_fails_its_try_and_the_run_goes_on(
    engine: dict[str, Any], stuck: threading.Event
) -> None:
    log: list[str] = []
    hang = hanging(stuck, log, TRIES=2)
    other = make_job("Other", check=lambda job: "fine")
    after = make_job("After", deps=(hang,))
    dojob, trace = configure(make_job("Root", deps=(hang, other, after)), **engine)
    dojob.checknrun()

    assert not stuck.is_set()  # the watchdog did not have to help
    assert dojob.nodestatus == {"Hang": False, "Other": True, "After": None, "Root": None}
    assert dojob.noderesults == {"Other": "fine"}
    error = dojob.nodeexceptions["Hang"]
    assert type(error) is JobTimeoutError
    assert isinstance(error, TimeoutError) and isinstance(error, dojobber.DoJobberError)
    assert (error.job, error.phase, error.timeout) == ("Hang", "check", 0.5)
    assert str(error) == (
        "job 'Hang' timed out during check: the try took longer than its TIMEOUT of 0.5 seconds"
    )
    # A timed-out try counts as a try: the job got both of its tries.
    assert dojob.report()["Hang"].tries == 2
    hang_events = [e for e in trace.events if e[1] == "Hang"]
    assert hang_events == [
        ("try_started", "Hang", 1),
        ("phase_ended", "Hang", "check", "JobTimeoutError"),
        ("try_ended", "Hang", "failed", "JobTimeoutError"),
        ("try_started", "Hang", 2),
        ("phase_ended", "Hang", "check", "JobTimeoutError"),
        ("try_ended", "Hang", "failed", "JobTimeoutError"),
    ]
    if engine["workers"] == 1:
        # In the main thread the alarm interrupts the blocking call itself.
        assert log == ["left check", "left check"]
    else:
        # A worker thread cannot be interrupted: the tries were left behind.
        assert log == []


def test_the_error_pickles_with_its_data() -> None:
    """A try run in another process (an executor) sends its error back."""
    error = pickle.loads(pickle.dumps(JobTimeoutError("Hang", "run", 2.5)))
    assert (type(error), error.job, error.phase, error.timeout) == (
        JobTimeoutError, "Hang", "run", 2.5)
    assert str(error) == (
        "job 'Hang' timed out during run: the try took longer than its TIMEOUT of 2.5 seconds"
    )


def test_sequential_run_from_another_thread_abandons_the_try(stuck: threading.Event) -> None:
    log: list[str] = []
    hang = hanging(stuck, log)
    dojob, trace = configure(make_job("Root", deps=(hang, make_job("Other"))))
    in_thread(dojob.checknrun)
    assert dojob.nodestatus == {"Hang": False, "Other": True, "Root": None}
    assert type(dojob.nodeexceptions["Hang"]) is JobTimeoutError
    assert log == []  # still blocked in its thread: abandoned, not interrupted


@pytest.mark.parametrize("engine", ENGINES)
def test_an_abandoned_try_never_touches_the_run_afterwards(
    engine: dict[str, Any], stuck: threading.Event
) -> None:
    """When the stuck call returns at last, the try goes on in its thread:
    its Check passes, but nothing of it reaches the results, the events,
    the report or the Cleanups."""
    log: list[str] = []
    cleaned: list[str] = []

    def check(job: Job) -> str:
        stuck.wait()
        log.append("check returned")
        return "too late"

    slow = make_job("Slow", check=check, TIMEOUT=0.2, TRIES=1,
                    Cleanup=lambda job: cleaned.append("Slow"))
    dojob, trace = configure(make_job("Root", deps=(slow,)), **engine)
    run = dojob.checknrun if engine["workers"] > 1 else (lambda: in_thread(dojob.checknrun))
    run()
    def state() -> tuple[Any, ...]:
        # The picture reads the run's own outcomes, not a copy made when it ended.
        return (dict(dojob.nodestatus), list(trace.events), dojob.report().to_dict(),
                dojob.graph_dot(), dojob.partial_success())

    before = state()
    stuck.set()
    for thread in threading.enumerate():
        if thread.name == "dojobber-try-Slow":
            thread.join(WATCHDOG)
    assert log == ["check returned"]
    assert state() == before
    assert dojob.nodestatus == {"Slow": False, "Root": None}
    dojob.cleanup()
    assert cleaned == []  # its instance never reached the run


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("phase", ["run", "recheck"])
def test_the_error_names_the_phase_and_the_try_ends_there(
    engine: dict[str, Any], phase: str, stuck: threading.Event
) -> None:
    log: list[str] = []
    hang = hanging(stuck, log, phase=phase, TRIES=1)
    dojob, trace = configure(hang, **engine)
    dojob.checknrun()
    error = dojob.nodeexceptions["Hang"]
    assert (type(error), error.phase) == (JobTimeoutError, phase)
    phases = [e[2:] for e in trace.events if e[0] == "phase_ended"]
    if phase == "run":
        # No recheck after a Run that ran out of time.
        assert phases == [("check", "LookupError"), ("run", "JobTimeoutError")]
    else:
        assert phases == [
            ("check", "LookupError"), ("run", "NoneType"), ("recheck", "JobTimeoutError")
        ]


def test_a_check_that_swallows_the_alarm_still_times_out() -> None:
    """A bare ``except`` cannot turn a timed-out try into a pass: the alarm
    comes back while the try goes on, and an outcome after it is too late."""
    seen: list[str] = []

    def check(job: Job) -> str:
        deadline = time.monotonic() + WATCHDOG
        while time.monotonic() < deadline:
            try:
                time.sleep(WATCHDOG)
            except BaseException as caught:  # noqa: BLE001 - what is tested
                seen.append(type(caught).__name__)
                if len(seen) == 2:
                    return "passed anyway"
        return "watchdog"

    dojob, trace = configure(make_job("Greedy", check=check, TIMEOUT=0.2, TRIES=1))
    dojob.checknrun()
    assert seen == ["TryExpired", "TryExpired"]
    assert dojob.nodestatus == {"Greedy": False}
    assert type(dojob.nodeexceptions["Greedy"]) is JobTimeoutError
    assert [e[0] for e in trace.events] == ["try_started", "phase_ended", "try_ended"]


def test_the_alarm_never_cuts_dojobbers_own_code_in_half() -> None:
    """An alarm due while DoJobber's own code runs for the run (here called
    by an observer) waits until the job's code runs again. DoJobber's
    jitter arithmetic is handed a random source that blocks for longer than
    the TIMEOUT, in C code (so the innermost Python frame is DoJobber's): it
    is not interrupted, and the job's Run after it is."""
    held = threading.Lock()
    held.acquire()
    slow_random = functools.partial(held.acquire, True, 0.4)  # False after 0.4 s
    done: list[float] = []

    class Slow(Observer):
        def phase_ended(self, job: str, phase: str, error: BaseException | None) -> None:
            done.append(Backoff(jitter=1).delay(2.0, 1, slow_random))

    def check(job: Job) -> None:
        raise LookupError("not yet")

    careful = make_job("Careful", check=check, run=lambda job: time.sleep(WATCHDOG),
                       TIMEOUT=0.1, TRIES=1)
    dojob = DoJobber()
    dojob.configure(careful, observers=[Slow()])
    dojob.checknrun()
    assert done[0] == 2.0
    error = dojob.nodeexceptions["Careful"]
    assert type(error) is JobTimeoutError and error.phase == "run"


@pytest.mark.parametrize("engine", ENGINES)
def test_fast_jobs_with_a_timeout_run_as_usual(engine: dict[str, Any]) -> None:
    cleaned: list[str] = []
    tries: list[int] = []

    def check(job: Job) -> str:
        if job._check_phase == "check":
            tries.append(1)
            if len(tries) < 2:
                raise LookupError("first try fails")
        return job._check_phase

    quick = make_job("Quick", check=check, run=lambda job: None, TIMEOUT=30,
                     RETRY_DELAY=0, Cleanup=lambda job: cleaned.append("Quick"))
    dojob, trace = configure(make_job("Root", deps=(quick,), TIMEOUT=30), **engine)
    dojob.checknrun()
    assert dojob.nodestatus == {"Quick": True, "Root": True}
    assert dojob.noderesults == {"Quick": "recheck", "Root": None}
    assert cleaned == ["Quick"]  # Cleanup called once per instance, as usual
    assert [e for e in trace.events if e[1] == "Quick"][:4] == [
        ("try_started", "Quick", 1),
        ("phase_ended", "Quick", "check", "LookupError"),
        ("phase_ended", "Quick", "run", "NoneType"),
        ("phase_ended", "Quick", "recheck", "NoneType"),
    ]


def test_default_timeout_applies_and_math_inf_opts_out(stuck: threading.Event) -> None:
    log: list[str] = []
    limited = hanging(stuck, log, "Limited", TIMEOUT=None, TRIES=1)
    patient = make_job("Patient", check=lambda job: time.sleep(0.3) or "waited",
                       TIMEOUT=math.inf)
    dojob, _ = configure(make_job("Root", deps=(limited, patient)), default_timeout=0.1)
    dojob.checknrun()
    assert dojob.nodestatus == {"Limited": False, "Patient": True, "Root": None}
    assert dojob.nodeexceptions["Limited"].timeout == 0.1
    assert dojob.noderesults["Patient"] == "waited"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_hung_init_times_out_in_the_check_phase(
    engine: dict[str, Any], stuck: threading.Event
) -> None:
    class Unborn(DummyJob):
        TIMEOUT = 0.2
        TRIES = 1

        def __init__(self) -> None:
            stuck.wait()

    dojob, trace = configure(Unborn, **engine)
    dojob.checknrun()
    assert dojob.nodeexceptions["Unborn"].phase == "check"
    assert trace.events[1:] == [
        ("phase_ended", "Unborn", "check", "JobTimeoutError"),
        ("try_ended", "Unborn", "failed", "JobTimeoutError"),
    ]


def test_verbose_and_debug_lines_say_what_timed_out(
    stuck: threading.Event, capsys: pytest.CaptureFixture[str]
) -> None:
    log: list[str] = []
    dojob = DoJobber()
    dojob.configure(hanging(stuck, log, TRIES=1), debug=True)
    dojob.checknrun()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (
        "Hang.check: fail \"job 'Hang' timed out during check: the try took longer "
        'than its TIMEOUT of 0.5 seconds"'
    )
    assert lines[1] == "  Error was:"
    # The traceback shows where the job was stuck, and nothing of DoJobber.
    text = "\n".join(lines)
    assert "in block" in text and "stuck.wait()" in text
    assert "dojobber/" not in text.replace("dojobber.errors.JobTimeoutError", "")


def test_debug_shows_where_an_abandoned_try_was_stuck(
    stuck: threading.Event, capsys: pytest.CaptureFixture[str]
) -> None:
    log: list[str] = []
    dojob = DoJobber()
    dojob.configure(hanging(stuck, log, TRIES=1), debug=True, workers=2)
    dojob.checknrun()
    text = capsys.readouterr().err
    assert "in block" in text and "stuck.wait()" in text


def test_someone_elses_alarm_handler_is_left_alone(stuck: threading.Event) -> None:
    """With a SIGALRM handler of the application's own, tries are run in a
    helper thread instead, and the handler is still there afterwards."""
    log: list[str] = []
    calls: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        calls.append(signum)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        dojob, _ = configure(hanging(stuck, log, TRIES=1))
        dojob.checknrun()
        assert signal.getsignal(signal.SIGALRM) is handler
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert type(dojob.nodeexceptions["Hang"]) is JobTimeoutError
    assert log == [] and calls == []  # abandoned, not interrupted


def test_ctrl_c_while_waiting_for_a_timed_try(stuck: threading.Event) -> None:
    """KeyboardInterrupt in the thread that waits for a try: the run stops as
    usual, and the try left behind reports nothing when it ends."""
    log: list[str] = []
    hang = hanging(stuck, log, TIMEOUT=WATCHDOG, TRIES=1)
    dojob, trace = configure(make_job("Root", deps=(hang,)))

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # An alarm of the test's own makes DoJobber use a helper thread (see
    # above); its handler then plays Ctrl-C in the main thread.
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            dojob.checknrun()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert dojob.nodestatus == {"Hang": None, "Root": None}
    events = list(trace.events)
    stuck.set()
    for thread in threading.enumerate():
        if thread.name == "dojobber-try-Hang":
            thread.join(WATCHDOG)
    assert log == ["left check"]
    assert trace.events == events == [("try_started", "Hang", 1)]


@pytest.mark.parametrize("where", ["main", "thread"])
def test_ctrl_c_from_a_timed_job_stops_the_run(where: str) -> None:
    def check(job: Job) -> None:
        raise KeyboardInterrupt

    dojob, _ = configure(make_job("Root", deps=(make_job("Quit", check=check, TIMEOUT=30),)))
    with pytest.raises(KeyboardInterrupt):
        if where == "main":
            dojob.checknrun()
        else:
            in_thread(dojob.checknrun)
    assert dojob.nodestatus == {"Quit": None, "Root": None}


def test_an_abandoned_try_that_raises_later_is_only_logged(
    stuck: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    def check(job: Job) -> None:
        stuck.wait()
        raise KeyboardInterrupt  # would stop a run; this one is over

    dojob, _ = configure(make_job("Late", check=check, TIMEOUT=0.2, TRIES=1), workers=2)
    dojob.checknrun()
    with caplog.at_level(logging.DEBUG, logger="DoJobber"):
        stuck.set()
        for thread in threading.enumerate():
            if thread.name == "dojobber-try-Late":
                thread.join(WATCHDOG)
    assert "Abandoned try of Late raised KeyboardInterrupt()" in caplog.messages
    assert dojob.nodestatus == {"Late": False}


class SlowObserver(Observer):
    """Takes its time over every phase_ended (longer than the TIMEOUT)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def phase_ended(self, job: str, phase: str, error: BaseException | None) -> None:
        time.sleep(0.3)
        self.seen.append((phase, type(error).__name__))


@pytest.mark.parametrize("no_act", [False, True])
def test_the_alarm_never_interrupts_an_observer(no_act: bool) -> None:
    """The limit passes while an observer works: the observer finishes (and
    stays on), and the try fails with JobTimeoutError all the same, even
    though the job itself is quick."""
    observer = SlowObserver()

    def check(job: Job) -> str:
        if no_act:
            raise LookupError("not there")
        return "at once"

    quick = make_job("Quick", check=check, TIMEOUT=0.1, TRIES=1)
    dojob = DoJobber()
    dojob.configure(quick, observers=[observer], no_act=no_act)
    dojob.checknrun()
    first = "LookupError" if no_act else "NoneType"
    assert observer.seen == [("check", first), ("check", "JobTimeoutError")]
    assert type(dojob.nodeexceptions["Quick"]) is JobTimeoutError
    assert dojob.report().observer_errors == []


def test_an_interrupted_try_is_cleaned_up_like_any_other(stuck: threading.Event) -> None:
    """In the main thread the try really ends, so its instance gets its
    Cleanup (one per try, newest first); a try left behind in a thread
    does not (see test_an_abandoned_try_never_touches_the_run_afterwards)."""
    log: list[str] = []
    cleaned: list[int] = []

    def cleanup(job: Job) -> None:
        cleaned.append(job.number)

    class Numbered(Job):
        made = 0

        def __init__(self) -> None:
            Numbered.made += 1
            self.number = Numbered.made

    hang = hanging(stuck, log, TRIES=2, Cleanup=cleanup)
    dojob, _ = configure(type("Hang", (hang, Numbered), {}))
    dojob.checknrun()
    assert log == ["left check", "left check"]
    assert cleaned == [2, 1]


# Issue 25: time limits do not depend on what the job does not control.


def test_a_slow_observer_does_not_hold_the_limit_up(stuck: threading.Event) -> None:
    """Tries in threads: an observer stuck in phase_ended (called in the
    try's thread) does not keep the run waiting past the try's TIMEOUT."""

    class StuckObserver(Observer):
        def phase_ended(self, job: str, phase: str, error: BaseException | None) -> None:
            if job == "Observed" and not isinstance(error, JobTimeoutError):
                stuck.wait()

    def check(job: Job) -> None:
        raise LookupError("not there yet")

    observed = make_job("Observed", check=check, TIMEOUT=0.5, TRIES=1)
    dojob = DoJobber()
    dojob.configure(make_job("Root", deps=(observed, make_job("Other"))),
                    observers=[StuckObserver()], workers=2)
    dojob.checknrun()
    assert not stuck.is_set()  # the run ended while the observer was still stuck
    error = dojob.nodeexceptions["Observed"]
    assert type(error) is JobTimeoutError and error.timeout == 0.5
    assert dojob.nodestatus == {"Observed": False, "Other": True, "Root": None}


def stuck_message(stuck: threading.Event) -> type[Exception]:
    class Unspeakable(Exception):
        def __str__(self) -> str:
            stuck.wait()
            return "spoken at last"

    return Unspeakable


@pytest.mark.parametrize("engine", ENGINES)
def test_an_exception_whose_str_hangs_is_described_by_its_type(
    engine: dict[str, Any], stuck: threading.Event, capsys: pytest.CaptureFixture[str]
) -> None:
    unspeakable = stuck_message(stuck)

    def check(job: Job) -> None:
        raise unspeakable()

    dojob = DoJobber()
    dojob.configure(make_job("Mute", check=check, TIMEOUT=0.5, TRIES=1), verbose=True,
                    **engine)
    dojob.checknrun()
    assert not stuck.is_set()
    assert type(dojob.nodeexceptions["Mute"]) is JobTimeoutError
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Mute.check: fail"
    assert lines[-1].startswith("Mute.") and "timed out during" in lines[-1]
    if engine["workers"] == 1:
        # The alarm ended the run report's description of the Check's
        # error, which says so; the try then timed out. (The thread engine
        # leaves the description behind, still stuck, with the try.)
        check = dojob.report().jobs[0].history[0].phases[0]
        assert check.phase == "check" and check.error is not None
        assert check.error.message == "<Unspeakable: str() did not return before the job's TIMEOUT>"


def test_debug_traceback_of_an_exception_whose_str_hangs(
    stuck: threading.Event, capsys: pytest.CaptureFixture[str]
) -> None:
    unspeakable = stuck_message(stuck)

    def check(job: Job) -> None:
        if job._check_phase == "check":
            raise LookupError("not there yet")
        raise unspeakable()  # the recheck: its verbose line quotes it

    dojob = DoJobber()
    dojob.configure(make_job("Mute", check=check, run=lambda job: None, TIMEOUT=0.5,
                             TRIES=1), debug=True)
    dojob.checknrun()
    assert not stuck.is_set()
    assert type(dojob.nodeexceptions["Mute"]) is JobTimeoutError
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == ["Mute.check: fail", "Mute.run: pass"]
    assert lines[2] == (
        "Mute.recheck: fail \"<Unspeakable: str() did not return before the job's TIMEOUT>\"")
    # The traceback's last line: its own stand-in (CPython's traceback module
    # catches the alarm itself) or ours.
    assert any(line.startswith("  ") and line.endswith(">") and "Unspeakable: <" in line
               for line in lines)


def test_a_nested_run_does_not_put_off_the_outer_limit(stuck: threading.Event) -> None:
    """A job whose Check runs DoJobber itself, on a job with a far longer
    TIMEOUT (so its try waits in a helper thread): the outer job's alarm
    interrupts that wait, as it would any code of the job's."""
    log: list[str] = []
    inner_jobs = hanging(stuck, log, "Inner", TIMEOUT=WATCHDOG * 2, TRIES=1)
    inner_runs: list[DoJobber] = []

    def check(job: Job) -> None:
        inner = DoJobber()
        inner_runs.append(inner)
        inner.configure(inner_jobs)
        inner.checknrun()

    dojob, trace = configure(make_job("Outer", check=check, TIMEOUT=0.5, TRIES=1))
    dojob.checknrun()
    assert not stuck.is_set()  # returned long before the inner TIMEOUT or the watchdog
    error = dojob.nodeexceptions["Outer"]
    assert type(error) is JobTimeoutError and error.timeout == 0.5
    assert len(inner_runs) == 1 and inner_runs[0].nodestatus == {"Inner": None}
