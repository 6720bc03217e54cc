"""Parallel runs (configure(workers=N)): same outcomes as sequential runs,
dependency order, tries, retry delays, cleanup, interrupts, whole lines."""

from __future__ import annotations

import io
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dojobber import (
    ConfigurationError,
    DoJobber,
    DummyJob,
    Job,
    JobTypeError,
    Observer,
    Outcome,
    RunonlyJob,
)

TESTS = Path(__file__).resolve().parent


class Recorder:
    """Thread-safe log of (monotonic ns, event, job)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[int, str, str]] = []

    def add(self, event: str, job: str) -> None:
        with self.lock:
            self.events.append((time.monotonic_ns(), event, job))

    def of(self, event: str) -> list[tuple[int, str, str]]:
        return [e for e in self.events if e[1] == event]


def run(root: type[Job], workers: int, *args: Any, node: Any = None,
        **options: Any) -> DoJobber:
    dojob = DoJobber()
    options.setdefault("default_retry_delay", 0)
    dojob.configure(root, workers=workers, **options)
    dojob.set_args(*args)
    dojob.checknrun(node)
    return dojob


def summary(dojob: DoJobber) -> tuple[Any, ...]:
    """Everything a user can read from a finished run, comparable by value."""
    colours = {name: sorted(dojob.graph.node_attributes(name))
               for name in dojob.nodestatus}
    errors = {name: (type(e).__name__, str(e))
              for name, e in dojob.nodeexceptions.items()}
    report = sorted((job.name, job.outcome, job.tries, job.error)
                    for job in dojob.report().jobs)
    return (dojob.nodestatus, dojob.noderesults, errors, colours,
            dojob.success(), dojob.partial_success(), report)


# Random DAGs of deterministic jobs ------------------------------------------

def random_graph(seed: int, size: int = 40) -> type[Job]:
    """A random DAG; each job's outcome depends only on its own try count.

    Every try sleeps a little (random, up to 2 ms) so that tries of
    different jobs really overlap in the worker threads.
    """
    rng = random.Random(seed)
    jobs: list[type[Job]] = []
    for k in range(size):
        name = f"J{seed}_{k}"
        deps = tuple(rng.sample(jobs, min(len(jobs), rng.randint(0, 3))))
        kind = rng.choice(
            ["pass", "run", "flaky", "flaky", "fail", "init", "runonly", "exit"])
        nap = rng.random() * 0.002
        attrs: dict[str, Any] = {"DEPS": deps, "TRIES": rng.randint(1, 3)}

        if kind == "runonly":
            def run_only(self: Job, *a: Any, _n: str = name, _s: float = nap, **kw: Any) -> str:
                time.sleep(_s)
                if a[0].get(_n):  # the set_args dict: which RunonlyJobs fail
                    raise OSError(f"{_n} Run failed")
                return f"{_n} ran"
            attrs["Run"] = run_only
            jobs.append(type(name, (RunonlyJob,), attrs))
            continue

        def check(self: Job, *a: Any, _n: str = name, _k: str = kind,
                  _s: float = nap, _f: int = rng.randint(1, 2), **kw: Any) -> str:
            time.sleep(_s)
            gs = self.global_storage
            if self._check_phase == "check":
                gs[_n] = gs.get(_n, 0) + 1
            if _k == "fail":
                raise ValueError(f"{_n} always fails ({self._check_phase})")
            if _k in ("run", "exit") and not self.storage.get("ran"):
                raise RuntimeError(f"{_n} needs a Run")
            if _k == "flaky" and gs[_n] <= _f:
                raise RuntimeError(f"{_n} try {gs[_n]} of {_f} failing")
            return f"{_n} ok after {gs[_n]} tries"

        def run_(self: Job, *a: Any, _k: str = kind, **kw: Any) -> None:
            self.storage["ran"] = True
            if _k == "exit":
                sys.exit(f"{type(self).__name__} exits")  # ignored, as in sequential runs

        attrs.update(Check=check, Run=run_)
        if kind == "init":
            def init(self: Job, _n: str = name) -> None:
                raise LookupError(f"{_n} cannot be created")
            attrs["__init__"] = init
        jobs.append(type(name, (Job,), attrs))
    return type(f"Root{seed}", (DummyJob,), {"DEPS": tuple(jobs)})


@pytest.mark.parametrize("seed", range(8))
def test_random_dags_give_the_same_results_with_1_and_8_workers(seed):
    root = random_graph(seed)
    fails = {f"J{seed}_{k}": k % 2 == 0 for k in range(40)}
    sequential = summary(run(root, 1, fails))
    dojob = run(root, 8, fails)
    parallel = summary(dojob)
    assert parallel == sequential
    dojob.checknrun()  # every checknrun starts over, in parallel too
    assert summary(dojob) == sequential
    statuses = set(sequential[0].values())
    assert statuses == {True, False, None}, "the graph should exercise all three"


@pytest.mark.parametrize("seed", range(4))
def test_random_dags_same_results_in_no_act_mode_and_from_a_node(seed):
    root = random_graph(100 + seed)
    fails: dict[str, bool] = {}
    assert summary(run(root, 8, fails, no_act=True)) == summary(
        run(root, 1, fails, no_act=True))
    node = root.DEPS[-1]
    assert summary(run(root, 8, fails, node=node)) == summary(
        run(root, 1, fails, node=node))


def example(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "dojobber_example.py", "-v", "--no-x11", *options],
        cwd=TESTS, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("options", [
    [], ["-n"], ["--battery_state", "charged", "--couch_space"]],
    ids=["default", "no-act", "success"])
def test_the_example_prints_the_same_lines_in_parallel(options):
    """The movie example with --workers 8: the sequential lines (the golden
    traces), in another order, and the same exit code and summary."""
    sequential = example(*options)
    parallel = example("--workers", "8", *options)
    assert Counter(parallel.stderr.splitlines()) == Counter(
        sequential.stderr.splitlines())
    assert len(parallel.stderr.splitlines()) >= 9
    assert parallel.returncode == sequential.returncode
    assert parallel.stdout == sequential.stdout


# Dependency order and concurrency --------------------------------------------

def recorded_graph(recorder: Recorder, layers: int = 5, width: int = 6) -> type[Job]:
    """Layers of jobs, each needing two jobs of the layer below; every try
    records its start and end; Check sleeps 5 ms so that tries overlap."""

    class Recorded(Job):
        def __init__(self) -> None:
            recorder.add("start", type(self).__name__)

        def Check(self, *args: Any, **kwargs: Any) -> None:
            time.sleep(0.005)
            name = type(self).__name__
            if self._check_phase == "check" and name.endswith("_0"):
                recorder.add("end", name)
                raise RuntimeError("needs a Run")
            recorder.add("end", name)

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    below: list[type[Job]] = []
    for layer in range(layers):
        row = [
            type(f"L{layer}_{j}", (Recorded,), {
                "DEPS": (below[j], below[(j + 1) % width]) if below else ()})
            for j in range(width)
        ]
        below = row
    return type("Top", (DummyJob,), {"DEPS": tuple(below)})


def test_a_job_starts_only_after_its_dependencies_passed():
    recorder = Recorder()
    root = recorded_graph(recorder)
    dojob = run(root, 4)
    assert dojob.success()
    starts = {job: t for t, _, job in recorder.of("start")}
    ends = {job: t for t, _, job in recorder.of("end")}  # last end = pass
    assert len(starts) == 30
    for job in starts:
        cls = next(c for c in _all_classes(root) if c.__name__ == job)
        for dep in cls.DEPS:
            assert starts[job] >= ends[dep.__name__], (job, dep.__name__)


def test_never_more_tries_at_once_than_workers():
    recorder = Recorder()
    assert run(recorded_graph(recorder, layers=3, width=10), 3).success()
    running = most = 0
    # Each job passes on its first try here: a try spans start .. last end.
    last_end = {job: t for t, _, job in recorder.of("end")}
    edges = sorted([(t, 1) for t, _, _ in recorder.of("start")]
                   + [(t, -1) for t in last_end.values()])
    for _, step in edges:
        running += step
        most = max(most, running)
    assert 1 <= most <= 3


def test_workers_really_run_tries_at_the_same_time():
    # Three jobs at a time must meet at the barrier, or it breaks (timeout)
    # and the jobs fail.
    barrier = threading.Barrier(3, timeout=10)

    class Meets(Job):
        def Check(self, *args: Any, **kwargs: Any) -> int:
            return barrier.wait()

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    jobs = [type(f"M{k}", (Meets,), {"TRIES": 1}) for k in range(6)]
    dojob = run(type("MeetRoot", (DummyJob,), {"DEPS": tuple(jobs)}), 3)
    assert dojob.success(), dojob.nodeexceptions
    assert sorted(dojob.noderesults[j.__name__] for j in jobs) == [0, 0, 1, 1, 2, 2]


def _all_classes(root: type[Job]) -> list[type[Job]]:
    seen: list[type[Job]] = []
    stack = [root]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.DEPS)
    return seen


# Tries and retry delays -------------------------------------------------------

def test_no_job_exceeds_its_tries():
    made = Counter()
    lock = threading.Lock()

    class Failing(Job):
        def __init__(self) -> None:
            with lock:
                made[type(self).__name__] += 1

        def Check(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("never")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    budgets = {"F1": 1, "F2": 2, "F3": 3, "F4": 4, "F2_5": 2.5}
    jobs = [type(name, (Failing,), {"TRIES": tries}) for name, tries in budgets.items()]
    # A job blocked by a failing dependency is never tried.
    jobs.append(type("Blocked", (Failing,), {"DEPS": (jobs[0],)}))
    root = type("FailRoot", (DummyJob,), {"DEPS": tuple(jobs)})
    dojob = run(root, 8)
    assert made == {"F1": 1, "F2": 2, "F3": 3, "F4": 4, "F2_5": 3}
    assert dojob.nodestatus["Blocked"] is None
    made.clear()
    run(root, 8, no_act=True)
    assert made == {"F1": 1, "F2": 1, "F3": 1, "F4": 1, "F2_5": 1}


def test_retries_respect_retry_delay_and_wait_side_by_side(clock):
    # conftest's FakeClock: time stands still except in sleep(), so each try
    # sees its own start time.
    start = clock.now
    starts: dict[str, list[float]] = {}

    class Flaky(Job):
        TRIES = 4

        def Check(self, *args: Any, **kwargs: Any) -> None:
            name = type(self).__name__
            if self._check_phase == "check":
                starts.setdefault(name, []).append(clock() - start)
            if len(starts[name]) < 4:
                raise RuntimeError("not yet")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    delays = {"Slow": 10.0, "Mid": 7.0, "Fast": 3.0, "Now": 0.0}
    flaky = [type(name, (Flaky,), {"RETRY_DELAY": d}) for name, d in delays.items()]
    others = [type(f"Other{k}", (DummyJob,), {}) for k in range(6)]
    root = type("FlakyRoot", (DummyJob,), {"DEPS": tuple(flaky + others)})
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(root, workers=3)
    dojob.checknrun()
    assert dojob.success()
    for name, delay in delays.items():
        times = starts[name]
        assert len(times) == 4
        assert all(b - a >= delay for a, b in zip(times, times[1:])), (name, times)
    # The delays ran out side by side: the run took as long as the slowest
    # job's own three delays, not the sum of everyone's.
    assert clock.now - start == 30.0


def test_a_failed_job_waiting_for_its_retry_holds_no_worker(clock):
    start = clock.now
    starts: list[tuple[str, float]] = []

    class Step(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            name = type(self).__name__
            if self._check_phase == "check":
                starts.append((name, clock() - start))
            if name == "Retry" and [s[0] for s in starts].count("Retry") == 1:
                raise RuntimeError("first try fails")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    retry = type("Retry", (Step,), {"RETRY_DELAY": 5.0})
    chain: list[type[Job]] = []
    for k in range(4):
        chain.append(type(f"Chain{k}", (Step,), {"DEPS": tuple(chain[-1:])}))
    root = type("WaitRoot", (DummyJob,), {"DEPS": (retry, chain[-1])})
    dojob = DoJobber(clock=clock, sleep=clock.sleep)
    dojob.configure(root, workers=2)
    dojob.checknrun()
    assert dojob.success()
    # With 2 workers, the chain ran to its end while Retry waited.
    assert [t for name, t in starts if name.startswith("Chain")] == [0.0] * 4
    assert [t for name, t in starts if name == "Retry"] == [0.0, 5.0]


# Cleanup -----------------------------------------------------------------------

def test_cleanup_after_every_job_lifo_by_try_start():
    recorder = Recorder()

    class Cleaned(Job):
        def __init__(self) -> None:
            recorder.add("start", type(self).__name__)

        def Check(self, *args: Any, **kwargs: Any) -> None:
            time.sleep(0.003)
            name = type(self).__name__
            recorder.add("end", name)
            if name == "R":
                gs = self.global_storage
                if self._check_phase == "check":
                    gs["R"] = gs.get("R", 0) + 1
                if gs["R"] < 3:
                    raise RuntimeError("R fails twice")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

        def Cleanup(self) -> None:
            recorder.add("cleanup", type(self).__name__)

    a = type("A", (Cleaned,), {})
    r = type("R", (Cleaned,), {"DEPS": (a,)})
    b = type("B", (Cleaned,), {"DEPS": (r,)})
    wide = [type(f"W{k}", (Cleaned,), {}) for k in range(8)]
    root = type("CleanRoot", (DummyJob,), {"DEPS": (b, *wide)})
    dojob = run(root, 4)
    assert dojob.success()
    starts = [job for _, _, job in recorder.of("start")]
    cleanups = [job for _, _, job in recorder.of("cleanup")]
    assert Counter(cleanups) == Counter(starts)  # one Cleanup per instance
    assert Counter(starts)["R"] == 3
    chain = {"A", "R", "B"}
    assert [j for j in cleanups if j in chain] == ["B", "R", "R", "R", "A"]
    last_end = max(t for t, _, _ in recorder.of("end"))
    assert min(t for t, _, _ in recorder.of("cleanup")) >= last_end


def test_instances_are_kept_in_the_order_their_tries_started():
    """Worker threads create instances in whatever order the OS runs them
    and tries end in any order; the Cleanups (newest first) follow the
    order in which the engine started the tries, reversed."""
    plan_jobs = [type(f"C{k}", (Job,), {
        # Later jobs end sooner: the order tries end is not the order they start.
        "Check": lambda self, *a, k=k, **kw: time.sleep(0.001 * (30 - k) % 7),
        "Run": lambda self, *a, **k: None,
        "Cleanup": lambda self: None,
    }) for k in range(30)]
    root = type("SeqRoot", (DummyJob,), {"DEPS": tuple(plan_jobs)})
    started: list[str] = []
    cleaned: list[str] = []

    class Order(Observer):
        def try_started(self, job: str, number: int) -> None:
            started.append(job)

        def cleanup_started(self, job: str) -> None:
            cleaned.append(job)

    dojob = DoJobber()
    dojob.configure(root, workers=6, observers=[Order()])
    dojob.checknrun()
    assert dojob.success()
    with_cleanup = [name for name in started if name != "SeqRoot"]
    assert len(with_cleanup) == 30
    assert cleaned == with_cleanup[::-1]


# Interrupts and errors -----------------------------------------------------------

def interrupt_graph(recorder: Recorder, raise_in_job: bool) -> type[Job]:
    """Slow (running when the interrupt comes), Boom (the interrupt), and
    ten Queued jobs that no worker is free to start before it."""
    slow_started = threading.Event()

    class Tracked(Job):
        def __init__(self) -> None:
            recorder.add("start", type(self).__name__)

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

        def Cleanup(self) -> None:
            recorder.add("cleanup", type(self).__name__)

    class Slow(Tracked):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            slow_started.set()
            time.sleep(0.3)
            recorder.add("end", "Slow")

    class Boom(Tracked):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            slow_started.wait(5)
            recorder.add("end", "Boom")
            if raise_in_job:
                raise KeyboardInterrupt
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            time.sleep(0.1)

    queued = [type(f"Queued{k}", (Tracked,), {"Check": lambda self, *a, **k: None})
              for k in range(10)]
    return type("IntRoot", (DummyJob,), {"DEPS": (Slow, Boom, *queued)})


@pytest.mark.parametrize("raise_in_job", [True, False], ids=["from-job", "ctrl-c"])
def test_keyboard_interrupt_waits_for_running_tries_then_cleans_up(
        raise_in_job, tmp_path, monkeypatch):
    # Python's own Ctrl-C handler, also when the tests were started with
    # SIGINT ignored (a shell's background job): the signal must raise here.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        check_interrupt(raise_in_job, tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)


def check_interrupt(raise_in_job: bool, tmp_path: Any, monkeypatch: Any) -> None:
    recorder = Recorder()
    root = interrupt_graph(recorder, raise_in_job)
    monkeypatch.chdir(tmp_path)
    dojob = DoJobber()
    dojob.configure(root, workers=2)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    started = [job for _, _, job in recorder.of("start")]
    assert sorted(started) == ["Boom", "Slow"]  # nothing new was started
    assert [job for _, _, job in recorder.of("end")][-1] == "Slow"
    assert Counter(j for _, _, j in recorder.of("cleanup")) == {"Boom": 1, "Slow": 1}
    assert dojob.nodestatus["Slow"] is True
    assert dojob.nodestatus["Queued0"] is None
    assert os.getcwd() == str(tmp_path)


def test_an_observer_error_in_a_worker_switches_it_off_and_the_run_goes_on():
    seen: list[str] = []

    class Broken(Observer):
        def try_ended(self, job: str, outcome: Outcome, error: Any) -> None:
            seen.append(job)
            if job == "X3":
                raise LookupError("observer broke on X3")

    jobs = [type(f"X{k}", (DummyJob,), {"DEPS": ()}) for k in range(6)]
    root = type("ObsRoot", (DummyJob,), {"DEPS": tuple(jobs)})
    dojob = DoJobber()
    dojob.configure(root, workers=3, observers=[Broken()])
    dojob.checknrun()
    assert dojob.success() and len(dojob.nodestatus) == 7
    assert seen.count("X3") == 1 and "ObsRoot" not in seen  # off after X3
    [failure] = dojob.report().observer_errors
    assert (failure.event, str(failure.error)) == ("try_ended", "LookupError: observer broke on X3")
    assert failure.observer.endswith("Broken")


def test_a_failing_clock_stops_the_run_instead_of_hanging_it():
    calls = []

    def clock() -> float:
        calls.append(1)
        if len(calls) > 4:
            raise OSError("clock broke")
        return time.monotonic()

    jobs = [type(f"T{k}", (DummyJob,), {}) for k in range(10)]
    dojob = DoJobber(clock=clock)
    dojob.configure(type("ClockRoot", (DummyJob,), {"DEPS": tuple(jobs)}), workers=3)
    raised: list[BaseException] = []

    def call() -> None:
        try:
            dojob.checknrun()
        except BaseException as error:
            raised.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    caller.join(30)
    assert not caller.is_alive(), "the run hung"
    assert [str(e) for e in raised] == ["clock broke"]


# Output --------------------------------------------------------------------------

class SlowStream(io.StringIO):
    """Writes one character at a time, yielding the GIL in between, so two
    unsynchronised writers would interleave."""

    def write(self, text: str) -> int:
        for char in text:
            super().write(char)
            time.sleep(0)
        return len(text)


LINE = re.compile(r'^\S.*\.(check|run|recheck): (pass|fail)( ".*")?$')


@pytest.mark.parametrize("debug", [False, True], ids=["verbose", "debug"])
def test_each_verbose_and_debug_event_is_written_whole(debug, monkeypatch):
    root = random_graph(7, size=30)
    outputs = []
    for workers in (1, 8):
        stream = SlowStream()
        monkeypatch.setattr(sys, "stderr", stream)
        run(root, workers, {}, verbose=True, debug=debug)
        monkeypatch.undo()
        outputs.append(stream.getvalue().splitlines())
    sequential, parallel = outputs
    blocks = []  # each event: its first line, then its indented lines
    for line in parallel:
        if line.startswith("  "):
            blocks[-1].append(line)
        else:
            assert LINE.match(line), line
            blocks.append([line])
    for block in blocks:
        if len(block) > 1:
            # A traceback block ends with its own job's exception.
            job = block[0].split(".")[0]
            assert block[1] in ("  Error was:", "  Could not create job, error was ")
            assert re.search(rf"\b{job}\b", block[-1]), block
    assert Counter(parallel) == Counter(sequential)
    assert any(len(b) > 1 for b in blocks) == debug


CLI_JOBS = """
import threading
from dojobber import DummyJob, Job

