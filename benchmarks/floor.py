"""The floor: the least any scheduler must do to check every job of a graph once.

Discover the graph by following DEPS, order it with graphlib, then create
each job and call its Check. No statuses, retries, events or results.
"""

from __future__ import annotations

import graphlib
from typing import Any


def floor(root: type, *args: Any, **kwargs: Any) -> None:
    """Create every job reachable from ``root`` and call its Check, deps first."""
    deps: dict[type, tuple[type, ...]] = {}
    stack = [root]
    while stack:
        cls = stack.pop()
        if cls not in deps:
            deps[cls] = cls_deps = tuple(cls.DEPS)
            stack.extend(cls_deps)
    for cls in graphlib.TopologicalSorter(deps).static_order():
        try:
            cls().Check(*args, **kwargs)
        except Exception:
            pass
