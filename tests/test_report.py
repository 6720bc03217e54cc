"""The run report: DoJobber.report(), its JSON form and its summary lines."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import dojobber_example as doex
import pytest

from dojobber import DoJobber, DoJobberError, DummyJob, Job, Observer, Outcome
from dojobber.report import JobError, ReportRecorder


def run_example(**kwargs: Any) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0)
    dojob.set_args("arg1", **kwargs)
    dojob.checknrun()
    return dojob


def test_report_before_any_run_raises() -> None:
    dojob = DoJobber()
    with pytest.raises(DoJobberError, match="call checknrun"):
        dojob.report()
    dojob.configure(doex.WatchMovie)
    with pytest.raises(DoJobberError, match="call checknrun"):
        dojob.report()


def test_report_agrees_with_nodestatus() -> None:
    dojob = run_example(movie="Noises Off", battery_state="dead")
    report = dojob.report()
    assert report.success is False and not report.interrupted
    assert [job.name for job in report.jobs] == list(dojob.nodestatus)
    expected = {True: {Outcome.PASSED, Outcome.PASSED_AFTER_RUN},
                False: {Outcome.FAILED}, None: {Outcome.BLOCKED}}
    for job in report.jobs:
        assert job.outcome in expected[dojob.nodestatus[job.name]]
    assert report["TurnOnTV"].error == JobError("RuntimeError", "Remote batteries are dead.")
    assert report["TurnOnTV"].tries == 3
    assert report["StartMovie"].outcome is Outcome.BLOCKED
    assert report["StartMovie"].error is None and report["StartMovie"].tries == 0
    assert report["StartMovie"].seconds == 0.0
    assert report["PickTimeAndDate"].outcome is Outcome.PASSED_AFTER_RUN
    assert report["ValidateMovie"].outcome is Outcome.PASSED
    assert (report["PopcornBowl"].tries, report["Popcorn"].tries, report["Pizza"].tries) == (
        8, 5, 3)
    assert report.counts() == {Outcome.PASSED: 8, Outcome.PASSED_AFTER_RUN: 6,
                               Outcome.FAILED: 2, Outcome.BLOCKED: 2}
    assert dojob.report() is report


def test_every_run_gets_a_new_report() -> None:
    dojob = run_example(movie="Noises Off", battery_state="dead")
    first = dojob.report()
    dojob.set_args(movie="MST3K", battery_state="charged", couch_space=True)
    dojob.checknrun()
    second = dojob.report()
    assert second is not first and second.success and not first.success
    assert second["TurnOnTV"].tries == 1


def test_to_dict_and_json() -> None:
    report = run_example(movie="Zardoz", battery_state="charged", couch_space=True).report()
    data = json.loads(report.to_json())
    assert data == report.to_dict()
    assert data["success"] is False
    assert data["interrupted"] is False and data["no_act"] is False
    assert data["seconds"] >= sum(job["seconds"] for job in data["jobs"])
    validate = data["jobs"][0]
    history = validate.pop("history")
    assert [one["try"] for one in history] == [1, 2, 3]
    assert [p["phase"] for p in history[0]["phases"]] == ["check", "run", "recheck"]
    assert history[0]["phases"][0]["error"] == validate["error"]
    assert validate == {
        "name": "ValidateMovie", "outcome": "failed", "tries": 3,
        "seconds": validate["seconds"],
        "error": {"type": "ValueError", "message": "Zardoz not one of the available movies."},
    }
    assert {job["name"]: job["outcome"] for job in data["jobs"]}["InsertDVD"] == "blocked"


class Slow(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.05)


class Broken(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


class Odd(Job):
    TRIES = 1
    DEPS = (Slow,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise Broken()

    def Run(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_seconds_and_error_types() -> None:
    dojob = DoJobber()
    dojob.configure(Odd)
    dojob.checknrun()
    report = dojob.report()
    assert report["Slow"].seconds >= 0.05  # sleep never returns early
    assert report["Odd"].error == JobError(
        "test_report.Broken", "<Broken: str() failed>")
    assert str(report["Odd"].error) == "test_report.Broken: <Broken: str() failed>"


def test_recorder_sums_tries_and_skips_retry_waits() -> None:
    from dojobber.eventlog import Replayed  # the scheduler's part, played by hand

    now = [0.0]
    recorder = ReportRecorder(clock=lambda: now[0])
    tried = Replayed(1)
    recorder.bind(tried)
    recorder.run_started(["A"])

    def one_try(outcome: Outcome, seconds: float, error: Exception | None) -> None:
        tried.tries[0] += 1
        tried.started[0] = now[0]
        now[0] += seconds
        tried.ended[0] = now[0]
        tried.outcome[0] = outcome
        recorder.try_ended("A", outcome, error)

    one_try(Outcome.FAILED, 2.0, ValueError("x"))
    now[0] += 100.0  # waiting for RETRY_DELAY: not the job's time
    one_try(Outcome.PASSED, 0.5, None)
    assert recorder.seconds == {"A": 2.5}
    assert [(t.outcome, t.start, t.seconds) for t in recorder.history()["A"]] == [
        (Outcome.FAILED, 0.0, 2.0), (Outcome.PASSED, 102.0, 0.5)]
    assert recorder.last_errors == {"A": JobError("ValueError", "x")}
    tried = Replayed(1)
    recorder.bind(tried)
    recorder.run_started(["A"])
    assert recorder.seconds == {} and recorder.history() == {}


class Interrupt(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt


class AfterInterrupt(DummyJob):
    DEPS = (Interrupt,)


def test_report_after_keyboard_interrupt() -> None:
    dojob = DoJobber()
    dojob.configure(AfterInterrupt)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    report = dojob.report()
    assert report.interrupted and not report.success
    assert report["Interrupt"].tries == 1
    assert report["Interrupt"].outcome is Outcome.INTERRUPTED
    assert report["AfterInterrupt"].outcome is Outcome.BLOCKED
    assert dojob.nodestatus == {"Interrupt": None, "AfterInterrupt": None}
    assert report.counts() == {Outcome.PASSED: 0, Outcome.PASSED_AFTER_RUN: 0,
                               Outcome.FAILED: 0, Outcome.INTERRUPTED: 1, Outcome.BLOCKED: 1}
    lines = report.summary()
    assert lines[0].startswith(
        "2 jobs: 0 passed, 0 passed_after_run, 0 failed, 1 interrupted, 1 blocked (took ")
    assert lines[1:4] == ["interrupted before the run was over", "interrupted: Interrupt",
                          "blocked: AfterInterrupt"]


def test_summary_lines() -> None:
    report = run_example(movie="Noises Off", battery_state="dead").report()
    lines = report.summary()
    assert lines[0].startswith(
        "18 jobs: 8 passed, 6 passed_after_run, 2 failed, 2 blocked (took ")
    assert lines[1:4] == [
        "failed: TurnOnTV after 3 tries: RuntimeError: Remote batteries are dead.",
        "failed: SitOnCouch after 3 tries: RuntimeError: No space on couch.",
        "blocked: StartMovie, WatchMovie",
    ]
    slowest = lines[4]
    assert slowest.startswith("slowest: ") and slowest.count(",") == 2
    assert len(lines) == 5

    short = report.summary(slowest=0, max_listed=1)
    assert short[1:] == [
        "failed: TurnOnTV after 3 tries: RuntimeError: Remote batteries are dead.",
        "failed: ... and 1 more",
        "blocked: StartMovie, ... and 1 more",
    ]


def test_configure_takes_extra_observers() -> None:
    seen: list[str] = []

    class Names(Observer):
        def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
            seen.append(f"{job}:{outcome}")

    dojob = DoJobber()
    dojob.configure(Odd, observers=[Names()])
    dojob.checknrun()
    assert seen == ["Slow:passed", "Odd:failed"]
    with pytest.raises(DoJobberError, match="observers must be dojobber.Observer instances"):
        dojob.configure(Odd, observers=[print])  # type: ignore[list-item]


class Ticking:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


class Fetch(Job):
    TRIES = 2

    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise FileNotFoundError("alpha.txt not downloaded")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("Connection refused")


class Publish(DummyJob):
    DEPS = (Fetch,)


def run_with_ticking_recorder(root: type[Job], **options: Any) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0, **options)
    assert dojob._recorder is not None
    dojob._recorder._clock = Ticking()
    dojob._recorder._wall_clock = lambda: 1_700_000_000.0
    dojob.checknrun()
    return dojob


def test_every_try_has_its_phases_times_and_errors() -> None:
    report = run_with_ticking_recorder(Publish).report()
    fetch = report["Fetch"]
    # The clock ticks once per reading: run start 101, try start 102,
    # check end 103, run end 104, recheck end 105 (which ends the try),
    # the outcome recorded 106, the second try's start 107...
    assert [(t.number, t.outcome, t.start, t.seconds) for t in fetch.history] == [
        (1, Outcome.FAILED, 1.0, 3.0), (2, Outcome.FAILED, 6.0, 3.0)]
    first = fetch.history[0]
    refused = JobError("ConnectionRefusedError", "Connection refused")
    missing = JobError("FileNotFoundError", "alpha.txt not downloaded")
    assert [(p.phase, p.start, p.seconds, p.error) for p in first.phases] == [
        ("check", 1.0, 1.0, missing), ("run", 2.0, 1.0, refused),
        ("recheck", 3.0, 1.0, missing)]
    assert first.error == missing and first.phase("run") is first.phases[1]
    assert fetch.run_error == refused
    assert fetch.seconds == 6.0
    assert report.seconds == 11.0  # run start 101 to run end 112
    assert report.started_at == 1_700_000_000.0
    assert report["Publish"].history == () and report["Publish"].run_error is None
    assert report.summary()[1] == (
        "failed: Fetch after 2 tries: FileNotFoundError: alpha.txt not downloaded "
        "(Run raised ConnectionRefusedError: Connection refused)")
    data = report.to_dict()
    assert data["started_at"] == 1_700_000_000.0 and data["seconds"] == 11.0
    assert data["jobs"][0]["history"][0] == {
        "try": 1, "outcome": "failed", "start": 1.0, "seconds": 3.0,
        "error": {"type": "FileNotFoundError", "message": "alpha.txt not downloaded"},
        "phases": [
            {"phase": "check", "start": 1.0, "seconds": 1.0,
             "error": {"type": "FileNotFoundError", "message": "alpha.txt not downloaded"}},
            {"phase": "run", "start": 2.0, "seconds": 1.0,
             "error": {"type": "ConnectionRefusedError", "message": "Connection refused"}},
            {"phase": "recheck", "start": 3.0, "seconds": 1.0,
             "error": {"type": "FileNotFoundError", "message": "alpha.txt not downloaded"}},
        ],
    }


def test_a_passing_try_has_no_error_and_a_run_without_error() -> None:
    report = run_example(movie="MST3K", battery_state="charged", couch_space=True).report()
    [only] = report["PickTimeAndDate"].history
    assert only.outcome is Outcome.PASSED_AFTER_RUN and only.error is None
    assert [(p.phase, p.error is None) for p in only.phases] == [
        ("check", False), ("run", True), ("recheck", True)]
    assert report["PickTimeAndDate"].run_error is None
    assert report.seconds > 0


class NoInit(Job):
    TRIES = 1

    def __init__(self) -> None:
        raise OSError("no socket")

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_a_try_whose_instance_was_not_made_has_no_phases() -> None:
    dojob = DoJobber()
    dojob.configure(NoInit)
    dojob.checknrun()
    [only] = dojob.report()["NoInit"].history
    assert only.phases == () and only.error == JobError("OSError", "no socket")
    assert only.outcome is Outcome.FAILED


class WouldFail(Job):
    def Check(self, *args: Any, **kwargs: Any) -> None:
        raise ValueError("not there yet")


class Behind(DummyJob):
    DEPS = (WouldFail, NoInit)


def test_dry_run_labels_would_run_and_not_checked() -> None:
    dojob = DoJobber()
    dojob.configure(Behind, no_act=True)
    dojob.checknrun()
    report = dojob.report()
    assert report.no_act and dojob.nodestatus == {
        "WouldFail": False, "NoInit": False, "Behind": None}
    assert [(job.outcome, job.label) for job in report.jobs] == [
        (Outcome.FAILED, "would_run"), (Outcome.FAILED, "failed"),
        (Outcome.BLOCKED, "not_checked")]
    assert report.label_counts() == {
        "passed": 0, "would_run": 1, "failed": 1, "not_checked": 1}
    assert [job["outcome"] for job in report.to_dict()["jobs"]] == [
        "would_run", "failed", "not_checked"]
    assert report.to_dict()["no_act"] is True
    assert report.summary()[0].startswith(
        "3 jobs: 0 passed, 1 would_run, 1 failed, 1 not_checked (took ")
    assert report.summary()[1:4] == [
        "would run: WouldFail: ValueError: not there yet",
        "failed: NoInit after 1 try: OSError: no socket",
        "not checked: Behind",
    ]


def test_interrupted_try_is_in_the_history_without_outcome() -> None:
    dojob = DoJobber()
    dojob.configure(AfterInterrupt)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    report = dojob.report()
    [only] = report["Interrupt"].history
    assert only.outcome is None and only.error is None
    assert report.to_dict()["interrupted"] is True
    assert report.to_dict()["jobs"][0]["history"][0]["outcome"] is None


def test_a_parallel_run_keeps_every_try_with_its_own_job() -> None:
    """Many threads record at once: each try's phases and errors stay its job's."""

    def check(job: Job) -> None:
        name = type(job).__name__
        if job._check_phase == "check" or job.global_storage.setdefault(name, 0) < 1:
            if job._check_phase == "recheck":
                job.global_storage[name] += 1
            raise ValueError(f"{name} {job._check_phase}")

    def run(job: Job) -> None:
        raise RuntimeError(f"{type(job).__name__} run")

    from conftest import make_job

    jobs = tuple(make_job(f"J{k}", check=check, run=run, TRIES=3) for k in range(120))
    root = make_job("Root", jobs)
    dojob = DoJobber()
    dojob.configure(root, workers=8, default_retry_delay=0)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    try:
        dojob.checknrun()
    finally:
        sys.setswitchinterval(interval)
    report = dojob.report()
    for job in jobs:
        name = job.__name__
        first, second = report[name].history
        assert (first.outcome, second.outcome) == (Outcome.FAILED, Outcome.PASSED_AFTER_RUN)
        assert [(p.phase, p.error and p.error.message) for p in first.phases] == [
            ("check", f"{name} check"), ("run", f"{name} run"), ("recheck", f"{name} recheck")]
        assert [(p.phase, p.error and p.error.message) for p in second.phases] == [
            ("check", f"{name} check"), ("run", f"{name} run"), ("recheck", None)]
        assert first.start < first.start + first.seconds <= second.start


def test_a_run_from_a_node_keeps_each_try_with_its_own_job() -> None:
    """In a run from a node, a job's place in the run is not its place in
    the graph: each job's tries and times must still be its own."""
    from conftest import make_job

    def flaky(job: Job) -> None:
        # Its first try's Check and recheck fail; its second try's Check passes.
        if job.global_storage.setdefault("checks", 0) < 2:
            job.global_storage["checks"] += 1
            raise ValueError("not yet")

    other = make_job("Other")  # before the node in the graph, not in its run
    first = make_job("First")
    flaky_job = make_job("Flaky", (first,), check=flaky)
    node = make_job("Node", (flaky_job,))
    root = make_job("Root", (other, node))
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0)
    dojob.checknrun(node)
    report = dojob.report()
    assert [job.name for job in report.jobs] == ["First", "Flaky", "Node"]
    assert [len(job.history) for job in report.jobs] == [1, 2, 1]
    tries = report["Flaky"].history
    assert [(t.outcome, t.error) for t in tries] == [
        (Outcome.FAILED, JobError("ValueError", "not yet")), (Outcome.PASSED, None)]
    assert [p.phase for p in tries[0].phases] == ["check", "run", "recheck"]
    assert tries[0].start < tries[1].start and report["Node"].history[0].start > tries[1].start
    assert all(t.seconds >= 0 for job in report.jobs for t in job.history)


def test_an_interrupted_retry_keeps_the_tries_before_it() -> None:
    from conftest import make_job

    def check(job: Job) -> None:
        # The first try's Check and recheck fail; Ctrl-C in the second's Check.
        if job.global_storage.setdefault("checks", 0) == 2:
            raise KeyboardInterrupt
        job.global_storage["checks"] += 1
        raise ValueError("first try")

    dojob = DoJobber()
    dojob.configure(make_job("Twice", check=check), default_retry_delay=0)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    first, second = dojob.report()["Twice"].history
    assert (first.outcome, first.error) == (Outcome.FAILED, JobError("ValueError", "first try"))
    assert [p.phase for p in first.phases] == ["check", "run", "recheck"]
    assert (second.number, second.outcome, second.phases) == (2, None, ())
