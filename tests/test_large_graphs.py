"""Big graphs run to completion: no recursion on depth, no re-walks per job."""

from __future__ import annotations

import random

from dojobber import DoJobber, Job


class Passing(Job):
    def Check(self, *args, **kwargs):
        pass

    def Run(self, *args, **kwargs):
        pass


class Failing(Job):
    TRIES = 1

    def Check(self, *args, **kwargs):
        raise RuntimeError("always")

    def Run(self, *args, **kwargs):
        pass


def test_a_chain_of_100000_jobs():
    previous = ()
    for i in range(100_000):
        job = type(f"Chain{i}", (Passing,), {"DEPS": previous})
        previous = (job,)
    dojob = DoJobber()
    dojob.configure(job)
    dojob.checknrun()
    assert dojob.success()
    assert len(dojob.nodestatus) == 100_000
    assert next(iter(dojob.nodestatus)) == "Chain0"


def layered(width, depth, fail_every=0, seed=7):
    rng = random.Random(seed)
    below: list[type[Job]] = []
    every: list[type[Job]] = []
    number = 0
    for layer in range(depth):
        current = []
        for _ in range(width):
            number += 1
            base = Failing if fail_every and number % fail_every == 0 else Passing
            deps = tuple(rng.sample(below, 3)) if below else ()
            current.append(type(f"L{layer}_{number}", (base,), {"DEPS": deps}))
        below = current
        every += current
    return type("Top", (Passing,), {"DEPS": tuple(every)})


def test_a_layered_graph_of_100000_jobs():
    dojob = DoJobber()
    dojob.configure(layered(50, 2000))
    dojob.checknrun()
    assert dojob.success()
    assert len(dojob.nodestatus) == 100_001


FAILING_NUMBERS = {str(n) for n in range(50, 2001, 50)}


def test_failing_jobs_under_shared_dependencies_block_their_dependants():
    dojob = DoJobber()
    dojob.configure(layered(50, 40, fail_every=50))
    dojob.checknrun()
    statuses = dojob.nodestatus
    assert len(statuses) == 2001
    graph = dojob.graph
    for name, status in statuses.items():
        deps_passed = all(statuses[dep] is True for dep in graph.neighbors(name))
        if not deps_passed:
            assert status is None, name  # blocked, never tried
        else:
            assert status is (name.rsplit("_", 1)[-1] not in FAILING_NUMBERS), name
    failed = {name for name, status in statuses.items() if status is False}
    assert failed and set(dojob.nodeexceptions) == failed
    assert statuses["Top"] is None
