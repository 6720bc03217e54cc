"""The run, exactly: pass order, tries, retry delays, no_act, fresh runs."""

from __future__ import annotations

import os
import sys

import pytest

from conftest import FakeClock, make_job
from dojobber import ConfigurationError, DoJobber, DummyJob, Job


def run(root, clock=None, node=None, args=(), kwargs=None, **configure):
    clock = clock or FakeClock()
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(root, **configure)
    dojob.set_args(*args, **(kwargs or {}))
    dojob.checknrun(node)
    return dojob


class Recorder:
    """Records the name of every Check / Run call, in order."""

    def __init__(self):
        self.calls: list[str] = []

    def job(self, name, deps=(), passes_after_runs=0, **attrs):
        rec = self

        def check(job):
            rec.calls.append(f"{name}.check")
            if job.global_storage.get(name, 0) < passes_after_runs:
                raise RuntimeError(f"{name} not yet")
            return f"{name} ok"

        def run(job):
            rec.calls.append(f"{name}.run")
            job.global_storage[name] = job.global_storage.get(name, 0) + 1

        return make_job(name, deps, check, run, **attrs)


def checks(calls):
    return [c for c in calls if c.endswith(".check")]


def test_jobs_run_in_depth_first_post_order_following_deps_order():
    rec = Recorder()
    c = rec.job("C")
    a = rec.job("A", (c,))
    d = rec.job("D")
    b = rec.job("B", (d, c))
    root = rec.job("Root", (a, b))
    dojob = run(root)
    assert checks(rec.calls) == ["C.check", "A.check", "D.check", "B.check", "Root.check"]
    assert list(dojob.nodestatus) == ["C", "A", "D", "B", "Root"]
    assert dojob.success()


def test_check_run_recheck_and_results():
    rec = Recorder()
    job = rec.job("Fix", passes_after_runs=1)
    dojob = run(job)
    assert rec.calls == ["Fix.check", "Fix.run", "Fix.check"]
    assert dojob.nodestatus == {"Fix": True}
    assert dojob.noderesults == {"Fix": "Fix ok"}


def test_failed_jobs_are_retried_round_robin_in_later_passes():
    rec = Recorder()
    a = rec.job("A", passes_after_runs=2)
    b = rec.job("B", passes_after_runs=3)
    root = rec.job("Root", (a, b))
    dojob = run(root, default_retry_delay=0)
    assert checks(rec.calls)[::2] == ["A.check", "B.check", "A.check", "B.check",
                                       "B.check", "Root.check"]
    assert dojob.success()


def test_a_passed_job_is_never_tried_again_in_the_same_run():
    rec = Recorder()
    shared = rec.job("Shared")
    slow = rec.job("Slow", (shared,), passes_after_runs=2)
    root = rec.job("Root", (shared, slow))
    run(root, default_retry_delay=0)
    assert rec.calls.count("Shared.check") == 1


def test_job_without_tries_left_keeps_status_false_and_dependants_none():
    rec = Recorder()
    stuck = rec.job("Stuck", passes_after_runs=99, TRIES=2)
    after = rec.job("After", (stuck,))
    root = rec.job("Root", (after,))
    dojob = run(root, default_retry_delay=0)
    assert rec.calls.count("Stuck.run") == 2
    assert dojob.nodestatus == {"Stuck": False, "After": None, "Root": None}
    assert str(dojob.nodeexceptions["Stuck"]) == "Stuck not yet"
    assert set(dojob.nodeexceptions) == {"Stuck"}
    assert dojob.noderesults == {}
    assert dojob.partial_success() is False and dojob.success() is False


@pytest.mark.parametrize("tries, expected", [(1, 1), (1.1, 2), (2, 2), (2.0, 2), (4.5, 5)])
def test_tries_budget_is_rounded_up(tries, expected):
    rec = Recorder()
    run(rec.job("Stuck", passes_after_runs=99, TRIES=tries), default_retry_delay=0)
    assert rec.calls.count("Stuck.run") == expected


def test_default_tries_apply_only_where_tries_is_none():
    rec = Recorder()
    own = rec.job("Own", passes_after_runs=99, TRIES=4)
    default = rec.job("Default", passes_after_runs=99)
    run(rec.job("Root", (own, default)), default_tries=2, default_retry_delay=0)
    assert rec.calls.count("Own.run") == 4
    assert rec.calls.count("Default.run") == 2


