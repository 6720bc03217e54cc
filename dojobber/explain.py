"""Which part of a run's graph explains its outcome, for a page that cannot draw the whole."""

from __future__ import annotations

from collections import deque
from typing import Iterable, Mapping, Sequence

#: The outcomes that need no explaining; every other one does (failed,
#: blocked, interrupted, and whatever outcome a later version adds).
PASSING = frozenset({"passed", "passed_after_run"})
#: The outcome of a job that was never tried because of another.
BLOCKED = "blocked"


def explaining(
    outcomes: Mapping[str, str],
    deps: Mapping[str, Sequence[str]],
    root: str,
    limit: int,
) -> list[str]:
    """The jobs that explain how a run ended, at most ``limit`` of them, in
    the order they were chosen.

    ``outcomes`` maps each job's name to its outcome's value (``"failed"``...),
    ``deps`` each job to its dependencies. Chosen, while there is room: the
    root; each job that did not pass and was not blocked (failed,
    interrupted), in the order of ``outcomes``, together with its shortest
    way up to the root (when the way does not fit, the job alone, after the
    others); the blocked jobs, nearest the root first; then the jobs that
    the failed and interrupted ones chosen so far depend on directly, and
    those of the blocked ones' dependencies that did not pass (what blocked
    them). Empty when every job passed.
    """
    needing = [name for name, outcome in outcomes.items() if outcome not in PASSING]
    if not needing or limit <= 0:
        return []
    order, parent = _walk(deps, root)
    chosen: dict[str, None] = {}  # a set that keeps the order of choosing

    def take(names: Iterable[str]) -> None:
        for name in names:
            if len(chosen) >= limit:
                return
            chosen.setdefault(name)

    take([root])
    causes = [name for name in needing if outcomes[name] != BLOCKED]
    alone = []
    for cause in causes:
        way = [step for step in _way_up(cause, parent) if step not in chosen]
        if len(chosen) + len(way) <= limit:
            take(way)
        else:
            alone.append(cause)
    take(alone)
    # Nearest the root first: each one's way up is then drawn before it.
    rank = {name: number for number, name in enumerate(order)}
    unreached = len(rank)
    take(sorted((name for name in needing if outcomes[name] == BLOCKED),
                key=lambda name: rank.get(name, unreached)))
    # A blocked job's dependencies that passed explain nothing, and the
    # root of a big run may depend on every job: drawing them all took
    # Graphviz a minute for a 2,000-job run (500 jobs, one holding 499 edges).
    take([dep for name in list(chosen) if (outcome := outcomes.get(name)) not in PASSING
          for dep in deps.get(name, ())
          if outcome != BLOCKED or outcomes.get(dep) not in PASSING])
    return list(chosen)


def _walk(deps: Mapping[str, Sequence[str]], root: str) -> tuple[list[str], dict[str, str]]:
    """Breadth first down from ``root``: the jobs in the order reached, and
    for each the job through which it was first reached."""
    order = [root]
    parent: dict[str, str] = {}
    queue = deque([root])
    seen = {root}
    while queue:
        job = queue.popleft()
        for dep in deps.get(job, ()):
            if dep not in seen:
                seen.add(dep)
                parent[dep] = job
                order.append(dep)
                queue.append(dep)
    return order, parent


def _way_up(job: str, parent: Mapping[str, str]) -> list[str]:
    """``job`` and the jobs on its shortest way up to the root, in that order."""
    way = [job]
    while way[-1] in parent:
        way.append(parent[way[-1]])
    return way
