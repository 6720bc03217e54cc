"""Shared helpers for the test suite: quick job factories, a fake clock,
executors for the tests that run on them, and the release (sdist and wheel)
built once from a copy of the source tree."""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from dojobber import Job

TESTS = Path(__file__).resolve().parent
#: The source tree these tests belong to (a clone, or an unpacked sdist).
SOURCE_ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


def make_job(
    name: str,
    deps: tuple[type[Job], ...] = (),
    check: Callable[[Job], Any] | None = None,
    run: Callable[[Job], Any] | None = None,
    base: type[Job] = Job,
    **attrs: Any,
) -> type[Job]:
    """A Job class named ``name``; ``check``/``run`` get the job instance.

    By default Check passes and Run does nothing.
    """

    def Check(self: Job, *args: Any, **kwargs: Any) -> Any:
        return check(self) if check else None

    def Run(self: Job, *args: Any, **kwargs: Any) -> Any:
        return run(self) if run else None

    body: dict[str, Any] = {"DEPS": deps, "Check": Check, "Run": Run}
    body.update(attrs)
    return type(name, (base,), body)


class FakeClock:
    """A clock whose sleep() advances time instantly; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pool_context() -> Any:
    """The start method for process pools in tests: not "fork", since the
    caller has threads (the engine's) when the pool starts its processes,
    and forking a threaded process is unsafe."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@pytest.fixture(scope="module")
def process_pool() -> Iterator[ProcessPoolExecutor]:
    """A 2-process pool, one per test module."""
    with ProcessPoolExecutor(2, mp_context=pool_context()) as pool:
        yield pool


@pytest.fixture(scope="module")
def thread_pool() -> Iterator[ThreadPoolExecutor]:
    """A 2-thread pool, one per test module."""
    with ThreadPoolExecutor(2) as pool:
        yield pool


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@contextmanager
def application_logs_nowhere() -> Iterator[None]:
    """As in a script that configured no logging: the root logger has no
    handler (pytest's own capture handlers are set aside meanwhile), so
    DoJobber prints its developer log lines on stderr itself."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        yield
    finally:
        root.handlers[:] = saved


# --- The release --------------------------------------------------------------


def left_out_of_copies(source: Path, directory: Path, name: str) -> bool:
    """Whether ``directory/name`` is not source: hidden entries (.git, .venv,
    caches), __pycache__, *.egg-info, docs' _build, what the examples make when
    run without a target (*-demo), and the top-level build/ and dist/."""
    return (
        name.startswith(".") or name.endswith(".egg-info") or name.endswith("-demo")
        or name in ("__pycache__", "_build")
        or (directory == source and name in ("build", "dist"))
    )


def copy_source(source: Path, into: Path) -> None:
    """Copy the source tree without what is not source (building writes
    build/ and *.egg-info into the tree it builds, so builds use a copy)."""

    def left_out(directory: str, names: list[str]) -> set[str]:
        return {name for name in names if left_out_of_copies(source, Path(directory), name)}

    shutil.copytree(source, into, symlinks=True, ignore=left_out)


#: What a developer's tree holds besides its source, after tests, a docs
#: build, the benchmarks and the examples: none of it may reach the sdist.
LIVED_IN = (
    ".venv/pyvenv.cfg",
    "docs/_build/html/index.html",
    "tests/__pycache__/conftest.cpython-311.pyc",
    "dojobber/__pycache__/jobs.cpython-311.pyc",
    "tests/.hypothesis/examples/0a1b/2c3d",
    "benchmarks/.cache/dojobber-0.6.2/pyvenv.cfg",
    "examples/hello-demo/notes/todo.txt",
)


@dataclass(frozen=True)
class Release:
    """What ``python -m build`` made: the sdist, the wheel built from it, and
    everything the build printed (stdout and stderr together)."""

    sdist: Path
    wheel: Path
    output: str


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The release built as it is published (``python -m build``: the sdist,
    then the wheel from the unpacked sdist), once per test session, from a
    copy of this tree with a developer's leftovers (``LIVED_IN``) added."""
    into = tmp_path_factory.mktemp("release")
    tree = into / "source"
    copy_source(SOURCE_ROOT, tree)
    for leftover in LIVED_IN:
        (tree / leftover).parent.mkdir(parents=True, exist_ok=True)
        (tree / leftover).write_text("not source\n")
    command = [sys.executable, "-m", "build", "--outdir", str(into / "dist"), str(tree)]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}"
    (sdist,) = (into / "dist").glob("dojobber-*.tar.gz")
    (wheel,) = (into / "dist").glob("dojobber-*.whl")
    return Release(sdist, wheel, done.stdout)
