"""The benchmark run: every shape and size, three contenders, the table and the targets."""

from __future__ import annotations

import argparse
import math
import platform
import sys
from dataclasses import dataclass, field
from typing import Any

from dojobber import DoJobber, Job

from . import graphs, measure, old
from .floor import floor

SIZES = (100, 400, 1_000, 2_000, 10_000, 20_000, 100_000)
QUICK_SIZES = (20, 100)
REPEAT = 3
#: Shapes where every job is checked once and passes: the floor does the
#: same work as a scheduler there, so "within 3x of the floor" applies.
ONE_TRY_SHAPES = ("layered", "chain", "fan-out", "diamonds")


@dataclass
class Row:
    """Every figure measured for one shape at one size."""

    shape: str
    size: int
    this: float
    floor: float
    this_statuses: dict[str, int]
    this_bytes: int | None = None
    floor_bytes: int | None = None
    old: old.OldResult = field(default_factory=old.OldResult)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    repeat = args.repeat or (1 if args.quick else REPEAT)
    say = _printer()
    say("DoJobber benchmarks: configure() + checknrun() on generated graphs.")
    say(f"This project and the floor: Python {platform.python_version()}, best of {repeat}.")
    say("floor = follow DEPS, order with graphlib, create each job and call Check once.")
    say("Memory is the peak tracemalloc sees during the run, per job.")
    python = None if args.no_old else old.venv_python(say)
    if python:
        say(f"DoJobber 0.6.2: its own environment, in a subprocess, stopped after {args.old_limit:.0f} s.")
    rows: list[Row] = []
    for shape in args.shapes:
        say("")
        say(f"{shape}: {graphs.SHAPES[shape]}")
        say(_HEADER)
        old_state = _OldState()
        for size in sizes:
            row = _measure(shape, size, repeat, memory=not args.no_memory)
            if python:
                row.old = old_state.run(python, shape, size, args.old_limit)
                _check_same_statuses(row, say)
            rows.append(row)
            say(_format_row(row))
        _say_scaling(rows, shape, say)
    return _say_targets(rows, say)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time DoJobber against DoJobber 0.6.2 and against the floor.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny graphs, one repeat (a smoke run)")
    parser.add_argument("--no-old", action="store_true", help="do not build or run DoJobber 0.6.2")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--sizes", type=int, nargs="+", metavar="N", help="graph sizes (jobs)")
    parser.add_argument("--shapes", nargs="+", choices=list(graphs.SHAPES), default=list(graphs.SHAPES))
    parser.add_argument("--repeat", type=int, metavar="N", help=f"best of N runs (default {REPEAT})")
    parser.add_argument(
        "--old-limit", type=float, default=60.0, metavar="SECONDS",
        help="stop a 0.6.2 run after this long; bigger graphs of that shape are skipped",
    )
    return parser.parse_args(argv)


def _printer() -> Any:
    def say(line: str) -> None:
        print(line, flush=True)
    return say


def _run_this(graph: graphs.Graph) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(graph.root, default_retry_delay=0)
    dojob.checknrun()
    return dojob


def _measure(shape: str, size: int, repeat: int, memory: bool) -> Row:
    graph = graphs.build(shape, size, Job)
    this, dojob = measure.best_time(lambda: _run_this(graph), graph.reset, repeat)
    expected = shape != "layered-failing"
    if dojob.success() is not expected or len(dojob.nodestatus) != size:
        raise AssertionError(f"{shape} {size}: unexpected run: {measure.status_counts(dojob.nodestatus)}")
    statuses = measure.status_counts(dojob.nodestatus)
    del dojob
    floor_time, _ = measure.best_time(lambda: floor(graph.root), graph.reset, repeat)
    row = Row(shape, size, this, floor_time, statuses)
    if memory:
        row.this_bytes = measure.peak_memory(lambda: _run_this(graph), graph.reset)
        row.floor_bytes = measure.peak_memory(lambda: floor(graph.root), graph.reset)
    return row


class _OldState:
    """Decides, per shape, whether 0.6.2 is worth running at the next size."""

    def __init__(self) -> None:
        self.measured: list[tuple[int, float]] = []
        self.stopped: str = ""

    def run(self, python: str, shape: str, size: int, limit: float) -> old.OldResult:
        if self.stopped:
            return old.OldResult(note=f"skipped: {self.stopped}")
        expected = self.predict(size)
        if expected > limit:
            return old.OldResult(note=f"skipped: ~{_duration(expected)} expected")
        result = old.run(python, shape, size, REPEAT, memory=expected < 1.0, limit=limit)
        if result.seconds is not None:
            self.measured.append((size, result.seconds))
        else:
            self.stopped = f"{result.note.split(':')[0]} at {size:,} jobs"
        return result

    def predict(self, size: int) -> float:
        """Extrapolate from the last two sizes (at least quadratic growth)."""
        if not self.measured:
            return 0.0
        last_size, last_time = self.measured[-1]
        power = 2.0
        if len(self.measured) > 1:
            size0, time0 = self.measured[-2]
            power = max(power, math.log(last_time / time0) / math.log(last_size / size0))
        return last_time * (size / last_size) ** power


