"""The scheduler's tries match a literal reading of the contract on random graphs.

The scheduler does not walk every job on every pass (see Scheduler._walk);
these tests compare it, try by try, with a plain implementation of the
contract's passes on a few hundred random graphs with failing, retried and
blocked jobs, from the root and from inner jobs, with and without no_act.
"""

from __future__ import annotations

import gc
import logging
import random

import pytest

from dojobber import DoJobber, Job, Observer
from dojobber.errors import DuplicateJobNameError, JobTypeError


class TryLog(Observer):
    def __init__(self) -> None:
        self.tries: list[tuple[str, int]] = []

    def try_started(self, job: str, number: int) -> None:
        self.tries.append((job, number))


def random_graph(rng: random.Random, size: int):
    """Job classes with random DEPS, TRIES and the number of Runs each needs.

    Returns (root, deps by name, runs needed by name, TRIES by name); a job
    needing more Runs than it has tries never passes.
    """
    runs = {}  # name -> Runs so far, shared by the job's instances
    needed, tries, deps = {}, {}, {}
    classes: list[type[Job]] = []

    def behaviour(name: str):
        def Check(self, *args, **kwargs):
            if runs[name] < needed[name]:
                raise RuntimeError(f"{name} needs more runs")

        def Run(self, *args, **kwargs):
            runs[name] += 1

        return Check, Run

    for k in range(size):
        name = f"J{k}"
        count = rng.choice((0, 0, 1, 1, 2, 3)) if classes else 0
        job_deps = tuple(rng.sample(classes, min(count, len(classes))))
        needed[name] = rng.choice((0, 0, 0, 0, 1, 2, 3, 9))
        tries[name] = rng.choice((1, 2, 3))
        deps[name] = [d.__name__ for d in job_deps]
        runs[name] = 0
        check, run = behaviour(name)
        classes.append(
            type(name, (Job,), {"DEPS": job_deps, "TRIES": tries[name], "Check": check, "Run": run})
        )
    # The root depends on every job nothing else depends on, newest first.
    used = {d for names in deps.values() for d in names}
    sinks = tuple(c for c in reversed(classes) if c.__name__ not in used)
    deps["Root"] = [c.__name__ for c in sinks]
    needed["Root"], tries["Root"], runs["Root"] = 0, 1, 0
    root = type("Root", (Job,), {"DEPS": sinks, "Check": lambda self, *a, **k: None})
    return root, deps, needed, tries, runs


def post_order(start: str, deps: dict[str, list[str]]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for dep in deps[name]:
            if dep not in seen:
                visit(dep)
        order.append(name)

    visit(start)
    return order


def contract_run(start, deps, needed, budget, no_act):
    """The contract's passes, literally: returns (tries in order, nodestatus)."""
    order = post_order(start, deps)
    runs = dict.fromkeys(order, 0)
    status: dict[str, bool | None] = {}
    tries = dict.fromkeys(order, 0)
    log = []
    while True:
        tried_this_pass = set()
        for name in order:
            if status.get(name) is True:
                continue
            status.setdefault(name, None)
            if any(status.get(dep) is not True for dep in deps[name]):
                continue
            if name in tried_this_pass or tries[name] >= budget[name]:
                continue
            tried_this_pass.add(name)
            tries[name] += 1
            log.append((name, tries[name]))
            if runs[name] >= needed[name]:
                status[name] = True
            elif no_act:
                status[name] = False
            else:
                runs[name] += 1
                status[name] = runs[name] >= needed[name]
        if all(s is True for s in status.values()):
            break
        if no_act or not any(
            s is False and tries[n] < budget[n] for n, s in status.items()
        ):
            break
    return log, status


@pytest.mark.parametrize("seed", range(60))
def test_tries_follow_the_contract_on_random_graphs(seed):
    rng = random.Random(seed)
    root, deps, needed, budget, runs = random_graph(rng, rng.randint(1, 60))
    starts = ["Root"] + rng.sample(sorted(deps), min(3, len(deps)))
    for start in starts:
        for no_act in (False, True):
            for name in runs:
                runs[name] = 0
            log = TryLog()
            dojob = DoJobber()
            dojob.configure(root, no_act=no_act, default_retry_delay=0, observers=[log])
            dojob.checknrun(None if start == "Root" else start)
            expected_log, expected_status = contract_run(start, deps, needed, budget, no_act)
            assert log.tries == expected_log, (seed, start, no_act)
            assert dojob.nodestatus == expected_status, (seed, start, no_act)


def test_failed_tries_leave_no_garbage_cycles():
    # A failed Check's exception is kept on its instance, and its traceback
    # holds the instance: left as is, every failed try would be a reference
    # cycle that only the cyclic garbage collector frees.
    counts: dict[str, int] = {}

    class Flaky(Job):
        TRIES = 3

        def Check(self, *args, **kwargs):
            if counts.get(type(self).__name__, 0) < 2:
                raise RuntimeError("not yet")

        def Run(self, *args, **kwargs):
            name = type(self).__name__
            counts[name] = counts.get(name, 0) + 1

    jobs = tuple(type(f"Flaky{k}", (Flaky,), {}) for k in range(50))
    root = type("AllFlaky", (Job,), {"DEPS": jobs, "Check": lambda self, *a, **k: None})
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0)
    gc.collect()
    gc.disable()
    try:
        dojob.checknrun()
        assert dojob.success()
        assert gc.collect() == 0
    finally:
        gc.enable()