def test_a_job_that_recovers_is_not_in_nodeexceptions():
    rec = Recorder()
    dojob = run(rec.job("Flaky", passes_after_runs=2), default_retry_delay=0)
    assert dojob.nodestatus == {"Flaky": True}
    assert dojob.nodeexceptions == {}


def test_retry_delay_separates_the_starts_of_two_tries():
    clock = FakeClock()
    rec = Recorder()
    run(rec.job("Slow", passes_after_runs=3, RETRY_DELAY=5), clock)
    assert clock.sleeps == [5.0, 5.0]


def test_other_jobs_work_counts_toward_the_retry_delay():
    clock = FakeClock()
    starts: dict[str, list[float]] = {}

    def timed(name, cost, fails):
        def check(job):
            if job._check_phase == "check":
                starts.setdefault(name, []).append(clock.now)
            clock.now += cost
            if len(starts[name]) <= fails:
                raise RuntimeError("not yet")

        return make_job(name, check=check)

    a = timed("A", cost=0, fails=99)
    b = timed("B", cost=3, fails=1)
    a.RETRY_DELAY = 10
    run(make_job("Root", (a, b)), clock, default_retry_delay=0)
    assert starts["A"] == [1000.0, 1010.0, 1020.0]
    assert starts["B"] == [1000.0, 1010.0]
    # Only what B's work did not cover is slept.
    assert clock.sleeps == [4.0, 7.0]


@pytest.mark.parametrize("workers", [1, 2])
def test_with_the_real_clock_tries_start_retry_delay_apart(workers):
    """The default clock: the delay counts from the start stamp of a try
    (the one the report shows), in both engines."""
    import time

    starts: list[float] = []

    def check(job):
        if job._check_phase == "check":
            starts.append(time.perf_counter())
        if len(starts) < 3:
            raise RuntimeError("not yet")

    flaky = make_job("Flaky", check=check)
    flaky.TRIES, flaky.RETRY_DELAY = 3, 0.2
    other = make_job("Other")  # a plain job beside it: no delay to wait
    dojob = DoJobber()
    dojob.configure(make_job("Root", (flaky, other)), workers=workers)
    dojob.checknrun()
    assert dojob.nodestatus == {"Flaky": True, "Other": True, "Root": True}
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 0.2 and starts[2] - starts[1] >= 0.2
    tried = {job.name: job for job in dojob.report().jobs}["Flaky"]
    assert tried.tries == 3


def test_run_results_and_exceptions_are_ignored_even_sys_exit():
    seen = []

    def run_exits(job):
        job.global_storage["ran"] = True
        sys.exit(3)

    def check(job):
        seen.append((job._check_phase, type(job._run_exception).__name__))
        if not job.global_storage.get("ran"):
            raise RuntimeError("not yet")

    dojob = run(make_job("Exits", check=check, run=run_exits))
    assert dojob.nodestatus == {"Exits": True}
    assert seen == [("check", "NoneType"), ("recheck", "SystemExit")]


def test_outcome_attributes_are_set_as_each_phase_ends():
    snapshots = []

    def check(job):
        snapshots.append((job._check_phase, job._check_results, job._check_exception,
                          job._run_results, job._run_exception, job._recheck_results,
                          job._recheck_exception))
        if job._check_phase == "check":
            raise KeyError("first")
        return "good"

    dojob = run(make_job("Phases", check=check, run=lambda job: "ran"))
    first, second = snapshots
    assert first == ("check", None, None, None, None, None, None)
    assert second[0] == "recheck"
    assert isinstance(second[2], KeyError)
    assert second[3] == "ran" and second[4] is None
    assert dojob.noderesults == {"Phases": "good"}


def test_no_act_checks_once_and_never_runs():
    rec = Recorder()
    broken = rec.job("Broken", passes_after_runs=1, TRIES=5)
    fine = rec.job("Fine")
    after = rec.job("After", (broken,))
    dojob = run(rec.job("Root", (after, fine)), no_act=True)
    assert rec.calls == ["Broken.check", "Fine.check"]
    assert dojob.nodestatus == {"Broken": False, "After": None, "Fine": True, "Root": None}
    assert str(dojob.nodeexceptions["Broken"]) == "Broken not yet"