def _check_same_statuses(row: Row, say: Any) -> None:
    theirs = row.old.statuses
    ours = row.this_statuses
    if theirs is not None and theirs != ours:
        say(f"  !! statuses differ from 0.6.2: this {ours}, 0.6.2 {theirs}")


_HEADER = (
    f"{'jobs':>9} {'0.6.2':>10} {'this':>10} {'floor':>10} {'0.6.2/this':>11} {'this/floor':>11}"
    f" {'B/job this':>11} {'B/job floor':>12} {'mem/floor':>10}"
)


def _format_row(row: Row) -> str:
    old_time = _duration(row.old.seconds) if row.old.seconds is not None else "-"
    speedup = f"{row.old.seconds / row.this:,.0f}x" if row.old.seconds is not None else "-"
    line = (
        f"{row.size:>9,} {old_time:>10} {_duration(row.this):>10} {_duration(row.floor):>10}"
        f" {speedup:>11} {row.this / row.floor:>10.2f}x"
    )
    if row.this_bytes is not None and row.floor_bytes is not None:
        line += (
            f" {row.this_bytes / row.size:>11,.0f} {row.floor_bytes / row.size:>12,.0f}"
            f" {row.this_bytes / row.floor_bytes:>9.2f}x"
        )
    if row.old.note:
        line += f"   0.6.2 {row.old.note}"
    return line


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} us"


def _say_scaling(rows: list[Row], shape: str, say: Any) -> None:
    by_size = {row.size: row for row in rows if row.shape == shape}
    if 10_000 in by_size and 100_000 in by_size:
        small, big = by_size[10_000], by_size[100_000]
        say(
            f"{'':9} time at 100k / time at 10k: this {big.this / small.this:.1f},"
            f" floor {big.floor / small.floor:.1f}"
        )


def _say_targets(rows: list[Row], say: Any) -> int:
    """Print each target with the figure measured for it; 1 if one is missed."""
    found = {(row.shape, row.size): row for row in rows}
    verdicts: list[bool] = []

    def report(goal: str, figure: str | None, holds: bool) -> None:
        if figure is None:
            say(f"  {goal}: not measured in this run")
            return
        verdicts.append(holds)
        say(f"  {goal}: {figure}  {'ok' if holds else 'MISSED'}")

    say("")
    say("Targets")
    for shape, size, goal in (("layered-failing", 400, 200), ("layered", 2_000, 30)):
        row = found.get((shape, size))
        ratio = row.old.seconds / row.this if row and row.old.seconds else None
        report(
            f">= {goal}x faster than 0.6.2, {shape} {size:,} jobs",
            None if ratio is None else f"{ratio:,.0f}x",
            ratio is not None and ratio >= goal,
        )
    for size in (20_000, 100_000):
        worst = _worst(found, ONE_TRY_SHAPES, size, lambda r: r.this / r.floor)
        report(
            f"<= 3x the floor at {size:,} jobs (worst of {', '.join(ONE_TRY_SHAPES)})",
            None if worst is None else f"{worst[0]:.2f}x ({worst[1]})",
            worst is not None and worst[0] <= 3,
        )
    growth = _worst(
        found, graphs.SHAPES, 100_000,
        lambda r: r.this / found[(r.shape, 10_000)].this if (r.shape, 10_000) in found else None,
    )
    report(
        "time at 100k / time at 10k <= 12 (worst shape)",
        None if growth is None else f"{growth[0]:.1f} ({growth[1]})",
        growth is not None and growth[0] <= 12,
    )
    for size in (20_000, 100_000):
        memory = _worst(
            found, graphs.SHAPES, size,
            lambda r: r.this_bytes / r.floor_bytes if r.this_bytes and r.floor_bytes else None,
        )
        report(
            f"memory per job <= 2x the floor's at {size:,} jobs (worst shape)",
            None if memory is None else f"{memory[0]:.2f}x ({memory[1]})",
            memory is not None and memory[0] <= 2,
        )
    if not verdicts:
        say("No target measured: run without --quick/--sizes for the full suite.")
        return 0
    missed = verdicts.count(False)
    say("All measured targets hold." if not missed else f"{missed} target(s) missed.")
    return 1 if missed else 0


def _worst(found: dict[tuple[str, int], Row], shapes: Any, size: int, figure: Any) -> tuple[float, str] | None:
    values = []
    for shape in shapes:
        row = found.get((shape, size))
        value = figure(row) if row else None
        if value is not None:
            values.append((value, shape))
    return max(values) if values else None


if __name__ == "__main__":
    sys.exit(main())