def names_job(name, deps=()):
    return type(name, (Job,), {"DEPS": deps, "Check": lambda self, *a, **k: None})


def test_a_duplicate_name_met_first_is_reported_before_a_later_error():
    # Names are checked after the walk; the error must still be the one a
    # check on the way meets first.
    first = names_job("Same")
    second = type("Same", (Job,), {"DEPS": (5,)})  # also a bad DEPS entry
    root = names_job("Root", (first, names_job("Middle", (second,))))
    with pytest.raises(DuplicateJobNameError, match="two different job classes are named 'Same'") as caught:
        DoJobber().configure(root)
    assert caught.value.classes == (first, second)


def test_an_error_met_before_a_duplicate_name_is_the_one_reported():
    bad = type("Bad", (Job,), {"DEPS": (5,)})
    root = names_job("Root", (bad, names_job("Same"), names_job("Other", (names_job("Same"),))))
    with pytest.raises(JobTypeError, match="DEPS of job 'Bad' lists 5"):
        DoJobber().configure(root)


def test_a_duplicate_name_with_no_other_error():
    root = names_job("Root", (names_job("Twin"), names_job("Other", (names_job("Twin"),))))
    with pytest.raises(DuplicateJobNameError, match="named 'Twin'"):
        DoJobber().configure(root)


def test_a_duplicate_name_names_the_class_met_first_first():
    # The walk meets the outer Twin first and gives it its index last: the
    # error still lists the two in the order they were met.
    inner = names_job("Twin")
    outer = names_job("Twin", (names_job("Between", (inner,)),))
    with pytest.raises(DuplicateJobNameError, match="named 'Twin'") as caught:
        DoJobber().configure(names_job("Root", (outer,)))
    assert caught.value.classes == (outer, inner)


def test_the_debug_log_stops_where_a_duplicate_name_is_met():
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    log = logging.getLogger("DoJobber")
    log.addHandler(handler)
    try:
        dojob = DoJobber(dojobber_loglevel=logging.DEBUG)
        root = names_job("Root", (names_job("Twin"), names_job("Later", (names_job("Twin"),))))
        with pytest.raises(DuplicateJobNameError):
            dojob.configure(root)
    finally:
        log.removeHandler(handler)
        log.setLevel(logging.CRITICAL)
    assert lines == [
        "Adding job Root",
        "Adding job Twin",
        "Adding job Later",
    ]


def test_a_plan_takes_each_jobs_dependencies_as_any_sequence() -> None:
    """A tuple of two arrays is two jobs' dependencies, not the flat form."""
    from array import array

    from dojobber import DummyJob
    from dojobber.plan import Plan

    plan = Plan(["A", "B"], [DummyJob, DummyJob], (array("i"), array("i", [0])), [1, 1],
                [0.0, 0.0])
    assert [list(deps) for deps in plan.deps] == [[], [0]]
    assert len(plan.deps) == 2 and list(plan.deps[-1]) == [0]
    start, jobs = plan.dependents
    assert (list(start), list(jobs)) == ([0, 1, 1], [1])
    assert plan.waits is False
