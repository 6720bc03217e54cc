"""The run report: DoJobber.report(), its JSON form and its summary lines."""

from __future__ import annotations

import json
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
    validate = data["jobs"][0]
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
    now = [0.0]
    recorder = ReportRecorder(clock=lambda: now[0])
    recorder.run_started(["A"])
    recorder.try_started("A", 1)
    now[0] += 2.0
    recorder.try_ended("A", Outcome.FAILED, ValueError("x"))
    now[0] += 100.0  # waiting for RETRY_DELAY: not the job's time
    recorder.try_started("A", 2)
    now[0] += 0.5
    recorder.try_ended("A", Outcome.PASSED_AFTER_RUN, None)
    assert recorder.seconds == {"A": 2.5}
    recorder.run_started(["A"])
    assert recorder.seconds == {}


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
    assert report["Interrupt"].outcome is Outcome.BLOCKED
    assert "interrupted before the run was over" in report.summary()


def test_summary_lines() -> None:
    report = run_example(movie="Noises Off", battery_state="dead").report()
    lines = report.summary()
    assert lines[0].startswith(
        "18 jobs: 8 passed, 6 passed_after_run, 2 failed, 2 blocked (")
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
