"""Property-based tests: random job graphs with random job behaviours.

Each example builds a random DAG of jobs whose behaviour is drawn per job:
an ``__init__`` that raises on some tries, a Check that passes once Run has
succeeded k times (or never), a Run that raises on some tries, its own TRIES
and RETRY_DELAY, a Check that takes some (fake) time, a Cleanup or not. The
run uses a fake clock, so delays are exact and cost no real time. Every job
records what happened to it; the properties are checked against that log and
against what DoJobber reports (``nodestatus``...).

Example counts come from the hypothesis profile (``HYPOTHESIS_PROFILE``):
``dojobber`` (default) runs 150 examples per property, ``thorough`` 2000.
"""

from __future__ import annotations

import math
import os
from collections import Counter
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dojobber
from conftest import FakeClock  # time moves only when a job spends it or on sleep()

settings.register_profile(
    "dojobber",
    max_examples=150,
    deadline=None,  # never a wall-clock limit: the machine is shared
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", parent=settings.get_profile("dojobber"), max_examples=2000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dojobber"))

# Dyadic values only: sums and differences of them are exact in floating
# point, so "at least RETRY_DELAY apart" can be checked exactly.
DELAYS = [0, 0.5, 1, 2.5]
DURATIONS = [0, 0.25, 1]


@dataclass(frozen=True)
class Behaviour:
    """What one job does on each of its tries (tries counted from 1)."""

    init_raises: frozenset[int]
    pass_after_runs: int | None  # Check passes once Run succeeded this often
    run_raises: frozenset[int]
    tries: float | None
    delay: float | None
    duration: float
    cleanup: bool


@dataclass
class Spec:
    """A random graph: job i depends on ``deps[i]`` (all smaller indices)."""

    deps: list[list[int]]
    behaviours: list[Behaviour]
    default_tries: int
    default_delay: float
    no_act: bool
    start: int  # the node checknrun starts from; the root is the last one


@dataclass
class World:
    """The log every job writes, and the state its Check looks at."""

    clock: FakeClock
    log: list[tuple[Any, ...]] = field(default_factory=list)
    tries: Counter[str] = field(default_factory=Counter)
    runs_ok: Counter[str] = field(default_factory=Counter)
    instances: int = 0


try_numbers = st.frozensets(st.integers(1, 4), max_size=3)
behaviours = st.builds(
    Behaviour,
    init_raises=try_numbers,
    pass_after_runs=st.one_of(st.none(), st.integers(0, 3)),
    run_raises=try_numbers,
    tries=st.one_of(st.none(), st.sampled_from([1, 2, 3, 1.5, 4])),
    delay=st.one_of(st.none(), st.sampled_from(DELAYS)),
    duration=st.sampled_from(DURATIONS),
    cleanup=st.booleans(),
)


@st.composite
def specs(draw: st.DrawFn, max_jobs: int = 8) -> Spec:
    n = draw(st.integers(1, max_jobs))
    deps = [
        draw(st.lists(st.integers(0, i - 1), max_size=3)) if i else [] for i in range(n)
    ]
    # The root (last job) also depends on every job nothing else needs, so
    # the whole graph is reached and independent branches are common.
    needed = {d for ds in deps for d in ds}
    deps[-1] += [i for i in range(n - 1) if i not in needed]
    spec = Spec(
        deps=deps,
        behaviours=[draw(behaviours) for _ in range(n)],
        default_tries=draw(st.integers(1, 3)),
        default_delay=draw(st.sampled_from(DELAYS)),
        no_act=draw(st.booleans()),
        start=n - 1,
    )
    # Mostly the root; sometimes a job below it (checknrun(node)).
    spec.start = draw(st.sampled_from(sorted(reachable(spec, n - 1), reverse=True)))
    return spec


