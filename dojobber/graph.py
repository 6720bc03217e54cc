"""Graph building: follow DEPS from the root, validate every job, make a Plan."""

from __future__ import annotations

import logging
import math
import numbers
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, cast

from pygraph.classes.digraph import digraph

from .errors import (
    ConfigurationError,
    DependencyCycleError,
    DuplicateJobNameError,
    JobTypeError,
)
from .jobs import Job

log = logging.getLogger("DoJobber")


@dataclass
class Plan:
    """The validated job graph as flat lists, indexed in the root's run order.

    Index ``i`` is the ``i``-th job of the root's depth-first post-order, so
    ``range(len(names))`` is already the order of a run from the root, and
    every job's dependencies have smaller indices.
    """

    names: list[str]
    classes: list[type[Job]]
    deps: list[tuple[int, ...]]
    tries: list[int]
    delays: list[float]
    index: dict[str, int]
    _orders: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.names)

    def order_from(self, start: int) -> list[int]:
        """The jobs reachable from ``start``, dependencies first (post-order)."""
        if start == len(self.names) - 1:
            return list(range(len(self.names)))
        order = self._orders.get(start)
        if order is None:
            order = self._orders[start] = _post_order(start, self.deps)
        return order

    def to_digraph(self) -> digraph:
        """A pygraph digraph with an edge from every job to each dependency."""
        graph = digraph()
        names = self.names
        for name in names:
            graph.add_node(name)
        for name, deps in zip(names, self.deps, strict=True):
            for dep in deps:
                graph.add_edge((name, names[dep]))
        return graph


def _post_order(start: int, deps: list[tuple[int, ...]]) -> list[int]:
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


def check_tries(value: Any, job: str | None, what: str = "TRIES") -> int:
    """Validate a TRIES value and return the budget it allows (rounded up)."""
    where = f"{what} of job {job!r}" if job else what
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise JobTypeError(f"{where} must be a number >= 1, got {value!r}", job, value)
    # Compared, not converted: float() of a huge int would overflow.
    number = cast(float, value)
    if not (1 <= number < math.inf):
        raise ConfigurationError(
            f"{where} must be a finite number >= 1, got {value!r}", job, value
        )
    return math.ceil(number)


def check_delay(value: Any, job: str | None, what: str = "RETRY_DELAY") -> float:
    """Validate a RETRY_DELAY value (seconds) and return it as a float."""
    where = f"{what} of job {job!r}" if job else what
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise JobTypeError(
            f"{where} must be a number of seconds >= 0, got {value!r}", job, value
        )
    number = cast(float, value)
    if not (0 <= number < math.inf):
        raise ConfigurationError(
            f"{where} must be a finite number of seconds >= 0, got {value!r}",
            job,
            value,
        )
    # A longer wait cannot be slept (time.sleep raises OverflowError mid-run).
    if number > threading.TIMEOUT_MAX:
        raise ConfigurationError(
            f"{where} must be at most {threading.TIMEOUT_MAX:g} seconds, got {value!r}",
            job,
            value,
        )
    return float(number)


def _is_job_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Job)


def _read_deps(cls: type[Job], name: str) -> list[type[Job]]:
    """The job's DEPS as a list of distinct Job classes, in declaration order."""
    value = getattr(cls, "DEPS", ())
    if isinstance(value, str):
        # Iterating would complain about its first letter, which misleads.
        raise JobTypeError(
            f"DEPS of job {name!r} is the string {value!r}; list Job classes, not names",
            name,
            value,
        )
    try:
        entries = list(value)
    except TypeError:
        message = f'DEPS for {name} is not iterable; is "{value}"'
        log.critical(message)
        raise JobTypeError(message, name, value) from None
    for entry in entries:
        if not _is_job_class(entry):
            raise JobTypeError(
                f"DEPS of job {name!r} lists {entry!r}, which is not a Job class",
                name,
                entry,
            )
    return list(dict.fromkeys(entries))


def build_plan(root: Any, default_tries: int, default_delay: float) -> Plan:
    """Discover every job reachable from ``root`` and validate it.

    Walks DEPS depth-first without recursion, so graph depth is unlimited.
    Raises a ConfigurationError subclass naming the job and the bad value.
    """
    if not _is_job_class(root):
        raise JobTypeError(f"root must be a Job class, got {root!r}", None, root)
    debug = log.isEnabledFor(logging.DEBUG)

    names: list[str] = []
    classes: list[type[Job]] = []
    deps: list[tuple[int, ...]] = []
    tries: list[int] = []
    delays: list[float] = []
    done: dict[type[Job], int] = {}  # class -> index, once all its DEPS are done
    by_name: dict[str, type[Job]] = {}
    on_stack: dict[type[Job], int] = {}  # class -> position in the stack
    stack: list[tuple[type[Job], list[type[Job]], Iterator[type[Job]]]] = []

    def enter(cls: type[Job]) -> tuple[type[Job], list[type[Job]], Iterator[type[Job]]]:
        name = cls.__name__
        other = by_name.setdefault(name, cls)
        if other is not cls:
            raise DuplicateJobNameError(
                f"two different job classes are named {name!r}: {other!r} and {cls!r}",
                name,
                (other, cls),
            )
        if debug:
            log.debug("Adding job %s", name)
        cls_deps = _read_deps(cls, name)
        on_stack[cls] = len(stack)
        return cls, cls_deps, iter(cls_deps)

    stack.append(enter(root))
    while stack:
        cls, cls_deps, pending = stack[-1]
        for dep in pending:
            if dep in done:
                continue
            if dep in on_stack:
                cycle = [c.__name__ for c, _, _ in stack[on_stack[dep]:]]
                raise DependencyCycleError(cycle + [dep.__name__])
            stack.append(enter(dep))
            break
        else:
            stack.pop()
            del on_stack[cls]
            name = cls.__name__
            if debug:
                for dep in cls_deps:
                    log.debug("Adding dependency %s -> %s", name, dep.__name__)
            job_tries = cls.TRIES
            job_delay = cls.RETRY_DELAY
            done[cls] = len(names)
            names.append(name)
            classes.append(cls)
            deps.append(tuple(done[dep] for dep in cls_deps))
            tries.append(
                default_tries if job_tries is None else check_tries(job_tries, name)
            )
            delays.append(
                default_delay if job_delay is None else check_delay(job_delay, name)
            )
    return Plan(names, classes, deps, tries, delays, {n: i for i, n in enumerate(names)})
