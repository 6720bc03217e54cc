"""The walk reads a graph in bulk to the very plan it makes carefully.

build_plan walks a graph once, ordering its classes and reading their
settings in bulk, CHUNK classes at a time; when something there is wrong
or unusual, or the debug log is on, it walks again carefully (checking
each job as it meets it, naming what is wrong). Both must give the same
Plan: these tests build random graphs of the kinds users write and compare.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterator
from unittest import mock

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from dojobber import DoJobber, Job
from dojobber.errors import ConfigurationError, DependencyCycleError
from dojobber import graph
from dojobber.graph import CHUNK, UnusualGraph, build_plan, plan_carefully, plan_in_bulk
from dojobber.plan import Plan
from dojobber.settings import DEFAULTS, Settings

FIELDS = ("names", "classes", "dep_start", "dep_jobs", "tries", "delays", "timeouts",
          "backoff", "waits")


def _check(self: Job, *args: Any, **kwargs: Any) -> None:
    pass


class WithCheck(Job):
    Check = _check


class SetsTries(Job):
    TRIES = 2
    Check = _check


class Mixin:
    pass


class Meta(type):
    pass


#: What each generated job is made of: its bases and its own class dict.
KINDS: dict[str, tuple[tuple[type, ...], dict[str, Any]]] = {
    "plain": ((Job,), {"Check": _check}),
    "inherits Check": ((WithCheck,), {}),
    "base sets TRIES": ((SetsTries,), {}),
    "TRIES": ((Job,), {"Check": _check, "TRIES": 5}),
    "TRIES 1.1": ((WithCheck,), {"TRIES": 1.1}),
    "TRIES Decimal": ((WithCheck,), {"TRIES": Decimal("2.5")}),
    "TRIES and RETRY_DELAY": ((WithCheck,), {"TRIES": 3, "RETRY_DELAY": 0.5}),
    "RETRY_DELAY Fraction": ((WithCheck,), {"RETRY_DELAY": Fraction(1, 4)}),
    "TRIES None": ((WithCheck,), {"TRIES": None}),
    "TIMEOUT": ((WithCheck,), {"TIMEOUT": 5}),
    "backoff": ((WithCheck,), {"RETRY_BACKOFF": 2, "RETRY_DELAY": 1}),
    "no Check": ((Job,), {}),
    "lower-case check": ((Job,), {"Check": _check, "check": _check}),
    "two bases": ((Mixin, Job), {"Check": _check}),
    "metaclass": ((WithCheck,), {"metaclass": Meta}),
}


def careful_plan(root: type[Job], settings: Settings) -> Plan:
    """build_plan with the debug log on: the careful walk, always (the
    same as plan_carefully, which test_the_debug_log_takes_the_careful_walk
    checks)."""
    logger = logging.getLogger("DoJobber")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        return build_plan(root, settings)
    finally:
        logger.setLevel(level)


def assert_same(quick: Plan, careful: Plan) -> None:
    for field in FIELDS:
        assert getattr(quick, field) == getattr(careful, field), field
    assert list(quick.unusual or ()) == list(careful.unusual or ())


@st.composite
def graphs(draw: st.DrawFn) -> type[Job]:
    """A root job over random jobs of the KINDS, with tuple, list or set
    DEPS that may list a job twice (a set of at most one: the order of a
    bigger set changes from one run of the test to the next)."""
    classes: list[type[Job]] = []
    for k in range(draw(st.integers(1, 25))):
        bases, own = KINDS[draw(st.sampled_from(sorted(KINDS)))]
        deps = draw(st.lists(st.sampled_from(classes), max_size=4)) if classes else []
        made = draw(st.sampled_from([tuple, list, lambda deps: set(deps[:1])]))
        body = {**own, "DEPS": made(deps)}
        classes.append(body.pop("metaclass", type)(f"J{k}", bases, body))
    # In any order, so that the walk goes down as well as across.
    return type("Root", (Job,), {"Check": _check, "DEPS": tuple(draw(st.permutations(classes)))})


SETTINGS = st.sampled_from([
    DEFAULTS,
    Settings(default_tries=1, default_retry_delay=0),
    Settings(default_tries=Decimal("4.5"), default_retry_delay=2),
    Settings(default_timeout=5),
    Settings(default_retry_backoff=2),
])


@hypothesis_settings(max_examples=300, deadline=None)
@given(graphs(), SETTINGS, st.sampled_from([1, 2, 3, 7, CHUNK]))
def test_the_walk_reads_in_bulk_the_plan_it_makes_carefully(
    root: type[Job], settings: Settings, chunk: int
) -> None:
    # Chunks of a few classes, as a graph of thousands has chunks of CHUNK.
    with mock.patch.object(graph, "CHUNK", chunk):
        in_bulk = plan_in_bulk(root, settings)  # none of these graphs is beyond it
    assert_same(in_bulk, careful_plan(root, settings))
    assert_same(in_bulk, plan_carefully(root, settings))
    assert_same(build_plan(root, settings), in_bulk)


def layered(size: int, **own: Any) -> type[Job]:
    classes: list[type[Job]] = []
    for k in range(size):
        deps = tuple(classes[max(0, k - 10):k:3])
        classes.append(type(f"L{k}", (WithCheck,), {"DEPS": deps, **own}))
    return type("Root", (WithCheck,), {"DEPS": tuple(classes)})


@pytest.mark.parametrize("own", [{}, {"TRIES": 3}, {"TRIES": 3, "RETRY_DELAY": 0.5}])
def test_the_benchmarks_shapes_are_read_in_bulk(own: dict[str, Any]) -> None:
    root = layered(300, **own)
    in_bulk = plan_in_bulk(root, DEFAULTS)
    assert len(in_bulk) == 301
    assert in_bulk.tries[0] == own.get("TRIES", 3)
    assert_same(in_bulk, careful_plan(root, DEFAULTS))


def _cycle() -> type[Job]:
    class A(WithCheck):
        pass

    class B(WithCheck):
        DEPS = (A,)

    A.DEPS = (B,)
    return type("Root", (WithCheck,), {"DEPS": (B,)})


def _generator_deps() -> type[Job]:
    class A(WithCheck):
        pass

    def deps() -> Iterator[type[Job]]:
        yield A

    return type("Root", (WithCheck,), {"DEPS": deps()})


BEYOND = {
    "a cycle": (_cycle, DependencyCycleError),
    "TRIES of text": (lambda: layered(3, TRIES="3"), ConfigurationError),
    "an int in DEPS": (lambda: type("Root", (WithCheck,), {"DEPS": (WithCheck, 3)}),
                       ConfigurationError),
    "DEPS a string": (lambda: type("Root", (WithCheck,), {"DEPS": "WithCheck"}),
                      ConfigurationError),
    "a class that is no Job": (lambda: type("Root", (WithCheck,), {"DEPS": (Mixin,)}),
                               ConfigurationError),
}


@pytest.mark.parametrize("case", sorted(BEYOND))
def test_what_is_wrong_is_left_to_the_careful_walk(case: str) -> None:
    make, error = BEYOND[case]
    with pytest.raises(Exception):  # noqa: B017, PT011 - any: build_plan walks again
        plan_in_bulk(make(), DEFAULTS)
    with pytest.raises(error):
        plan_carefully(make(), DEFAULTS)
    with pytest.raises(error):
        DoJobber().configure(make())


def test_a_generator_deps_is_read_once_by_the_careful_walk() -> None:
    # Reading in bulk must not consume what it cannot take.
    root = _generator_deps()
    with pytest.raises(UnusualGraph):
        plan_in_bulk(root, DEFAULTS)
    dojob = DoJobber()
    dojob.configure(root)
    assert dojob.tries_allowed() == {"A": 3, "Root": 3}


def test_a_metaclass_is_read_in_bulk_to_the_same_plan() -> None:
    special = Meta("Special", (WithCheck,), {})
    root = type("Root", (WithCheck,), {"DEPS": (special, WithCheck)})
    plan = plan_in_bulk(root, DEFAULTS)
    assert plan.names == ["Special", "WithCheck", "Root"]
    assert list(plan.unusual or ()) == [0]
    assert_same(plan, careful_plan(root, DEFAULTS))


class Alike(type):
    """Classes equal to one another: a DEPS of two of them lists one job."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alike)

    def __hash__(self) -> int:
        return 1