def test_every_checknrun_is_a_fresh_run():
    attempts = []

    def check(job):
        attempts.append(dict(job.global_storage))
        job.global_storage["seen"] = True
        raise RuntimeError("never")

    dojob = DoJobber()
    dojob.configure(make_job("Never", check=check, TRIES=2), default_retry_delay=0)
    dojob.checknrun()
    first = len(attempts)
    dojob.checknrun()
    # Tries start over, and global_storage is new for every run.
    assert first == 4 and len(attempts) == 8
    assert attempts[4] == {}
    assert dojob.nodestatus == {"Never": False}


def test_checknrun_from_a_node_by_class_or_name_with_retries():
    rec = Recorder()
    leaf = rec.job("Leaf", passes_after_runs=2)
    mid = rec.job("Mid", (leaf,))
    other = rec.job("Other")
    root = rec.job("Root", (mid, other))
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0)
    for node in (mid, "Mid"):
        dojob.checknrun(node)
        assert dojob.nodestatus == {"Leaf": True, "Mid": True}
        assert dojob.success()
    assert "Other.check" not in rec.calls


def test_checknrun_from_a_node_uses_that_nodes_own_post_order():
    rec = Recorder()
    c, d = rec.job("C"), rec.job("D")
    a = rec.job("A", (c,))
    b = rec.job("B", (d, c))
    root = rec.job("Root", (a, b))
    dojob = DoJobber()
    dojob.configure(root)
    dojob.checknrun("B")
    assert checks(rec.calls) == ["D.check", "C.check", "B.check"]


@pytest.mark.parametrize("node", ["Nope", 42, make_job("Stranger")])
def test_checknrun_rejects_a_node_outside_the_graph(node):
    dojob = DoJobber()
    dojob.configure(make_job("Root"))
    with pytest.raises(ConfigurationError, match="not a job of the graph configured from 'Root'"):
        dojob.checknrun(node)


def test_checknrun_rejects_a_different_class_with_a_graph_name():
    dojob = DoJobber()
    dojob.configure(make_job("Root"))
    with pytest.raises(ConfigurationError, match="Root"):
        dojob.checknrun(make_job("Root"))


def test_checknrun_before_configure_is_an_error():
    with pytest.raises(ConfigurationError, match="configure"):
        DoJobber().checknrun()


def test_checknrun_returns_none():
    dojob = DoJobber()
    dojob.configure(make_job("Root"))
    assert dojob.checknrun() is None


def test_arguments_reach_every_check_and_run():
    seen = []

    class Args(Job):
        def Check(self, *args, **kwargs):
            seen.append(("check", args, kwargs))
            if self._check_phase == "check":
                raise RuntimeError
        def Run(self, *args, **kwargs):
            seen.append(("run", args, kwargs))

    run(Args, args=("a", 1), kwargs={"movie": "MST3K"})
    assert seen == [(phase, ("a", 1), {"movie": "MST3K"})
                    for phase in ("check", "run", "check")]


def test_each_try_starts_in_the_directory_checknrun_was_called_from(tmp_path):
    start = tmp_path / "start"
    start.mkdir()
    seen = []

    def wander(job):
        seen.append(os.getcwd())
        os.chdir(tmp_path)

    first = make_job("First", check=wander)
    second = make_job("Second", (first,), check=wander)
    here = os.getcwd()
    os.chdir(start)
    try:
        run(second)
        assert os.getcwd() == str(start)
    finally:
        os.chdir(here)
    assert seen == [str(start), str(start)]


def test_keyboard_interrupt_stops_the_run_after_restoring_cwd_and_cleaning_up(tmp_path):
    cleaned = []

    class Tidy(Job):
        def Check(self, *args, **kwargs):
            os.chdir(tmp_path)
        def Run(self, *args, **kwargs):
            pass
        def Cleanup(self):
            cleaned.append(os.getcwd())

    def interrupt(job):
        raise KeyboardInterrupt

    stop = make_job("Stop", (Tidy,), check=lambda job: 1 / 0, run=interrupt)
    never = make_job("Never", (stop,))
    here = os.getcwd()
    dojob = DoJobber()
    dojob.configure(never)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert os.getcwd() == here
    assert cleaned == [here]
    assert dojob.nodestatus == {"Tidy": True, "Stop": None, "Never": None}
    assert not dojob.success()


def test_dummy_job_passes_on_its_first_check():
    class Group(DummyJob):
        pass

    dojob = run(Group)
    assert dojob.nodestatus == {"Group": True}
    assert dojob.noderesults == {"Group": None}
