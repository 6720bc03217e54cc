"""The generated job graphs the benchmarks run, built on any ``Job`` base class.

This module imports nothing from DoJobber, so the same graphs can be built on
this project's ``Job`` and, in another interpreter, on DoJobber 0.6.2's.
"""

from __future__ import annotations

import random
from typing import Any, Callable

#: Shape name -> what it is, in the order the benchmark prints them.
SHAPES = {
    "layered": "layers 50 wide, each job depends on 3 random jobs of the layer below",
    "layered-failing": "the same, with 2% of the jobs always failing (TRIES 1)",
    "chain": "each job depends on the one before",
    "fan-out": "the root depends on every other job; none has DEPS",
    "diamonds": "a chain of diamonds: two jobs on one, one on those two",
    "retry-heavy": "layered, and every job passes on its 3rd try (RETRY_DELAY 0)",
    "settings-tries": "layered, every job class setting TRIES = 3 in its own body",
    "settings-tries-delay": "layered, every job class setting TRIES = 3, RETRY_DELAY = 0.5",
}

#: Shape -> the settings every job class of it sets in its own class body,
#: as users write ``class Deploy(Job): TRIES = 5``. Every job passes at its
#: first Check: the delay is never waited for.
OWN_SETTINGS: dict[str, dict[str, Any]] = {
    "settings-tries": {"TRIES": 3},
    "settings-tries-delay": {"TRIES": 3, "RETRY_DELAY": 0.5},
}

WIDTH = 50
FAN_IN = 3
FAILING_SHARE = 0.02
SEED = 20190101


class Graph:
    """A generated graph: its ``root`` class and a ``reset`` for the next run."""

    def __init__(self, shape: str, root: type, size: int, reset: Callable[[], None]):
        self.shape = shape
        self.root = root
        self.size = size
        self.reset = reset


def build(shape: str, size: int, job: type) -> Graph:
    """Make ``size`` job classes (the root included) subclassing ``job``.

    The root depends on every job that nothing else depends on, so the whole
    graph is reachable. The same shape and size always give the same graph,
    and the layered shapes the same DEPS.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    if size < 2:
        raise ValueError(f"a graph needs at least 2 jobs, got {size}")
    structure = _STRUCTURES[shape]
    # Seeded by structure, so the layered shapes share one graph.
    rng = random.Random(f"{SEED}-{structure.__name__}-{size}")
    runs: dict[type, int] = {}
    passing, failing, third_try = _behaviours(job, runs)
    count = size - 1
    deps = structure(count, rng)
    kinds = [third_try if shape == "retry-heavy" else passing] * count
    if shape == "layered-failing":
        for index in rng.sample(range(count), max(1, round(count * FAILING_SHARE))):
            kinds[index] = failing
    own = OWN_SETTINGS.get(shape, {})
    classes: list[type] = []
    for index, (kind, job_deps) in enumerate(zip(kinds, deps, strict=True)):
        cls_deps = tuple(classes[d] for d in job_deps)
        classes.append(type(f"J{index}", (kind,), {"DEPS": cls_deps, **own}))
    needed = {d for job_deps in deps for d in job_deps}
    sinks = tuple(cls for index, cls in enumerate(classes) if index not in needed)
    root = type("Root", (passing,), {"DEPS": sinks, **own})
    return Graph(shape, root, size, runs.clear)


def _behaviours(job: type, runs: dict[type, int]) -> tuple[type, type, type]:
    class Passing(job):  # type: ignore[misc]
        def Check(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
            pass

        def Run(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
            pass

    class Failing(job):  # type: ignore[misc]
        TRIES = 1

        def Check(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
            raise RuntimeError("this job always fails")

        def Run(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
            pass

    class ThirdTry(job):  # type: ignore[misc]
        # Run counts its calls in ``runs`` (not on the instance: each try
        # gets a fresh one); the recheck after the third Run passes.
        TRIES = 3
        RETRY_DELAY = 0

        def Check(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
            if runs.get(type(self), 0) < 3:
                raise RuntimeError("not yet")

        def Run(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
            runs[type(self)] = runs.get(type(self), 0) + 1

    return Passing, Failing, ThirdTry


def _layered(count: int, rng: random.Random) -> list[tuple[int, ...]]:
    deps: list[tuple[int, ...]] = []
    for index in range(count):
        layer_start = index - index % WIDTH
        below = range(max(0, layer_start - WIDTH), layer_start)
        deps.append(tuple(rng.sample(below, FAN_IN)) if below else ())
    return deps


def _chain(count: int, rng: random.Random) -> list[tuple[int, ...]]:
    return [()] + [(index - 1,) for index in range(1, count)]


def _fan_out(count: int, rng: random.Random) -> list[tuple[int, ...]]:
    return [()] * count


def _diamonds(count: int, rng: random.Random) -> list[tuple[int, ...]]:
    # Job 0 is the first bottom; then left, right (both on the bottom) and
    # top (on left and right), whose top is the next diamond's bottom.
    deps: list[tuple[int, ...]] = [()]
    for index in range(1, count):
        if index % 3 == 0:
            deps.append((index - 2, index - 1))
        else:
            deps.append((index - index % 3,))
    return deps


# Shape -> the DEPS of each job, as indices of earlier jobs.
_STRUCTURES = {
    "layered": _layered,
    "layered-failing": _layered,
    "chain": _chain,
    "fan-out": _fan_out,
    "diamonds": _diamonds,
    "retry-heavy": _layered,
    "settings-tries": _layered,
    "settings-tries-delay": _layered,
}