def test_a_metaclass_with_its_own_equality_takes_the_careful_walk() -> None:
    first = Alike("First", (WithCheck,), {})
    second = Alike("Second", (WithCheck,), {})
    root = type("Root", (WithCheck,), {"DEPS": (first, second)})
    with pytest.raises(UnusualGraph):
        plan_in_bulk(root, DEFAULTS)
    assert build_plan(root).names == ["First", "Root"]


def test_configures_default_timeout_is_read_in_bulk() -> None:
    root = layered(5)
    plan = plan_in_bulk(root, Settings(default_timeout=5))
    assert plan.timeouts == {i: 5 for i in range(6)}
    assert_same(plan, careful_plan(root, Settings(default_timeout=5)))


def test_a_graph_of_several_chunks_is_read_to_the_same_plan() -> None:
    root = layered(2 * CHUNK + 5, TRIES=2)
    plan = plan_in_bulk(root, DEFAULTS)
    assert len(plan) == 2 * CHUNK + 6
    assert set(plan.tries[:-1]) == {2}
    assert_same(plan, careful_plan(root, DEFAULTS))
    assert_same(build_plan(root), plan)


@pytest.mark.parametrize("wrong_entry_at, expected", [
    (CHUNK + 4, "TRIES of job 'L1026' must be a finite number >= 1, got 0"),
    (CHUNK + 1, "DEPS of job 'L1025' lists 3, which is not a Job class"),
])
def test_the_error_met_first_is_raised_across_chunks(wrong_entry_at: int, expected: str) -> None:
    # The jobs of layered() are left in the order made: L1026 is left
    # after L1025 is met, and before L1028 is.
    root = layered(CHUNK + 5)
    jobs = root.DEPS
    jobs[CHUNK + 2].TRIES = 0  # type: ignore[index]
    jobs[wrong_entry_at].DEPS += (3,)  # type: ignore[index]
    with pytest.raises(ConfigurationError) as raised:
        build_plan(root)
    assert str(raised.value) == expected


def test_the_debug_log_takes_the_careful_walk(caplog: pytest.LogCaptureFixture) -> None:
    root = layered(3)
    with caplog.at_level(logging.DEBUG, logger="DoJobber"):
        assert_same(build_plan(root), plan_carefully(root))
    assert "Adding job L2" in caplog.messages
    assert "Adding dependency L2 -> L0" in caplog.messages
