"""The benchmark run: every shape and size, three contenders, the tables and the targets."""

from __future__ import annotations

import argparse
import math
import os
import platform
from dataclasses import dataclass, field
from typing import Callable, Iterable

from dojobber import DoJobber, Job

from . import graphs, measure, old, startup
from .floor import floor

SIZES = (100, 400, 1_000, 2_000, 10_000, 20_000, 100_000)
QUICK_SIZES = (20, 100)
REPEAT = 10
WINDOW = 2.0  # seconds over which each size is timed, at least
#: Shapes where each job is tried once and passes: there the floor does the
#: same work as any scheduler, so "within 3x of the floor" applies to them.
ONE_TRY_SHAPES = ("layered", "chain", "fan-out", "diamonds")
#: Shapes whose every job class sets TRIES (and RETRY_DELAY) in its own body:
#: they must cost about what plain jobs do.
SETTINGS_SHAPES = tuple(graphs.OWN_SETTINGS)

Say = Callable[[str], None]


@dataclass
class Row:
    """Every figure measured for one shape at one size."""

    shape: str
    size: int
    this: float  # seconds, configure() + checknrun()
    floor: float  # seconds
    statuses: dict[str, int]  # this project's passed/failed/untried counts
    this_nogc: float = math.nan  # seconds, with the garbage collector off for both
    floor_nogc: float = math.nan
    this_bytes: int | None = None  # peak memory of one run
    floor_bytes: int | None = None
    this_kept: int | None = None  # memory still held after the run
    floor_kept: int | None = None
    old: old.OldResult = field(default_factory=old.OldResult)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; the exit status is 1 when a measured target is missed."""
    args = _parse(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    repeat = args.repeat or (1 if args.quick else REPEAT)
    window = 0.0 if args.quick else WINDOW
    say: Say = _say
    say("DoJobber benchmarks: configure() + checknrun() on generated graphs.")
    say(
        f"This project and the floor: Python {platform.python_version()} in this process,"
        f" taking turns, best of {repeat} or more runs over {window:g}s or more,"
        f" on {os.cpu_count()} CPUs"
        f" ({platform.machine()})."
    )
    say("floor: follow DEPS, order with graphlib, create each job and call its Check once.")
    say("B/job: the peak memory tracemalloc sees during one run, per job.")
    python = None if args.no_old else old.venv_python(say)
    if python:
        say(
            "0.6.2: DoJobber 0.6.2 in its own environment, in a subprocess,"
            f" stopped after {args.old_limit:.0f}s."
        )
    rows: list[Row] = []
    for shape in args.shapes:
        say("")
        say(f"{shape}: {graphs.SHAPES[shape]}")
        say(HEADER)
        old_runs = _OldRuns(python, shape, args.old_limit)
        for size in sizes:
            row = _measure(shape, size, repeat, window, memory=not args.no_memory)
            row.old = old_runs.run(size)
            if row.old.statuses not in (None, row.statuses):
                say(f"  !! statuses differ: this {row.statuses}, 0.6.2 {row.old.statuses}")
            rows.append(row)
            say(format_row(row))
        _say_scaling([row for row in rows if row.shape == shape], say)
    started = None
    if not (args.quick or args.sizes or args.no_startup):
        started = startup.measure()
        say("")
        say(
            "Start-up, best of 20 runs: bare interpreter"
            f" {duration(started.bare)}, import dojobber {duration(started.imported)}"
            f" (+{duration(started.import_cost)}), dojobber --help {duration(started.help)}"
            f" ({started.help / started.bare:.2f}x bare)"
        )
    return _say_targets({(row.shape, row.size): row for row in rows}, started, say)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time DoJobber side by side with DoJobber 0.6.2 and with the floor.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="graphs of 20 and 100 jobs, one run each"
    )
    parser.add_argument(
        "--no-old", action="store_true", help="do not build or run DoJobber 0.6.2"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument(
        "--no-startup", action="store_true", help="skip timing import dojobber and --help"
    )
    parser.add_argument("--sizes", type=int, nargs="+", metavar="N", help="graph sizes")
    parser.add_argument(
        "--shapes", nargs="+", choices=list(graphs.SHAPES), default=list(graphs.SHAPES)
    )
    parser.add_argument(
        "--repeat", type=int, metavar="N", help=f"best of N runs (default {REPEAT})"
    )
    parser.add_argument(
        "--old-limit",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="stop a 0.6.2 run after this long, and skip its bigger graphs (default 60)",
    )
    return parser.parse_args(argv)


def _say(line: str) -> None:
    print(line, flush=True)


def _run_this(graph: graphs.Graph) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(graph.root, default_retry_delay=0)
    dojob.checknrun()
    return dojob


def _measure(shape: str, size: int, repeat: int, window: float, memory: bool) -> Row:
    graph = graphs.build(shape, size, Job)
    graph.reset()
    dojob = _run_this(graph)
    statuses = measure.status_counts(dojob.nodestatus)
    should_pass = shape != "layered-failing"
    if dojob.success() is not should_pass or len(dojob.nodestatus) != size:
        raise AssertionError(f"{shape}, {size} jobs: unexpected statuses {statuses}")
    del dojob
    runs = [lambda: _run_this(graph), lambda: floor(graph.root)]
    this, floor_time = measure.best_times(runs, graph.reset, repeat, window)
    row = Row(shape, size, this, floor_time, statuses)
    row.this_nogc, row.floor_nogc = measure.best_times(
        runs, graph.reset, repeat, window, collector=False
    )
    if memory:
        row.this_bytes, row.floor_bytes = (measure.peak_memory(run, graph.reset) for run in runs)
        row.this_kept, row.floor_kept = (measure.kept_memory(run, graph.reset) for run in runs)
    return row


class _OldRuns:
    """Runs 0.6.2 on one shape, size after size, while it can finish in time.

    A size is skipped when extrapolating the last two sizes (at least
    quadratically) says it would take longer than the limit, and so is every
    size after one that failed or was stopped.
    """

    def __init__(self, python: str | None, shape: str, limit: float):
        self.python = python
        self.shape = shape
        self.limit = limit
        self.measured: list[tuple[int, float]] = []
        self.given_up = ""

    def run(self, size: int) -> old.OldResult:
        if self.python is None:
            return old.OldResult()
        if self.given_up:
            return old.OldResult(note=f"skipped: {self.given_up}")
        expected = self.predict(size)
        if expected > self.limit:
            return old.OldResult(note=f"skipped: ~{duration(expected)} expected")
        result = old.run(self.python, self.shape, size, REPEAT, self.limit)
        if result.seconds is None:
            self.given_up = f"{result.note.split(':')[0]} at {size:,} jobs"
        else:
            self.measured.append((size, result.seconds))
        return result

    def predict(self, size: int) -> float:
        if not self.measured:
            return 0.0
        last_size, last_time = self.measured[-1]
        power = 2.0
        if len(self.measured) > 1:
            size0, time0 = self.measured[-2]
            power = max(power, math.log(last_time / time0) / math.log(last_size / size0))
        return float(last_time * (size / last_size) ** power)


HEADER = (
    f"{'jobs':>9} {'0.6.2':>9} {'this':>9} {'floor':>9} {'0.6.2/this':>11}"
    f" {'this/floor':>11} {'no-GC/floor':>12} {'B/job this':>11} {'B/job floor':>12}"
    f" {'mem/floor':>10} {'kept/floor':>11}"
)


def format_row(row: Row) -> str:
    """One line of a shape's table, under HEADER."""
    old_seconds = row.old.seconds
    line = (
        f"{row.size:>9,} {'-' if old_seconds is None else duration(old_seconds):>9}"
        f" {duration(row.this):>9} {duration(row.floor):>9}"
        f" {'-' if old_seconds is None else f'{old_seconds / row.this:,.0f}x':>11}"
        f" {row.this / row.floor:>10.2f}x {row.this_nogc / row.floor_nogc:>11.2f}x"
    )
    if row.this_bytes is not None and row.floor_bytes is not None:
        line += (
            f" {row.this_bytes / row.size:>11,.0f} {row.floor_bytes / row.size:>12,.0f}"
            f" {row.this_bytes / row.floor_bytes:>9.2f}x"
        )
    if row.this_kept is not None and row.floor_kept:
        line += f" {row.this_kept / row.floor_kept:>10.2f}x"
    if row.old.note:
        line += f"   0.6.2 {row.old.note}"
    return line


