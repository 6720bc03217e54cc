"""The benchmark suite (benchmarks/) runs and prints its table; no timing is checked."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dojobber import DoJobber, Job

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import graphs  # noqa: E402
from benchmarks.floor import floor  # noqa: E402


def python(*args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` at the top of the repository, output captured."""
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_benchmark_command_prints_a_row_per_shape_and_size():
    done = python("-m", "benchmarks", "--quick", "--no-old")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for shape, description in graphs.SHAPES.items():
        header = lines.index(f"{shape}: {description}")
        assert lines[header + 1].split() == [
            "jobs", "0.6.2", "this", "floor", "0.6.2/this", "this/floor", "no-GC/floor",
            "B/job", "this", "B/job", "floor", "mem/floor", "kept/floor",
        ]
        for row, size in zip(lines[header + 2:header + 4], ("20", "100"), strict=True):
            cells = row.split()
            assert cells[0] == size
            assert len(cells) == 11
            assert cells[1] == cells[4] == "-"  # 0.6.2 was not asked for
            assert cells[2].endswith("s") and cells[3].endswith("s")  # the times
            # the ratios: time, time with the GC off, peak memory, memory kept
            assert all(cells[k].endswith("x") for k in (5, 6, 9, 10))
    assert "Targets" in lines
    assert (
        "  >= 200x faster than 0.6.2, layered-failing at 400 jobs: not measured in this run"
        in lines
    )
    assert "  <= 1.5x the floor's time with the GC off for both, layered at 1,000 jobs:" \
        " not measured in this run" in lines
    assert "  <= 1.5x the floor's time with the GC off for both at 1,000 jobs, worst of" \
        " settings-tries, settings-tries-delay: not measured in this run" in lines
    assert not any(line.startswith("Start-up") for line in lines)  # not with --quick
    assert lines[-1] == "No target measured: run without --quick/--sizes for the full suite."


def is_git_checkout(directory: Path) -> bool:
    """True when ``directory`` is the top of a git repository with a commit and the
    git program is here: not so for an unpacked source archive, even one unpacked
    inside some other repository."""
    if shutil.which("git") is None:
        return False
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--show-toplevel", "HEAD"],
                          cwd=directory, capture_output=True, text=True, check=False)
    top = done.stdout.splitlines()[:1]
    return done.returncode == 0 and top != [] and Path(top[0]).resolve() == directory.resolve()


def test_the_timeout_benchmark_prints_its_ratios():
    if not is_git_checkout(ROOT):
        pytest.skip("not a git checkout (or no git program): bench_timeouts.py compares "
                    "this tree with a git revision")
    done = python("benchmarks/bench_timeouts.py", "--quick", "--against", "HEAD")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith("1. No TIMEOUT anywhere, 300 jobs, CPU time: this tree vs HEAD")
    cases = [line.split()[:2] for line in lines[2:6]]
    assert cases == [["layered", "workers=1:"], ["retry-heavy", "workers=1:"],
                     ["layered", "workers=4:"], ["retry-heavy", "workers=4:"]]
    assert all(line.split()[-2].endswith("x") for line in lines[2:6])
    assert lines[6].startswith("2. default_timeout=60 on every job, layered, 300 jobs")
    assert lines[7].startswith("   alarm way (main thread): ")
    assert lines[8].startswith("   thread way (workers=4): ")
    assert len(lines) == 9


def test_a_bad_option_is_refused():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--shapes", "square"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid choice: 'square'" in done.stderr


@pytest.mark.parametrize("shape", list(graphs.SHAPES))
def test_each_generated_graph_has_its_size_and_expected_outcome(shape):
    graph = graphs.build(shape, 120, Job)
    dojob = DoJobber()
    dojob.configure(graph.root, default_retry_delay=0)
    dojob.checknrun()
    report = dojob.report()
    assert len(dojob.nodestatus) == 120
    if shape == "layered-failing":
        failed = [job for job in report.jobs if job.outcome.value == "failed"]
        assert len(failed) == 2  # 2% of the 119 jobs under the root
        assert all(job.tries == 1 for job in failed)
        assert not dojob.success() and dojob.partial_success()
    else:
        assert dojob.success()
        tries = {job.tries for job in report.jobs if job.name != "Root"}
        assert tries == ({3} if shape == "retry-heavy" else {1})
    if shape in graphs.OWN_SETTINGS:
        # Each class sets them in its own body, as users write them.
        own = graphs.OWN_SETTINGS[shape]
        assert all(own.items() <= vars(cls).items() for cls in graph.root.DEPS)
        assert set(dojob.tries_allowed().values()) == {3}
        assert dojob._plan is not None
        assert set(dojob._plan.delays) == {own.get("RETRY_DELAY", 0)}


def test_the_floor_creates_and_checks_every_job_once_dependencies_first():
    made: list[str] = []

    class Counted(Job):
        def __init__(self):
            made.append(type(self).__name__)

    graph = graphs.build("diamonds", 50, Counted)
    floor(graph.root)
    assert sorted(made) == sorted({*made}) and len(made) == 50
    position = {name: k for k, name in enumerate(made)}
    for cls in graph.root.DEPS:
        assert all(position[dep.__name__] < position[cls.__name__] for dep in cls.DEPS)


def test_graphs_are_the_same_every_time():
    def shape_of(root):
        seen, stack = {}, [root]
        while stack:
            cls = stack.pop()
            if cls.__name__ not in seen:
                seen[cls.__name__] = [dep.__name__ for dep in cls.DEPS]
                stack.extend(cls.DEPS)
        return seen

    first = graphs.build("layered", 300, Job)
    again = graphs.build("layered", 300, Job)
    assert shape_of(first.root) == shape_of(again.root)


def test_start_up_is_timed_against_a_bare_interpreter():
    from benchmarks import startup

    measured = startup.measure(rounds=1)
    assert 0 < measured.bare < measured.help
    assert measured.import_cost == measured.imported - measured.bare


def test_the_overhead_benchmark_prints_raw_and_dojobber_side_by_side():
    done = python("benchmarks/bench_overhead.py", "--tries", "20", "--repeat", "1", "--no-dask")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split() == ["executor", "in", "flight", "raw", "DoJobber", "ratio"]
    rows = [line.split() for line in lines[2:4]]
    assert [row[:2] for row in rows] == [["ProcessPoolExecutor(2)", "2"],
                                         ["ProcessPoolExecutor(2)", "32"]]
    assert all(row[3] == row[5] == "us" and row[6].endswith("x") for row in rows)
    assert lines[4].startswith("target: DoJobber <= 1.5x raw everywhere: ")
    assert len(lines) == 5
