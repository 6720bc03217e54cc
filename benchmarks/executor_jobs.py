"""Jobs for benchmarks/bench_executor.py, importable by worker processes."""

from __future__ import annotations

from typing import Any

from dojobber import Job


class Burn(Job):
    """Passes after burning ``loops`` iterations of pure Python in Check."""

    def Check(self, *args: Any, loops: int = 0, **kwargs: Any) -> int:
        total = 0
        for k in range(loops):
            total += k * k % 7
        return total


#: Independent jobs for one graph; the root lists them as its DEPS.
BURNS = [type(f"Burn{k}", (Burn,), {"__module__": __name__}) for k in range(600)]
for _cls in BURNS:
    globals()[_cls.__name__] = _cls


class Root(Job):
    """The root of a benchmark graph (DEPS set by the benchmark)."""

    def Check(self, *args: Any, **kwargs: Any) -> None:
        pass


def nothing(k: int) -> int:
    """The raw side of bench_overhead.py: a plain function, one call per try."""
    return k

