"""The quick walk of a usual graph makes the very plan the careful walk makes.

build_plan walks a graph quickly when nothing in it is unusual, and
carefully (checking each job as it meets it, naming what is wrong) when
something is, or when the debug log is on. Both must give the same Plan:
these tests build random graphs of the kinds users write and compare.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterator

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from dojobber import DoJobber, Job
from dojobber.errors import ConfigurationError, DependencyCycleError
from dojobber.graph import QUICK_WALK_MOST, build_plan, quick_walk
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
}


def careful_plan(root: type[Job], settings: Settings) -> Plan:
    """build_plan with the debug log on: the careful walk, always."""
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
    """A root job over random jobs of the KINDS, with tuple or list DEPS
    that may list a job twice."""
    classes: list[type[Job]] = []
    for k in range(draw(st.integers(1, 25))):
        bases, own = KINDS[draw(st.sampled_from(sorted(KINDS)))]
        deps = draw(st.lists(st.sampled_from(classes), max_size=4)) if classes else []
        as_list = draw(st.booleans())
        classes.append(type(f"J{k}", bases, {**own, "DEPS": deps if as_list else tuple(deps)}))
    return type("Root", (Job,), {"Check": _check, "DEPS": tuple(classes)})


SETTINGS = st.sampled_from([
    DEFAULTS,
    Settings(default_tries=1, default_retry_delay=0),
    Settings(default_tries=Decimal("4.5"), default_retry_delay=2),
])


@hypothesis_settings(max_examples=300, deadline=None)
@given(graphs(), SETTINGS)
def test_the_quick_walk_makes_the_careful_walks_plan(root: type[Job], settings: Settings) -> None:
    quick = quick_walk(root, settings)
    assert quick is not None  # none of these graphs is beyond it
    assert_same(quick, careful_plan(root, settings))
    assert_same(build_plan(root, settings), quick)


def layered(size: int, **own: Any) -> type[Job]:
    classes: list[type[Job]] = []
    for k in range(size):
        deps = tuple(classes[max(0, k - 10):k:3])
        classes.append(type(f"L{k}", (WithCheck,), {"DEPS": deps, **own}))
    return type("Root", (WithCheck,), {"DEPS": tuple(classes)})


@pytest.mark.parametrize("own", [{}, {"TRIES": 3}, {"TRIES": 3, "RETRY_DELAY": 0.5}])
def test_the_benchmarks_shapes_take_the_quick_walk(own: dict[str, Any]) -> None:
    root = layered(300, **own)
    quick = quick_walk(root, DEFAULTS)
    assert quick is not None
    assert len(quick) == 301
    assert quick.tries[0] == own.get("TRIES", 3)
    assert_same(quick, careful_plan(root, DEFAULTS))


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
def test_the_quick_walk_leaves_what_is_wrong_to_the_careful_walk(case: str) -> None:
    make, error = BEYOND[case]
    assert quick_walk(make(), DEFAULTS) is None
    with pytest.raises(error):
        DoJobber().configure(make())


def test_a_generator_deps_is_read_once_by_the_careful_walk() -> None:
    # The quick walk must not consume what it cannot take.
    root = _generator_deps()
    assert quick_walk(root, DEFAULTS) is None
    dojob = DoJobber()
    dojob.configure(root)
    assert dojob.tries_allowed() == {"A": 3, "Root": 3}


def test_a_metaclass_takes_the_careful_walk_to_the_same_plan() -> None:
    special = Meta("Special", (WithCheck,), {})
    root = type("Root", (WithCheck,), {"DEPS": (special, WithCheck)})
    assert quick_walk(root, DEFAULTS) is None
    plan = build_plan(root)
    assert plan.names == ["Special", "WithCheck", "Root"]
    assert list(plan.unusual or ()) == [0]


def test_configures_default_timeout_takes_the_careful_walk() -> None:
    root = layered(5)
    assert quick_walk(root, Settings(default_timeout=5)) is None
    plan = build_plan(root, Settings(default_timeout=5))
    assert plan.timeouts == {i: 5 for i in range(6)}


def test_a_graph_over_the_quick_walks_limit_takes_the_careful_walk() -> None:
    # The careful walk reads each class once: on big graphs it is the faster.
    root = layered(QUICK_WALK_MOST + 5, TRIES=2)
    assert quick_walk(root, DEFAULTS) is None
    plan = build_plan(root)
    assert len(plan) == QUICK_WALK_MOST + 6
    assert set(plan.tries[:-1]) == {2}
    assert_same(plan, careful_plan(root, DEFAULTS))
    smaller = layered(QUICK_WALK_MOST - 1)
    quick = quick_walk(smaller, DEFAULTS)
    assert quick is not None and len(quick) == QUICK_WALK_MOST
