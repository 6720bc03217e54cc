"""The plan: the validated job graph as flat arrays, indexed in the root's run order."""

from __future__ import annotations

from array import array
from functools import cached_property
from itertools import accumulate
from typing import TYPE_CHECKING, Iterator, Sequence, overload

if TYPE_CHECKING:
    from pygraph.classes.digraph import digraph

    from .backoff import Backoff
    from .jobs import Job


class Plan:
    """The validated job graph as flat lists, indexed in the root's run order.

    Index ``i`` is the ``i``-th job of the root's depth-first post-order, so
    ``range(len(names))`` is already the order of a run from the root, and
    every job's dependencies have smaller indices.
    """

    # A plain class, not a dataclass: ``import dojobber`` stays lighter
    # (tests/test_import_cost.py refuses dataclasses).
    def __init__(
        self,
        names: list[str],
        classes: list[type[Job]],
        deps: Sequence[Sequence[int]] | FlatDeps,
        tries: list[int],
        delays: Sequence[float],
        timeouts: dict[int, float] | None = None,
        backoff: dict[int, Backoff] | None = None,
        unusual: Sequence[int] | None = None,
        waits: bool | None = None,
    ):
        self.names = names
        self.classes = classes
        if not isinstance(deps, FlatDeps):  # one sequence of indices per job
            deps = flat_deps(deps)
        #: The DEPS of job ``i`` are ``dep_jobs[dep_start[i]:dep_start[i + 1]]``:
        #: two arrays of machine integers rather than a tuple per job, which
        #: on big graphs is much less memory kept and nothing for the
        #: garbage collector to go through.
        self.dep_start, self.dep_jobs = deps.start, deps.jobs
        self.tries = tries
        self.delays = delays
        #: Job index -> TIMEOUT in seconds, for the jobs that have a limit.
        self.timeouts: dict[int, float] = timeouts or {}
        #: Job index -> its Backoff, for the jobs whose RETRY_BACKOFF,
        #: RETRY_DELAY_MAX or RETRY_JITTER is not the default (1, none, 0).
        self.backoff: dict[int, Backoff] = backoff or {}
        #: The jobs whose class (or a base) sets a setting or a name
        #: hints.py looks at, a metaclass or several bases; None: not known.
        self.unusual = unusual
        #: Whether some job waits between its tries (a RETRY_DELAY or a
        #: backoff): a run of a plan where none does never reads the clock.
        self.waits = bool(self.backoff) or any(delays) if waits is None else waits
        self._orders: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self.names)

    @property
    def deps(self) -> Deps:
        """Each job's dependencies, as indices: ``deps[i]``."""
        return Deps(self.dep_start, self.dep_jobs)

    @cached_property
    def index(self) -> dict[str, int]:
        """Job name -> index (made on first use: only ``checknrun(node)`` needs it)."""
        return {name: i for i, name in enumerate(self.names)}

    @cached_property
    def waiters(self) -> bytearray:
        """Per job, 1 when it waits between its tries: it has more than one
        try, and a RETRY_DELAY or a backoff (made on first use: only runs of
        a plan that ``waits`` ask)."""
        backoff, delays = self.backoff, self.delays
        return bytearray(
            tries > 1 and bool(delays[i] or i in backoff) for i, tries in enumerate(self.tries)
        )

    @cached_property
    def dependents(self) -> tuple[array[int], array[int]]:
        """The DEPS edges reversed, as ``(start, jobs)``.

        The jobs whose DEPS list job ``i`` are ``jobs[start[i]:start[i + 1]]``,
        ascending.
        """
        counts = [0] * len(self.names)
        for dep in self.dep_jobs:
            counts[dep] += 1
        start = array("I", accumulate(counts, initial=0))
        free = start[:-1]  # where the next dependent of each job goes
        jobs = array("I", bytes(4 * start[-1]))
        for i, job_deps in enumerate(self.deps):
            for dep in job_deps:
                jobs[free[dep]] = i
                free[dep] += 1
        return start, jobs

    def positions(self, order: Sequence[int]) -> Sequence[int]:
        """Each job's position in ``order``, or -1 for a job ``order`` lacks."""
        if isinstance(order, range):
            return order  # the root's order: every job, at the position of its index
        position = [-1] * len(self.names)
        for p, i in enumerate(order):
            position[i] = p
        return position

    def order_from(self, start: int) -> Sequence[int]:
        """The jobs reachable from ``start``, dependencies first (post-order)."""
        if start == len(self.names) - 1:
            return range(len(self.names))
        order = self._orders.get(start)
        if order is None:
            order = self._orders[start] = post_order(start, self.deps)
        return order

    def to_digraph(self) -> digraph:
        """A pygraph digraph with an edge from every job to each dependency."""
        from pygraph.classes.digraph import digraph  # on first use: most runs never draw

        graph = digraph()
        names = self.names
        for name in names:
            graph.add_node(name)
        for name, deps in zip(names, self.deps, strict=True):
            for dep in deps:
                graph.add_edge((name, names[dep]))
        return graph


class Deps(Sequence["array[int]"]):
    """A Plan's dependencies as a sequence: item ``i`` lists job ``i``'s."""

    __slots__ = ("_start", "_jobs")

    def __init__(self, start: array[int], jobs: array[int]):
        self._start = start
        self._jobs = jobs

    def __len__(self) -> int:
        return len(self._start) - 1

    @overload
    def __getitem__(self, i: int) -> array[int]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[array[int]]: ...
    def __getitem__(self, i: int | slice) -> array[int] | Sequence[array[int]]:
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("job index out of range")
        return self._jobs[self._start[i]:self._start[i + 1]]

    def __iter__(self) -> Iterator[array[int]]:
        jobs, start = self._jobs, self._start
        for i in range(len(start) - 1):
            yield jobs[start[i]:start[i + 1]]


class FlatDeps:
    """Every job's dependencies in two arrays, as a Plan keeps them (see
    Plan.dep_start)."""

    __slots__ = ("start", "jobs")

    def __init__(self, start: array[int], jobs: array[int]):
        self.start = start
        self.jobs = jobs


def flat_deps(deps: Sequence[Sequence[int]]) -> FlatDeps:
    """FlatDeps from one sequence of indices per job."""
    jobs = array("I")
    start = array("I", [0])
    for job_deps in deps:
        jobs.extend(iter(job_deps))  # an array of another type code too
        start.append(len(jobs))
    return FlatDeps(start, jobs)


def post_order(start: int, deps: Sequence[Sequence[int]]) -> list[int]:
    order: list[int] = []
    seen = {start}
    stack: list[tuple[int, Iterator[int]]] = [(start, iter(deps[start]))]
    while stack:
        node, pending = stack[-1]
        for dep in pending:
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, iter(deps[dep])))
                break
        else:
            stack.pop()
            order.append(node)
    return order