meet = threading.Barrier(3, timeout=10)


class Meets(Job):
    TRIES = 1

    def Check(self, *args, **kwargs):
        meet.wait()

    def Run(self, *args, **kwargs):
        pass


Root = type("Root", (DummyJob,), {
    "DEPS": tuple(type(f"Meet{k}", (Meets,), {}) for k in range(6))})
"""


def test_the_command_line_takes_workers(tmp_path):
    (tmp_path / "meet.py").write_text(CLI_JOBS)

    def dojobber(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dojobber", "run", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)

    done = dojobber("--workers", "3", "--json", "-", "meet.py:Root")
    assert done.returncode == 0, done.stderr
    assert '"success": true' in done.stdout
    done = dojobber("--workers", "0", "meet.py:Root")
    assert done.returncode == 2
    assert done.stderr == "dojobber: error: workers must be an int >= 1, got 0\n"
    done = dojobber("--workers", "two", "meet.py:Root")
    assert done.returncode == 2 and "invalid int value: 'two'" in done.stderr


# Configuration and working directory ----------------------------------------------

@pytest.mark.parametrize("bad", [0, -2, True, 2.0, "4", [2]])  # None: the default
def test_workers_must_be_an_int_of_at_least_one(bad):
    dojob = DoJobber()
    error = JobTypeError if not isinstance(bad, int) or isinstance(bad, bool) else ConfigurationError
    with pytest.raises(error, match=re.escape(f"workers must be an int >= 1, got {bad!r}")) as info:
        dojob.configure(DummyJob, workers=bad)
    assert info.value.value == bad
    with pytest.raises(ConfigurationError, match="configure"):
        dojob.checknrun()  # nothing was configured


def test_jobs_that_chdir_are_reported_and_the_directory_restored(
        tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()

    class Wanders(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            os.chdir("elsewhere")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    dojob = DoJobber(dojobber_loglevel="WARNING")
    dojob.configure(type("WRoot", (DummyJob,), {"DEPS": (Wanders,)}), workers=2)
    dojob.checknrun()
    assert os.getcwd() == str(tmp_path)
    assert "jobs must not chdir when workers > 1" in caplog.text
    DoJobber(dojobber_loglevel=None)  # back to the default level


def test_global_storage_is_shared_by_all_threads_of_one_run():
    seen: list[int] = []

    class Shares(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            seen.append(id(self.global_storage))
            self.global_storage[type(self).__name__] = True

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    jobs = [type(f"S{k}", (Shares,), {}) for k in range(12)]

    class Reads(Job):
        DEPS = tuple(jobs)

        def Check(self, *args: Any, **kwargs: Any) -> list[str]:
            return sorted(self.global_storage)

        def Run(self, *args: Any, **kwargs: Any) -> None:
            pass

    dojob = run(Reads, 6)
    assert dojob.noderesults["Reads"] == sorted(j.__name__ for j in jobs)
    assert len(set(seen)) == 1