def duration(seconds: float) -> str:
    """``1.23s``, ``45.60ms`` or ``789us``."""
    if seconds >= 1:
        return f"{seconds:.2f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f}ms"
    return f"{seconds * 1e6:.0f}us"


def _say_scaling(rows: list[Row], say: Say) -> None:
    by_size = {row.size: row for row in rows}
    if 10_000 in by_size and 100_000 in by_size:
        small, big = by_size[10_000], by_size[100_000]
        say(
            f"{'':9} time at 100k / time at 10k, GC off: this"
            f" {big.this_nogc / small.this_nogc:.1f}, floor"
            f" {big.floor_nogc / small.floor_nogc:.1f}; GC on: this"
            f" {big.this / small.this:.1f}, floor {big.floor / small.floor:.1f}"
        )


Found = dict[tuple[str, int], Row]


def _say_targets(found: Found, started: startup.Startup | None, say: Say) -> int:
    """Print each target with the figure measured for it; 1 if one is missed."""
    verdicts: list[bool] = []

    def target(goal: str, figures: list[tuple[float, str]], limit: float, unit: str) -> None:
        if not figures:
            say(f"  {goal}: not measured in this run")
            return
        value, shape = figures[0]
        holds = value <= limit if unit != "x faster" else value >= limit
        verdicts.append(holds)
        figure = f"{value:,.0f}x" if unit == "x faster" else f"{value:.2f}{unit}"
        also = [f"{other} {v:.2f}{unit}" for v, other in figures[1:] if v > limit]
        shapes = "; ".join([shape, *(["also over: " + ", ".join(also)] if also else [])])
        say(f"  {goal}: {figure} ({shapes})  {'ok' if holds else 'MISSED'}")

    say("")
    say("Targets")
    for shape, size, goal in (("layered-failing", 400, 200), ("layered", 2_000, 30)):
        target(
            f">= {goal}x faster than 0.6.2, {shape} at {size:,} jobs",
            _worst(found, [shape], size, _speedup),
            goal,
            "x faster",
        )
    for size in (20_000, 100_000):
        target(
            f"<= 3x the floor's time at {size:,} jobs, worst of {', '.join(ONE_TRY_SHAPES)}",
            _worst(found, ONE_TRY_SHAPES, size, lambda row: row.this / row.floor),
            3,
            "x",
        )
    for size in (1_000, 10_000, 100_000):
        target(
            f"<= 1.5x the floor's time with the GC off for both, layered at {size:,} jobs",
            _worst(found, ["layered"], size, lambda row: row.this_nogc / row.floor_nogc),
            1.5,
            "x",
        )
    for size in (1_000, 10_000, 100_000):
        target(
            f"<= 1.5x the floor's time with the GC off for both at {size:,} jobs,"
            f" worst of {', '.join(SETTINGS_SHAPES)}",
            _worst(found, SETTINGS_SHAPES, size, lambda row: row.this_nogc / row.floor_nogc),
            1.5,
            "x",
        )
    target(
        "time at 100k / time at 10k with the GC off <= 11, worst shape",
        _worst(found, graphs.SHAPES, 100_000, lambda row: _growth(found, row)),
        11,
        "",
    )
    for size in (20_000, 100_000):
        target(
            f"<= 2x the floor's memory per job at {size:,} jobs, worst shape",
            _worst(found, graphs.SHAPES, size, _memory_ratio),
            2,
            "x",
        )
    for size in (10_000, 100_000):
        target(
            f"<= 1.2x the floor's memory kept after a run at {size:,} jobs, layered",
            _worst(found, ["layered"], size, _kept_ratio),
            1.2,
            "x",
        )
    if started is not None:
        target("import dojobber <= 25 ms over a bare interpreter",
               [(started.import_cost * 1e3, "import")], 25, " ms")
        target("dojobber --help <= 3x a bare interpreter",
               [(started.help / started.bare, "--help")], 3, "x")
    if not verdicts:
        say("No target measured: run without --quick/--sizes for the full suite.")
        return 0
    missed = verdicts.count(False)
    say("All targets hold." if not missed else f"{missed} target(s) missed.")
    return 1 if missed else 0


def _speedup(row: Row) -> float | None:
    return None if row.old.seconds is None else row.old.seconds / row.this


def _growth(found: Found, row: Row) -> float | None:
    # GC-neutral, like the ratios to the floor: with the collector on, the
    # big run pays for full collections through the graph's own classes.
    small = found.get((row.shape, 10_000))
    return None if small is None else row.this_nogc / small.this_nogc


def _memory_ratio(row: Row) -> float | None:
    if row.this_bytes is None or row.floor_bytes is None:
        return None
    return row.this_bytes / row.floor_bytes


def _kept_ratio(row: Row) -> float | None:
    if row.this_kept is None or not row.floor_kept:
        return None
    return row.this_kept / row.floor_kept


def _worst(
    found: Found, shapes: Iterable[str], size: int, figure: Callable[[Row], float | None]
) -> list[tuple[float, str]]:
    """The figure of each of ``shapes`` at ``size``, largest first."""
    values = []
    for shape in shapes:
        row = found.get((shape, size))
        value = None if row is None else figure(row)
        if value is not None:
            values.append((value, shape))
    return sorted(values, reverse=True)
