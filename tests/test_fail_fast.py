"""fail_fast: once a job failed with no tries left, no new try starts."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from conftest import make_job
from dojobber import DoJobber, Job


def fails(tries: int, log: list[str], name: str, passes_on: int | None = None,
          **attrs: Any) -> type[Job]:
    """A job that fails each try, or passes from try ``passes_on`` on."""
    count = [0]

    def check(job: Job) -> str:
        if job._check_phase == "check":
            count[0] += 1
            log.append(name)
        if passes_on is not None and count[0] >= passes_on:
            return "ok"
        raise LookupError(f"{name} failed try {count[0]}")

    return make_job(name, check=check, TRIES=tries, RETRY_DELAY=0, **attrs)


def graph(log: list[str], cleaned: list[str]) -> type[Job]:
    """Run order: Flaky, Broken, Later, Dependent, Root."""
    flaky = fails(2, log, "Flaky", passes_on=2, Cleanup=lambda job: cleaned.append("Flaky"))
    broken = fails(1, log, "Broken")
    later = fails(1, log, "Later", passes_on=1)
    dependent = fails(1, log, "Dependent", passes_on=1, DEPS=(later,))
    return make_job("Root", deps=(flaky, broken, later, dependent))


def test_without_fail_fast_everything_is_tried() -> None:
    log: list[str] = []
    dojob = DoJobber()
    dojob.configure(graph(log, []))
    dojob.checknrun()
    assert log == ["Flaky", "Broken", "Later", "Dependent", "Flaky"]
    report = dojob.report()
    assert (report.stopped_by, report.not_tried) == (None, [])
    assert report.to_dict()["fail_fast"] is None


def test_fail_fast_stops_at_the_first_job_out_of_tries() -> None:
    log: list[str] = []
    cleaned: list[str] = []
    dojob = DoJobber()
    dojob.configure(graph(log, cleaned), fail_fast=True)
    dojob.checknrun()
    # Flaky failed with a try left; Broken failed for good: nothing after it.
    assert log == ["Flaky", "Broken"]
    assert dojob.nodestatus == {
        "Flaky": False, "Broken": False, "Later": None, "Dependent": None, "Root": None
    }
    assert set(dojob.nodeexceptions) == {"Flaky", "Broken"}
    assert cleaned == ["Flaky"]  # Cleanups still run
    report = dojob.report()
    assert report.stopped_by == "Broken"
    # Root is not listed: Broken's failure blocks it whatever fail-fast does.
    assert report.not_tried == ["Later", "Dependent"]
    assert report.to_dict()["fail_fast"] == {
        "stopped_by": "Broken", "not_tried": ["Later", "Dependent"]
    }
    lines = report.summary()
    assert "fail-fast: stopped when Broken failed" in lines
    assert "not tried (fail-fast): Later, Dependent" in lines
    assert "blocked: Root" in lines


def test_fail_fast_in_a_later_pass() -> None:
    log: list[str] = []
    first = fails(2, log, "First")
    second = fails(3, log, "Second")
    dojob = DoJobber()
    dojob.configure(make_job("Root", deps=(first, second)), fail_fast=True)
    dojob.checknrun()
    # First runs out of tries in pass 2, before Second's second try.
    assert log == ["First", "Second", "First"]
    report = dojob.report()
    assert report.stopped_by == "First"
    assert report.not_tried == []  # Second was tried; Root is blocked by First
    assert report["Second"].tries == 1


def test_fail_fast_in_no_act_stops_at_the_first_failed_check() -> None:
    log: list[str] = []
    dojob = DoJobber()
    dojob.configure(graph(log, []), fail_fast=True, no_act=True)
    dojob.checknrun()
    assert log == ["Flaky"]
    report = dojob.report()
    assert report.stopped_by == "Flaky"
    assert report.not_tried == ["Broken", "Later", "Dependent"]


def test_threads_finish_running_tries_and_start_no_new_one() -> None:
    started = threading.Event()
    broken_failed = threading.Event()

    def long_check(job: Job) -> str:
        started.set()
        # Still running when Broken fails; then it finishes, and passes.
        assert broken_failed.wait(60)
        return "finished"

    def broken_check(job: Job) -> None:
        assert started.wait(60)
        broken_failed.set()
        raise RuntimeError("broken")

    running = make_job("Running", check=long_check)
    broken = make_job("Broken", check=broken_check, TRIES=1)
    after = [make_job(f"After{k}", deps=(running,)) for k in range(4)]
    dojob = DoJobber()
    dojob.configure(make_job("Root", deps=(running, broken, *after)), workers=2,
                    fail_fast=True)
    dojob.checknrun()
    assert dojob.nodestatus["Running"] is True
    assert dojob.noderesults["Running"] == "finished"
    assert dojob.nodestatus["Broken"] is False
    assert all(dojob.nodestatus[f"After{k}"] is None for k in range(4))
    report = dojob.report()
    assert report.stopped_by == "Broken"
    assert report.not_tried == [f"After{k}" for k in range(4)]


def test_the_summary_lists_at_most_max_listed_jobs_not_tried() -> None:
    log: list[str] = []
    broken = fails(1, log, "Broken")
    rest = [make_job(f"Rest{k}") for k in range(5)]
    dojob = DoJobber()
    dojob.configure(make_job("Root", deps=(broken, *rest)), fail_fast=True)
    dojob.checknrun()
    lines = dojob.report().summary(max_listed=2)
    assert "not tried (fail-fast): Rest0, Rest1, ... and 3 more" in lines
    assert not any(line.startswith("blocked:") and "Rest" in line for line in lines)


@pytest.mark.parametrize("workers", [1, 3])
def test_a_run_that_passes_is_not_affected(workers: int) -> None:
    log: list[str] = []
    flaky = fails(3, log, "Flaky", passes_on=3)
    dojob = DoJobber()
    dojob.configure(make_job("Root", deps=(flaky,)), fail_fast=True, workers=workers)
    dojob.checknrun()
    assert dojob.success()
    assert dojob.report().stopped_by is None