def make_job(world: World, name: str, b: Behaviour, deps: list[type[dojobber.Job]],
             extra: dict[str, Any] | None = None) -> type:
    log = world.log

    class Random(dojobber.Job):
        DEPS = deps
        TRIES = b.tries
        RETRY_DELAY = b.delay

        # Deliberately no super().__init__(): the scheduler must not need it.
        def __init__(self) -> None:
            world.tries[name] += 1
            self.try_number = world.tries[name]
            log.append(("init", name, self.try_number, world.clock.now))
            if self.try_number in b.init_raises:
                raise RuntimeError(f"{name} cannot be made on try {self.try_number}")
            world.instances += 1
            self.instance = world.instances
            log.append(("made", name, self.instance))

        def Check(self, *args: Any, **kwargs: Any) -> str:
            world.clock.now += b.duration
            log.append(("check", name, self._check_phase))
            if b.pass_after_runs is not None and world.runs_ok[name] >= b.pass_after_runs:
                log.append(("pass", name))
                return f"{name} ok on try {self.try_number}"
            raise ValueError(f"{name} not there yet")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            log.append(("run", name, self.try_number))
            if self.try_number in b.run_raises:
                raise OSError(f"{name} run broke on try {self.try_number}")
            world.runs_ok[name] += 1

        if b.cleanup:

            def Cleanup(self) -> None:
                log.append(("cleanup", name, self.instance))

    Random.__name__ = Random.__qualname__ = name
    for attribute, value in (extra or {}).items():
        setattr(Random, attribute, value)
    return Random


def build(spec: Spec, world: World,
          extra: list[dict[str, Any]] | None = None) -> list[type[dojobber.Job]]:
    classes: list[type[dojobber.Job]] = []
    for i, b in enumerate(spec.behaviours):
        deps = [classes[d] for d in spec.deps[i]]
        classes.append(make_job(world, f"J{i}", b, deps, extra[i] if extra else None))
    return classes


