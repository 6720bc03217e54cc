"""The floor: the least any scheduler must do to check every job of a graph once.

Discover the graph by following DEPS, order it with graphlib, then create
each job and call its Check. No statuses, retries, events or results.
"""

from __future__ import annotations

import graphlib
from typing import Any


def floor(root: type, *args: Any, **kwargs: Any) -> graphlib.TopologicalSorter[type]:
    """Create every job reachable from ``root`` and call its Check, deps first.

    Returns the sorter, which holds the graph, for the caller to drop.
    """
    deps: dict[Any, tuple[Any, ...]] = {}
    stack: list[Any] = [root]
    while stack:
        cls = stack.pop()
        if cls not in deps:
            deps[cls] = cls_deps = tuple(cls.DEPS)
            stack.extend(cls_deps)
    sorter = graphlib.TopologicalSorter(deps)
    for cls in sorter.static_order():
        try:
            cls().Check(*args, **kwargs)
        except Exception:
            pass
    return sorter