def reachable(spec: Spec, start: int) -> set[int]:
    seen, todo = {start}, [start]
    while todo:
        for dep in spec.deps[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def budget(spec: Spec, i: int) -> int:
    tries = spec.behaviours[i].tries
    return math.ceil(spec.default_tries if tries is None else tries)


def delay(spec: Spec, i: int) -> float:
    d = spec.behaviours[i].delay
    return spec.default_delay if d is None else d


def run(
    spec: Spec, extra: list[dict[str, Any]] | None = None, **options: Any
) -> tuple[World, dojobber.DoJobber, list[type[dojobber.Job]]]:
    world = World(FakeClock())
    classes = build(spec, world, extra)
    dojob = dojobber.DoJobber(clock=world.clock, sleep=world.clock.sleep)
    dojob.configure(
        classes[-1],
        no_act=spec.no_act,
        default_tries=spec.default_tries,
        default_retry_delay=spec.default_delay,
        **options,
    )
    dojob.checknrun(classes[spec.start])
    return world, dojob, classes


def events(world: World, kind: str, name: str | None = None) -> list[tuple[Any, ...]]:
    return [e for e in world.log if e[0] == kind and (name is None or e[1] == name)]


def passed(world: World) -> set[str]:
    return {e[1] for e in events(world, "pass")}


# The properties


@given(specs())
def test_a_job_is_tried_only_after_every_dependency_passed(spec: Spec) -> None:
    world, _, _ = run(spec)
    passed_so_far: set[str] = set()
    for entry in world.log:
        if entry[0] == "pass":
            passed_so_far.add(entry[1])
        elif entry[0] == "init":
            i = int(entry[1][1:])
            assert {f"J{d}" for d in spec.deps[i]} <= passed_so_far, entry


@given(specs())
def test_never_more_tries_than_the_budget(spec: Spec) -> None:
    world, _, _ = run(spec)
    for i in reachable(spec, spec.start):
        assert world.tries[f"J{i}"] <= budget(spec, i)


@given(specs())
def test_two_tries_of_a_job_start_at_least_retry_delay_apart(spec: Spec) -> None:
    world, _, _ = run(spec)
    for i in reachable(spec, spec.start):
        starts = [e[3] for e in events(world, "init", f"J{i}")]
        for earlier, later in zip(starts, starts[1:], strict=False):
            assert later - earlier >= delay(spec, i), (f"J{i}", starts)
    # The scheduler sleeps only when a try is due later: never a zero sleep.
    assert all(s > 0 for s in world.clock.sleeps)


@given(specs())
def test_a_passed_job_is_never_tried_again(spec: Spec) -> None:
    world, _, _ = run(spec)
    done: set[str] = set()
    for entry in world.log:
        if entry[0] == "pass":
            done.add(entry[1])
        elif entry[0] == "init":
            assert entry[1] not in done, entry


@given(specs())
def test_statuses_match_what_happened(spec: Spec) -> None:
    """None exactly when never tried; True when a Check passed; else False.

    Also: every reachable job is reported, results come from the Check that
    passed, exceptions are kept for failed jobs only, and the run stopped
    only when nothing more could be done.
    """
    world, dojob, _ = run(spec)
    reached = reachable(spec, spec.start)
    names = {f"J{i}" for i in reached}
    tried = {e[1] for e in events(world, "init")}
    ok = passed(world)
    assert set(dojob.nodestatus) == names
    for name, status in dojob.nodestatus.items():
        assert (status is None) == (name not in tried), name
        assert (status is True) == (name in ok), name
    assert set(dojob.nodeexceptions) == {n for n, s in dojob.nodestatus.items() if s is False}
    for name in ok:
        last_try = world.tries[name]
        assert dojob.noderesults[name] == f"{name} ok on try {last_try}"
    assert set(dojob.noderesults) == ok
    assert dojob.success() is (ok == names)
    assert dojob.partial_success() is bool(ok)
    assert dojob.failure() is not dojob.success()
    # The run ends only when nothing is left to try.
    status = dojob.nodestatus
    for i in reached:
        name = f"J{i}"
        if status[name] is None:
            assert any(status[f"J{d}"] is not True for d in spec.deps[i]), name
        elif status[name] is False and not spec.no_act:
            assert world.tries[name] == budget(spec, i), name
    if spec.no_act:
        assert events(world, "run") == []
        assert all(t <= 1 for t in world.tries.values())


@given(specs())
def test_cleanups_run_newest_first_once_per_instance(spec: Spec) -> None:
    world, dojob, classes = run(spec)
    made = [e[2] for e in events(world, "made") if spec.behaviours[int(e[1][1:])].cleanup]
    cleaned = [e[2] for e in events(world, "cleanup")]
    assert cleaned == made[::-1]
    # The cleanups all come after the last try.
    first_cleanup = next((k for k, e in enumerate(world.log) if e[0] == "cleanup"), None)
    if first_cleanup is not None:
        assert all(e[0] == "cleanup" for e in world.log[first_cleanup:])
    dojob.cleanup()
    assert [e[2] for e in events(world, "cleanup")] == cleaned


# Idempotent jobs: their state lives outside the job, Run makes it so (or
# never can), and Check looks at it. Running the graph again changes nothing.


@dataclass(frozen=True)
class Idempotent:
    fixable: bool  # Run brings the state about (else Run always raises)
    already: bool  # the state holds before the first run


@st.composite
def idempotent_graphs(draw: st.DrawFn) -> tuple[list[list[int]], list[Idempotent], bool]:
    n = draw(st.integers(1, 8))
    deps = [draw(st.lists(st.integers(0, i - 1), max_size=3)) if i else [] for i in range(n)]
    kinds = draw(st.lists(st.builds(Idempotent, st.booleans(), st.booleans()), min_size=n,
                          max_size=n))
    return deps, kinds, draw(st.booleans())


def idempotent_job(state: dict[str, bool], runs: list[str], name: str, kind: Idempotent,
                   deps: list[type[dojobber.Job]]) -> type[dojobber.Job]:
    class Steady(dojobber.Job):
        DEPS = deps
        TRIES = 2
        RETRY_DELAY = 0

        def Check(self, *args: Any, **kwargs: Any) -> str:
            if not state[name]:
                raise LookupError(f"{name} missing")
            return f"{name} present"

        def Run(self, *args: Any, **kwargs: Any) -> None:
            runs.append(name)
            if not kind.fixable:
                raise PermissionError(f"{name} cannot be fixed")
            state[name] = True

    Steady.__name__ = Steady.__qualname__ = name
    state[name] = kind.already
    return Steady


@given(idempotent_graphs())
def test_checknrun_twice_gives_the_same_result_as_once(
    graph: tuple[list[list[int]], list[Idempotent], bool],
) -> None:
    deps, kinds, same_object = graph
    state: dict[str, bool] = {}
    runs: list[str] = []
    classes: list[type[dojobber.Job]] = []
    for i, kind in enumerate(kinds):
        classes.append(idempotent_job(state, runs, f"J{i}", kind, [classes[d] for d in deps[i]]))
    first = dojobber.DoJobber()
    first.configure(classes[-1])
    first.checknrun()
    once = (first.nodestatus, first.noderesults, set(first.nodeexceptions), first.success())
    again = first if same_object else dojobber.DoJobber()
    if not same_object:
        again.configure(classes[-1])
    runs.clear()
    again.checknrun()
    twice = (again.nodestatus, again.noderesults, set(again.nodeexceptions), again.success())
    assert twice == once
    # Nothing that passed needed a Run the second time; the broken jobs that
    # were tried are tried again with a fresh budget (2 tries each).
    broken_tried = [n for n, s in once[0].items() if s is False]
    assert sorted(runs) == sorted(broken_tried * 2)


def outcome_of(dojob: dojobber.DoJobber) -> tuple[Any, ...]:
    errors = {name: (type(e), str(e)) for name, e in dojob.nodeexceptions.items()}
    return dojob.nodestatus, dojob.noderesults, errors, dojob.success()


@settings(max_examples=60)
@given(specs(), st.integers(2, 8))
def test_workers_give_the_same_results_as_one_worker(spec: Spec, workers: int) -> None:
    # Each job's behaviour depends only on its own tries, so the order in
    # which threads interleave must not change any result. No delays: the
    # parallel engine waits for them in real time.
    spec.default_delay = 0
    spec.behaviours = [
        dataclasses.replace(b, delay=None) for b in spec.behaviours
    ]
    results = []
    for count in (1, workers):
        world = World(FakeClock())
        classes = build(spec, world)
        dojob = dojobber.DoJobber()
        dojob.configure(classes[-1], no_act=spec.no_act, default_tries=spec.default_tries,
                        default_retry_delay=0, workers=count)
        dojob.checknrun(classes[spec.start])
        results.append((outcome_of(dojob), dict(world.tries)))
    assert results[1] == results[0]


# Timeouts, fail-fast and backoff (docs/timeouts-and-retries.rst)

#: Every way of spelling "the 0.6.2 behaviour" with the new settings.
DEFAULT_OPTIONS = st.fixed_dictionaries({}, optional={
    "default_timeout": st.sampled_from([None, math.inf]),
    "fail_fast": st.just(False),
    "default_retry_backoff": st.sampled_from([1, 1.0]),
    "default_retry_delay_max": st.sampled_from([None, math.inf]),
    "default_retry_jitter": st.sampled_from([0, 0.0]),
})
DEFAULT_ATTRIBUTES = st.fixed_dictionaries({}, optional={
    "TIMEOUT": st.sampled_from([None, math.inf]),
    "RETRY_BACKOFF": st.sampled_from([None, 1]),
    "RETRY_DELAY_MAX": st.sampled_from([None, math.inf]),
    "RETRY_JITTER": st.sampled_from([None, 0]),
})


def trace(world: World, dojob: dojobber.DoJobber) -> tuple[Any, ...]:
    errors = {name: (type(e), str(e)) for name, e in dojob.nodeexceptions.items()}
    return (world.log, world.clock.sleeps, world.clock.now, dojob.nodestatus,
            dojob.noderesults, errors)


@given(specs(), DEFAULT_OPTIONS, st.data())
def test_default_settings_give_the_same_trace_as_none(
    spec: Spec, options: dict[str, Any], data: st.DataObject
) -> None:
    """Timeouts, fail-fast and backoff at their defaults (given or not, on
    configure or on the jobs) change nothing: same tries at the same
    (fake) times, same sleeps, same results."""
    extra = [data.draw(DEFAULT_ATTRIBUTES) for _ in spec.behaviours]
    plain = trace(*run(spec)[:2])
    assert trace(*run(spec, extra, **options)[:2]) == plain


BACKOFFS = st.fixed_dictionaries({}, optional={
    "RETRY_BACKOFF": st.sampled_from([1, 1.5, 2, 4]),
    "RETRY_DELAY_MAX": st.sampled_from([0, 0.5, 2, math.inf]),
    "RETRY_JITTER": st.sampled_from([0, 0.5, 1]),
})


@given(specs(), st.data())
def test_two_tries_start_at_least_the_backed_off_delay_apart(
    spec: Spec, data: st.DataObject
) -> None:
    """Try n+1 starts at least (1 - jitter) * min(delay * backoff**(n-1), cap)
    after try n, and the scheduler never sleeps longer than the full wait."""
    extra = [data.draw(BACKOFFS) for _ in spec.behaviours]
    world, _, _ = run(spec, extra)
    for i in reachable(spec, spec.start):
        rule = extra[i]
        starts = [e[3] for e in events(world, "init", f"J{i}")]
        for n, (earlier, later) in enumerate(zip(starts, starts[1:], strict=False), 1):
            wait = min(delay(spec, i) * rule.get("RETRY_BACKOFF", 1) ** (n - 1),
                       rule.get("RETRY_DELAY_MAX", math.inf))
            assert later - earlier >= wait * (1 - rule.get("RETRY_JITTER", 0)) - 1e-9
    longest = max((min(delay(spec, i) * e.get("RETRY_BACKOFF", 1) ** 3,
                       e.get("RETRY_DELAY_MAX", math.inf))
                   for i, e in enumerate(extra)), default=0)
    assert all(0 < s <= longest for s in world.clock.sleeps)


@given(specs())
def test_fail_fast_starts_no_try_after_a_job_ran_out_of_tries(spec: Spec) -> None:
    world, dojob, _ = run(spec, fail_fast=True)
    report = dojob.report()
    status = dojob.nodestatus
    out = [n for n, s in status.items()
           if s is False and (spec.no_act or world.tries[n] == budget(spec, int(n[1:])))]
    if report.stopped_by is None:
        # Nothing ran out of tries: the run is the same as without fail-fast.
        assert out == []
        assert trace(world, dojob) == trace(*run(spec)[:2])
        return
    assert report.stopped_by in out
    # Its last try was the last try of the run.
    inits = events(world, "init")
    assert inits[-1][1] == report.stopped_by
    assert world.tries[report.stopped_by] == (1 if spec.no_act else
                                               budget(spec, int(report.stopped_by[1:])))
    # Not tried: never tried, and nothing failed for good blocks them.
    for name in report.not_tried:
        assert status[name] is None and world.tries[name] == 0
    # Every other job never tried is blocked by a dependency that failed
    # for good or is blocked itself.
    for name, s in status.items():
        if s is None and name not in report.not_tried:
            deps = [f"J{d}" for d in spec.deps[int(name[1:])]]
            assert any(d in out or (status[d] is None and d not in report.not_tried)
                       for d in deps), name
