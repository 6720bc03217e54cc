"""Tries on concurrent.futures executors: a thread pool, a process pool, Dask.

The process pool and the Dask LocalCluster are real (worker processes, started
here, shared by the module's tests). Job classes live in tests/executor_jobs.py
so that worker processes can import them.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import types
import time
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dojobber
import executor_jobs as jobs
from conftest import pool_context
import dojobber.engine.pool
import dojobber.engine.sending
import dojobber.executor
from dojobber.errors import ExecutorError, JobTimeoutError, TransferError, WorkerLostError
from dojobber.engine.worker import TryTask
from dojobber.executor import RemoteTraceback, executor_size, run_try


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[Executor]:
    distributed = pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed (pip install dojobber[dask])"
    )
    before = set(threading.enumerate())
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:
        yield client.get_executor()
    # Dask's event loop thread finishes closing after the cluster says it is
    # closed, leaving cyclic garbage; later tests count garbage cycles.
    for thread in set(threading.enumerate()) - before:
        if not thread.name.startswith("Dask-Offload"):  # a pool that stays
            thread.join(10)
    gc.collect()


@pytest.fixture(scope="module")
def started_pools() -> Iterator[dict[str, Executor]]:
    """The pools of ``pool_of``, made when first asked for, shut down with the module."""
    made: dict[str, Executor] = {}
    yield made
    for pool in made.values():
        pool.shutdown(wait=True)


def pool_of(kind: str, request: pytest.FixtureRequest) -> Executor:
    """A pool of 2 worker processes: Dask's, loky's, or the standard
    library's whose processes start by ``kind`` (fork, forkserver, spawn)."""
    if kind == "dask":
        dask: Executor = request.getfixturevalue("dask_executor")
        return dask
    made: dict[str, Executor] = request.getfixturevalue("started_pools")
    if kind not in made:
        if kind == "loky":
            loky = pytest.importorskip("loky", reason="loky is not installed (pip install loky)")
            made[kind] = loky.ProcessPoolExecutor(2)
        elif kind in multiprocessing.get_all_start_methods():
            made[kind] = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(kind))
        else:
            pytest.skip(f"processes cannot start by {kind} here")
        # Started now, from this thread: a fork pool forks every process at once.
        made[kind].submit(int).result()
    return made[kind]


@pytest.fixture(params=["threads", "processes", "dask"])
def executor(request: pytest.FixtureRequest) -> Executor:
    names = {"threads": "thread_pool", "processes": "process_pool", "dask": "dask_executor"}
    pool: Executor = request.getfixturevalue(names[request.param])
    return pool


@pytest.fixture(autouse=True)
def no_cleanups_yet() -> None:
    jobs.CLEANED.clear()


def run(
    root: type[dojobber.Job], executor: Executor | None, level: int | None = None, **options: Any
) -> dojobber.DoJobber:
    dojob = dojobber.DoJobber(level)
    options.setdefault("default_retry_delay", 0)
    dojob.configure(root, executor=executor, **options)
    dojob.checknrun()
    return dojob


def described(dojob: dojobber.DoJobber) -> dict[str, str]:
    return {name: f"{type(e).__name__}: {e}" for name, e in dojob.nodeexceptions.items()}


# --- The same outcomes as one worker -----------------------------------------


@st.composite
def scripted_graphs(draw: st.DrawFn) -> tuple[list[list[int]], dict[str, Any], int]:
    n = draw(st.integers(1, 8))
    deps = [sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else []
            for i in range(n)]
    script = {
        jobs.SCRIPTED[i].__name__: (draw(st.integers(0, 3)),
                                    draw(st.frozensets(st.integers(1, 3), max_size=2)))
        for i in range(n)
    }
    return deps, script, draw(st.integers(1, 4))


def run_scripted(
    graph: tuple[list[list[int]], dict[str, Any], int], executor: Executor | None,
    made_at_run_time: bool = False,
) -> tuple[Any, ...]:
    deps, script, tries = graph
    if made_at_run_time:
        # DoJobber's idiom for dynamic jobs, from a base made at run time too.
        base = type("Base", (jobs.Scripted,), {})
        classes: list[type[dojobber.Job]] = []
        for job_deps in deps:
            classes.append(type(f"S{len(classes)}", (base,),
                                {"DEPS": [classes[d] for d in job_deps]}))
        root: type[dojobber.Job] = type("Root", (jobs.ScriptedRoot,), {"DEPS": classes})
    else:
        classes = jobs.SCRIPTED[:len(deps)]
        for cls, job_deps in zip(classes, deps):
            cls.DEPS = [classes[d] for d in job_deps]
        root = jobs.ScriptedRoot
        root.DEPS = classes
    names = {cls.__name__: [classes[d].__name__ for d in job_deps]
             for cls, job_deps in zip(classes, deps)}
    dojob = dojobber.DoJobber()
    dojob.configure(root, executor=executor, default_tries=tries, default_retry_delay=0)
    dojob.set_args(script=script, deps=names)
    dojob.checknrun()
    report = dojob.report()
    return (dojob.nodestatus, dict(sorted(dojob.noderesults.items())), described(dojob),
            {job.name: job.tries for job in report.jobs})


@pytest.mark.parametrize("kind", ["threads", "processes", "dask"])
def test_random_graphs_end_as_with_one_worker(kind: str, request: pytest.FixtureRequest) -> None:
    if kind == "threads":
        pool: Executor = request.getfixturevalue("thread_pool")
    else:
        pool = request.getfixturevalue("process_pool" if kind == "processes" else "dask_executor")

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(scripted_graphs())
    def same(graph: tuple[list[list[int]], dict[str, Any], int]) -> None:
        assert run_scripted(graph, pool) == run_scripted(graph, None)

    same()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("kind", ["fork", "forkserver", "spawn", "loky", "dask"])
def test_jobs_made_at_run_time_end_as_with_one_worker(
    kind: str, request: pytest.FixtureRequest
) -> None:
    pool = pool_of(kind, request)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @given(scripted_graphs())
    def same(graph: tuple[list[list[int]], dict[str, Any], int]) -> None:
        assert (run_scripted(graph, pool, made_at_run_time=True)
                == run_scripted(graph, None, made_at_run_time=True))

    same()


class Inline(Executor):
    """Runs each task here and now, and keeps the size of each task."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.sizes.append(len(args[0]))
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_a_chain_of_jobs_made_at_run_time_sends_tasks_of_one_size() -> None:
    chain: list[type[dojobber.Job]] = [type("J000", (jobs.Fine,), {})]
    for k in range(1, 200):
        chain.append(type(f"J{k:03d}", (jobs.Fine,), {"DEPS": [chain[-1]]}))
    inline = Inline()
    dojob = run(chain[-1], inline, workers=1)
    assert dojob.success() and len(inline.sizes) == 200
    # In order, one job after the other: the last carries no class of those below.
    assert max(inline.sizes) < 2 * inline.sizes[0]
    assert max(inline.sizes[1:]) - min(inline.sizes[1:]) < 100


@pytest.mark.parametrize("kind", ["threads", "processes"])
def test_jobs_made_at_run_time_come_back_as_the_callers_own(
    kind: str, request: pytest.FixtureRequest
) -> None:
    pool = request.getfixturevalue("thread_pool" if kind == "threads" else "process_pool")
    first = type("First", (jobs.KeepsClass,), {})
    second = type("Second", (jobs.KeepsClass,), {"DEPS": [first, jobs.Fine]})
    before = dict(vars(second))
    jobs.CLEANED_TYPES.clear()
    dojob = run(second, pool)
    # In the worker too, DEPS name the dependencies.
    assert dojob.noderesults == {"First": [], "Fine": "fine", "Second": ["First", "Fine"]}
    # The instances kept for Cleanup are of the classes made here, left as they were.
    assert [cls.__name__ for cls in jobs.CLEANED_TYPES] == ["Second", "First"]
    assert jobs.CLEANED_TYPES[0] is second and jobs.CLEANED_TYPES[1] is first
    after = {name: value for name, value in vars(second).items()
             if name != "__slotnames__"}  # what pickling any instance caches on its class
    assert after.keys() == before.keys()
    assert all(after[name] is value for name, value in before.items())


# --- global_storage, Cleanup, events ------------------------------------------


def test_storage_changes_come_back_and_cleanups_run_here(executor: Executor) -> None:
    dojob = run(jobs.Forgets, executor)
    assert dojob.nodestatus == {"MadeFirst": True, "MadeSecond": True, "Forgets": True}
    # MadeSecond saw the list MadeFirst appended to in place; Forgets deleted it.
    assert dojob.noderesults["Forgets"] == ["MadeFirst", "MadeSecond"]
    here = os.getpid()
    assert [(name, cleaned_in) for name, _, cleaned_in in jobs.CLEANED] == [
        ("MadeSecond", here), ("MadeFirst", here)]  # newest first, in this process
    if not isinstance(executor, ThreadPoolExecutor):
        assert all(made_in != here for _, made_in, _ in jobs.CLEANED)
        assert dojob.noderesults["MadeFirst"] != here


def test_each_run_runs_its_tries_even_when_they_are_sent_as_before(
    executor: Executor, tmp_path: Path
) -> None:
    """Dask answers a task equal to one whose result it still holds with
    that result, without running it: the second run's tries, equal to the
    first's, run all the same (DoJobber lets go of each task it sent)."""
    log = tmp_path / "ran.log"
    collecting = gc.isenabled()
    gc.disable()  # no collector to let go of what DoJobber would hold on to
    try:
        for _ in range(2):
            dojob = dojobber.DoJobber()
            dojob.configure(jobs.NotedFirst, executor=executor)
            dojob.set_args(log=str(log), nap=0)
            dojob.checknrun()
            assert dojob.success()
    finally:
        if collecting:
            gc.enable()
    assert log.read_text().split() == ["NotedFirst", "NotedFirst"]


def test_two_tries_setting_one_key_the_later_ending_wins(process_pool: Executor) -> None:
    dojob = run(jobs.ReadsKey, process_pool)
    assert dojob.noderesults["ReadsKey"] == "slow"


def test_an_equal_value_that_pickles_differently_is_no_change(executor: Executor) -> None:
    dojob = run(jobs.ReadsTags, executor)
    # RebuildsTags ended last, but its set was equal to what it was given.
    assert dojob.noderesults["ReadsTags"] == [0, 8, 16]


def test_verbose_lines_are_replayed_here_when_each_try_ends(
    process_pool: Executor, capsys: pytest.CaptureFixture[str]
) -> None:
    run(jobs.MadeSecond, process_pool, verbose=True)
    assert capsys.readouterr().err.splitlines() == [
        "MadeFirst.check: fail", "MadeFirst.run: pass", "MadeFirst.recheck: pass",
        "MadeSecond.check: fail", "MadeSecond.run: pass", "MadeSecond.recheck: pass",
    ]


def test_no_act_only_checks(process_pool: Executor) -> None:
    dojob = run(jobs.MadeSecond, process_pool, no_act=True)
    assert dojob.nodestatus == {"MadeFirst": False, "MadeSecond": None}
    assert described(dojob) == {"MadeFirst": "RuntimeError: not made yet"}


def test_a_worker_traceback_shows_in_debug_lines(
    process_pool: Executor, capsys: pytest.CaptureFixture[str]
) -> None:
    dojob = run(jobs.RaisesOddError, process_pool, debug=True,
                default_tries=1)
    error = dojob.nodeexceptions["RaisesOddError"]
    assert isinstance(error.__cause__, RemoteTraceback)
    err = capsys.readouterr().err
    assert "  dojobber.executor.RemoteTraceback: in the worker:" in err
    assert 'in Check\n      raise NeedsTwoArguments("this", "that")' in err


def test_log_lines_of_a_try_are_logged_here(
    process_pool: Executor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="DoJobber"):
        dojob = run(jobs.BadInit, process_pool, logging.ERROR, default_tries=1)
    assert described(dojob) == {"BadInit": "OSError: no init today"}
    assert [r.getMessage() for r in caplog.records] == [
        'Could not create Job "BadInit" - check its __init__']


@pytest.fixture(params=["threads", "processes", "dask", "loky"])
def timed_on(request: pytest.FixtureRequest) -> Executor:
    if request.param == "loky":
        return pool_of("loky", request)
    names = {"threads": "thread_pool", "processes": "process_pool", "dask": "dask_executor"}
    pool: Executor = request.getfixturevalue(names[request.param])
    return pool


def test_phase_times_are_those_the_worker_measured(timed_on: Executor, tmp_path: Path) -> None:
    """One worker, three tries: each waits for the one before. The report,
    the event log and what the event log reads back give each phase the
    time it took in the worker, within the try as the caller saw it."""
    events = tmp_path / "events.jsonl"
    with open(events, "w") as stream:
        dojob = dojobber.DoJobber()
        dojob.configure(jobs.Timed, executor=timed_on, workers=1, default_retry_delay=0,
                        observers=[dojobber.EventLog(stream)])
        dojob.checknrun()
    assert dojob.success()
    report = dojob.report()
    from_log = dojobber.eventlog.read_report(events.read_text().splitlines())
    for tried in (report, from_log):
        story = {job.name: job.history[-1] for job in tried.jobs}
        check, run, recheck = story["RunsAWhile"].phases
        assert [check.phase, run.phase, recheck.phase] == ["check", "run", "recheck"]
        assert run.seconds >= 0.3  # it slept that long
        assert check.seconds < run.seconds and recheck.seconds < run.seconds
        (passing,) = story["ChecksAWhile"].phases
        assert passing.phase == "check" and passing.seconds >= 0.3
        for one in story.values():
            end = one.start + one.seconds
            for phase, after in zip(one.phases, one.phases[1:] + (None,)):
                assert one.start <= phase.start <= phase.start + phase.seconds <= end + 1e-6
                if after is not None:
                    assert phase.start + phase.seconds <= after.start + 1e-6
    phase_events = [json.loads(line) for line in events.read_text().splitlines()
                    if '"phase_ended"' in line]
    assert {(e["job"], e["phase"]) for e in phase_events if e["seconds"] >= 0.3} == {
        ("RunsAWhile", "run"), ("ChecksAWhile", "check"), ("Blocks", "check")}


# --- What cannot be sent fails its try, not the run -------------------------


def test_what_cannot_be_sent_back_fails_that_try_with_its_name(
    executor: Executor, capsys: pytest.CaptureFixture[str]
) -> None:
    dojob = run(jobs.AllOfThem, executor, default_tries=1, verbose=True)
    errors = dojob.nodeexceptions
    assert dojob.nodestatus["Fine"] is True
    assert set(errors) == {"ReturnsLock", "RaisesLockedError", "RaisesOddError",
                           "StoresLock", "KeepsLockForCleanup", "StoresOddKey", "RaisesBadStr"}
    bad_str = errors.pop("RaisesBadStr")  # it travels; only its words are missing
    assert type(bad_str).__name__ == "BadStr"
    assert str(errors["StoresOddKey"]).startswith(
        "cannot send global_storage[<unlocked _thread.lock object at ")
    assert ">] (its key) of job 'StoresOddKey' back from the worker: TypeError" in str(
        errors["StoresOddKey"])
    assert {name: type(errors[name]).__name__ for name in errors} == dict.fromkeys(errors, "TransferError")
    assert str(errors["ReturnsLock"]).startswith(
        "cannot send the value returned by Check of job 'ReturnsLock' back from the worker: "
        "TypeError: cannot pickle '_thread.lock' object")
    assert str(errors["StoresLock"]).startswith(
        "cannot send global_storage['lock'] of job 'StoresLock' back from the worker: TypeError")
    assert str(errors["KeepsLockForCleanup"]).startswith(
        "cannot send the instance (for its Cleanup) of job 'KeepsLockForCleanup' back")
    assert str(errors["RaisesLockedError"]).startswith(
        "executor_jobs.LockedError: held a lock (raised by job 'RaisesLockedError' in the "
        "worker; the exception itself cannot be sent back: TypeError: cannot pickle")
    assert str(errors["RaisesOddError"]).startswith(
        "executor_jobs.NeedsTwoArguments: this and that (raised by job 'RaisesOddError' in "
        "the worker; the exception itself cannot be sent back: TypeError: ")
    # The Check that passed in the worker is reported failing, with the reason.
    assert "ReturnsLock.check: fail" in capsys.readouterr().err.splitlines()
    assert jobs.CLEANED == []


def test_classes_that_cannot_be_imported_travel_by_value(process_pool: Executor) -> None:
    class Local(dojobber.Job):  # defined in a function: no name to import it by
        def Check(self) -> str:
            return f"local in {os.getpid()}"

    made = type("Made", (jobs.Fine,), {})  # made at run time: not under its name
    root = type("Root", (dojobber.DummyJob,), {"DEPS": [Local, made]})
    dojob = run(root, process_pool, default_tries=1)
    assert dojob.nodestatus == {"Local": True, "Made": True, "Root": True}
    assert dojob.noderesults["Local"] != f"local in {os.getpid()}"
    assert dojob.noderesults["Made"] == "fine"


def test_a_class_the_workers_cannot_import_fails_its_try(process_pool: Executor) -> None:
    # Found under its name here, so it travels by reference; not there.
    module = types.ModuleType("only_in_the_caller")
    sys.modules[module.__name__] = module
    try:
        Hidden = type("Hidden", (jobs.Fine,), {"__module__": module.__name__})
        module.Hidden = Hidden  # type: ignore[attr-defined]
        dojob = run(Hidden, process_pool, default_tries=1)
    finally:
        del sys.modules[module.__name__]
    error = dojob.nodeexceptions["Hidden"]
    assert isinstance(error, TransferError) and error.what == "the class"
    assert str(error) == (
        "cannot receive the class of job 'Hidden' in the worker: ModuleNotFoundError: "
        "No module named 'only_in_the_caller' (job classes and everything they are "
        "given must be importable there)")


def test_what_cannot_come_back_fails_its_try_never_the_run(
    executor: Executor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "made_in_the_worker", raising=False)
    try:
        dojob = run(jobs.CannotComeBack, executor)
    finally:
        sys.modules.pop("made_in_the_worker", None)
    # Its class refuses every attribute: it comes back as it was raised.
    stubborn = dojob.nodeexceptions.pop("RaisesStubborn")
    assert (type(stubborn).__name__, str(stubborn)) == ("Stubborn", "stubborn")
    assert isinstance(stubborn.__cause__, RemoteTraceback)
    assert dojob.nodestatus["Fine"] is True
    if isinstance(executor, ThreadPoolExecutor):
        assert dojob.nodeexceptions == {}  # the worker's module is the caller's too
        return
    assert described(dojob) == {
        "StoresWorkerKey": "TransferError: cannot receive a key of global_storage of job "
        "'StoresWorkerKey' from the worker: ModuleNotFoundError: No module named "
        "'made_in_the_worker'",
        "StoresWorkerValue": "TransferError: cannot receive global_storage['thing'] of job "
        "'StoresWorkerValue' from the worker: ModuleNotFoundError: No module named "
        "'made_in_the_worker'",
    }


class Garbled(Executor):
    """An executor whose every task answers what no DoJobber wrote."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(b"not a record")
        return future


def test_an_answer_that_cannot_be_read_fails_its_try() -> None:
    dojob = run(jobs.Fine, Garbled(), default_tries=1)
    error = dojob.nodeexceptions["Fine"]
    assert isinstance(error, TransferError) and error.what == "the answer"
    assert str(error).startswith(
        "cannot receive the answer of job 'Fine' from the worker: UnpicklingError: ")


def test_an_unpicklable_class_or_argument_fails_its_try(process_pool: Executor) -> None:
    class Local(dojobber.Job):  # travels by value, with what it holds
        LOCK = threading.Lock()

        def Check(self) -> None:
            pass

    root = type("Root", (dojobber.DummyJob,), {"DEPS": [Local, jobs.Fine]})
    dojob = run(root, process_pool, default_tries=1)
    assert dojob.nodestatus == {"Local": False, "Fine": True, "Root": None}
    assert isinstance(dojob.nodeexceptions["Local"], TransferError)
    assert str(dojob.nodeexceptions["Local"]) == (
        "cannot send the class of job 'Local' to the executor: "
        "TypeError: cannot pickle '_thread.lock' object")

    dojob = dojobber.DoJobber()
    dojob.configure(jobs.Fine, executor=process_pool, default_tries=1)
    dojob.set_args(threading.Lock())
    dojob.checknrun()
    error = dojob.nodeexceptions["Fine"]
    assert isinstance(error, TransferError)
    assert str(error) == ("cannot send the arguments (set_args) of job 'Fine' to the executor: "
                          "TypeError: cannot pickle '_thread.lock' object")


# --- Workers that die, Ctrl-C, sizes -------------------------------------------


def test_a_worker_killed_mid_try_fails_that_try_only() -> None:
    with ProcessPoolExecutor(2, mp_context=pool_context()) as pool:
        dojob = run(jobs.Survivors, pool)
    assert dojob.nodestatus == {"Dies": False, "Beside": True, "AfterBeside": True,
                                "Survivors": None}
    assert isinstance(dojob.nodeexceptions["Dies"], WorkerLostError)
    assert str(dojob.nodeexceptions["Dies"]) == (
        "the worker process running the try of job 'Dies' died (os._exit, a signal or "
        "out of memory) before the try ended")
    assert {job.name: job.tries for job in dojob.report().jobs}["Dies"] == 1


def test_a_pool_broken_by_an_earlier_run_is_replaced() -> None:
    with ProcessPoolExecutor(1, mp_context=pool_context()) as pool:
        assert run(jobs.Dies, pool).nodestatus == {"Dies": False}
        # The pool the caller gave is broken now; the next run replaces it.
        assert run(jobs.Fine, pool).nodestatus == {"Fine": True}
        assert isinstance(run(jobs.Dies, pool).nodeexceptions["Dies"], WorkerLostError)


class NotingPool(ProcessPoolExecutor):
    """A process pool that notes each instance a task is sent to."""

    sent_to: list[ProcessPoolExecutor] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.sent_to.append(self)
        return super().submit(fn, *args, **kwargs)


def test_a_broken_pool_of_a_subclass_is_replaced_by_one_of_its_class() -> None:
    # dojobber run's pool is such a subclass: its submit starts each
    # worker with the stops held back, the replacement's too.
    with NotingPool(1, mp_context=pool_context()) as pool:
        assert run(jobs.Dies, pool).nodestatus == {"Dies": False}
        assert run(jobs.Fine, pool).nodestatus == {"Fine": True}
    assert [sent is pool for sent in NotingPool.sent_to] == [True, True, False]


def warmed(pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
    """``pool`` with all its processes started: a try sent now starts at once."""
    size = pool._max_workers  # type: ignore[attr-defined]
    for future in [pool.submit(time.sleep, 0.3) for _ in range(size)]:
        future.result()
    return pool


@pytest.mark.parametrize("deps, after, runs, lost", [
    # Alone in flight: it fails, and is not sent again.
    ([jobs.Kills], [], {"Kills": 1}, {"Kills"}),
    # Beside a try that was running: the pool cannot say which try broke
    # it, so both are sent again, each alone; it breaks the pool again.
    ([jobs.Kills, jobs.NotedFirst], ["NotedFirst"], {"Kills": 2, "NotedFirst": 2}, {"Kills"}),
    # Two killers at once: each is sent again alone, and fails.
    ([jobs.Kills, jobs.KillsToo], ["Kills", "KillsToo"], {"Kills": 2, "KillsToo": 2},
     {"Kills", "KillsToo"}),
    # Alone in flight on a pool that replaced one broken earlier in the run
    # and got the tries sent again one at a time (all of them passed):
    # it is not sent again.
    ([jobs.KillsOnce, jobs.KillsLater], ["NotedFirst"],
     {"KillsOnce": 1, "NotedFirst": 2, "NotedThen": 1, "KillsLater": 1}, {"KillsLater"}),
    # The same, with the killer that broke the pool sent again and failing.
    ([jobs.Kills, jobs.KillsLater], ["NotedFirst"],
     {"Kills": 2, "NotedFirst": 2, "NotedThen": 1, "KillsLater": 1}, {"Kills", "KillsLater"}),
])
def test_a_try_that_kills_its_worker_fails_once_in_every_position(
    tmp_path: Path, deps: list[type[dojobber.Job]], after: list[str], runs: dict[str, int],
    lost: set[str],
) -> None:
    log = tmp_path / "ran.log"
    log.touch()
    root = type("Root", (jobs.KillRoot,), {"DEPS": deps})
    with warmed(ProcessPoolExecutor(2, mp_context=pool_context())) as pool:
        dojob = dojobber.DoJobber()
        dojob.configure(root, executor=pool, workers=2)
        dojob.set_args(log=str(log), after=after, nap=0.3)
        dojob.checknrun()
    ran = log.read_text().split()
    assert {name: ran.count(name) for name in set(ran)} == runs
    assert {name: type(error) for name, error in dojob.nodeexceptions.items()} == dict.fromkeys(
        lost, WorkerLostError)
    tries = {job.name: job.tries for job in dojob.report().jobs}
    assert tries == dict.fromkeys(runs, 1) | {"Root": 0}
    assert {name for name, status in dojob.nodestatus.items() if status} == set(runs) - lost


class Unhelpful(Executor):
    """An executor whose every task ends as ``outcome`` says."""

    def __init__(self, outcome: BaseException | None):
        self.outcome = outcome

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        if self.outcome is None:
            future.cancel()
        else:
            future.set_exception(self.outcome)
        return future


@pytest.mark.parametrize("outcome, message", [
    (None, "the executor cancelled the try of job 'Fine'"),
    (RuntimeError("worker gone"),
     "the executor could not run the try of job 'Fine': RuntimeError: worker gone"),
    (BrokenExecutor("gone"), "the executor is broken and cannot be replaced (job 'Fine'): "
     "TypeError: DoJobber only replaces a ProcessPoolExecutor, not <"),
])
def test_an_executor_that_fails_a_task_fails_that_try(
    outcome: BaseException | None, message: str
) -> None:
    dojob = run(jobs.Fine, Unhelpful(outcome), default_tries=2)
    error = dojob.nodeexceptions["Fine"]
    assert isinstance(error, ExecutorError) and str(error).startswith(message)
    assert {job.name: job.tries for job in dojob.report().jobs} == {"Fine": 2}


def test_a_worker_that_cannot_import_the_class_answers_with_that_error() -> None:
    module = types.ModuleType("gone_from_the_worker")
    sys.modules[module.__name__] = module
    Hidden = type("Hidden", (jobs.Fine,), {"__module__": module.__name__})
    module.Hidden = Hidden  # type: ignore[attr-defined]
    class_data = pickle.dumps(Hidden)
    del sys.modules[module.__name__]
    # The task as the caller sends it, to the function each task calls.
    task = pickle.dumps(TryTask(job="Hidden", number=1, no_act=False, timeout=None,
                                log_level=logging.CRITICAL, class_token=None,
                                class_data=class_data, args_data=pickle.dumps(((), {})),
                                storage=[]))
    record = pickle.loads(run_try(task))
    assert record.outcome is dojobber.Outcome.FAILED
    assert [event.event for event in record.events] == ["not_created"]
    error = pickle.loads(record.errors[record.error].data)
    assert str(error).startswith("cannot receive the class of job 'Hidden' in the worker: "
                                 "ModuleNotFoundError: No module named 'gone_from_the_worker'")


def test_a_worker_refuses_a_task_that_is_not_the_fields_of_a_try_task() -> None:
    # A caller of another DoJobber version may send what this one cannot read.
    task = pickle.dumps(("Fine", 1, False, None, pickle.dumps(jobs.Fine), pickle.dumps(((), {})),
                         []))
    with pytest.raises(TypeError, match=r"^not the fields of a TryTask: \('Fine', 1, False"):
        run_try(task)


def test_timeout_applies_in_the_worker(executor: Executor) -> None:
    dojob = run(jobs.Sleeps, executor)
    error = dojob.nodeexceptions["Sleeps"]
    assert isinstance(error, JobTimeoutError)
    assert str(error) == ("job 'Sleeps' timed out during run: the try took longer than "
                          "its TIMEOUT of 0.3 seconds")


def test_a_retry_waits_out_its_delay_while_other_tries_run(executor: Executor) -> None:
    dojob = dojobber.DoJobber()
    dojob.configure(jobs.WaitsBeside, executor=executor, workers=2)
    dojob.checknrun()
    assert dojob.success() and dojob.noderesults["PassesSecond"] == 2
    first, second = {job.name: job.history for job in dojob.report().jobs}["PassesSecond"]
    assert second.start - first.start >= 0.3


def test_fail_fast_starts_nothing_after_a_final_failure(process_pool: Executor) -> None:
    dojob = run(jobs.FailFastRoot, process_pool, workers=1, fail_fast=True)
    assert dojob.nodestatus == {"FailsAtOnce": False, "Fine": None, "FailFastRoot": None}


def test_timeout_counts_from_the_start_in_the_worker_not_the_queue(
    executor: Executor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Eight tries of half a second, TIMEOUT 1.5, on two workers: the last
    wait in the executor's queue longer than their TIMEOUT and the caller's
    backstop together, and pass all the same."""
    monkeypatch.setattr(dojobber.engine.pool, "STUCK_AFTER", 0.1)
    with caplog.at_level(logging.WARNING, logger="DoJobber"):
        dojob = run(jobs.Naps, executor, workers=len(jobs.NAPS))
    assert dojob.nodeexceptions == {}
    assert dojob.success()
    assert caplog.records == []  # no try abandoned, no pool replaced


def test_the_word_of_a_start_reaches_the_caller_and_is_stamped_once() -> None:
    from dojobber.engine.starts import Starts, Word, announce

    readings = iter([10.0, 20.0])
    starts = Starts("127.0.0.1", clock=lambda: next(readings))
    try:
        first, second = starts.expect(), starts.expect()
        assert (first.word.host, first.word.port) == (second.word.host, second.word.port)
        assert (first.word.host, first.word.port) == starts.address
        assert first.word.token != second.word.token  # a token per try
        announce(Word(host="127.0.0.1", port=starts.address[1], token=b"not a token of ours"))
        announce(first.word)
        assert first.heard.wait(30) and first.at == 10.0
        announce(first.word)  # said twice: the first stamp stays
        starts.forget(second)
        announce(second.word)  # forgotten: not heard
        announce(None)  # no TIMEOUT, no word
        third = starts.expect()
        announce(third.word)
        assert third.heard.wait(30) and third.at == 20.0
        assert first.at == 10.0 and not second.heard.is_set()
    finally:
        starts.close()
    assert not starts.thread.is_alive()


@pytest.mark.parametrize("address, host", [
    (None, "127.0.0.1"), ("tcp://127.0.0.1:8786", "127.0.0.1"),
    ("tcp://localhost:8786", "127.0.0.1"), ("tls://[::1]:8786", "127.0.0.1"),
])
def test_workers_of_this_host_say_their_start_on_the_loopback(
    address: str | None, host: str
) -> None:
    from dojobber.engine.starts import listening_host

    client = types.SimpleNamespace(scheduler=types.SimpleNamespace(address=address))
    executor = types.SimpleNamespace(submit=print, _client=client)
    assert listening_host(executor) == host  # type: ignore[arg-type]
    assert listening_host(ThreadPoolExecutor(1)) == "127.0.0.1"


@pytest.mark.parametrize("kind", ["fork", "spawn", "loky"])
def test_timeout_counts_from_the_start_on_pools_of_each_kind(
    kind: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Eight tries of half a second, TIMEOUT 1.5, on two processes started
    by ``kind``, or loky's: they all pass, however long they waited."""
    monkeypatch.setattr(dojobber.engine.pool, "STUCK_AFTER", 0.1)
    dojob = run(jobs.Naps, pool_of(kind, request), workers=len(jobs.NAPS))
    assert dojob.nodeexceptions == {}


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask")
def test_a_try_stuck_past_its_timeout_is_killed_with_its_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dojobber.engine.pool, "STUCK_AFTER", 0.5)
    with ProcessPoolExecutor(2, mp_context=pool_context()) as pool:
        dojob = run(jobs.StuckBesideOthers, pool)
    assert dojob.nodestatus == {"Immune": False, "Beside": True, "AfterBeside": True,
                                "StuckBesideOthers": None}
    assert str(dojob.nodeexceptions["Immune"]) == (
        "job 'Immune' timed out during its try on the executor: the try took longer than "
        "its TIMEOUT of 0.3 seconds")


def test_ctrl_c_in_a_try_stops_the_run_after_cleanups(process_pool: Executor) -> None:
    with pytest.raises(KeyboardInterrupt):
        run(jobs.Interrupts, process_pool)
    assert jobs.CLEANED == [("Interrupts", 0, os.getpid())]


def test_a_broken_executor_that_cannot_be_replaced_fails_each_try() -> None:
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    dojob = run(jobs.MadeSecond, pool, default_tries=1)
    assert dojob.nodestatus == {"MadeFirst": False, "MadeSecond": None}
    assert isinstance(dojob.nodeexceptions["MadeFirst"], ExecutorError)
    assert "the executor refused a try of job 'MadeFirst': RuntimeError: cannot schedule" in str(
        dojob.nodeexceptions["MadeFirst"])


def test_workers_default_to_the_executors_size(dask_executor: Executor) -> None:
    with ThreadPoolExecutor(3) as pool:
        assert executor_size(pool) == 3
    assert executor_size(dask_executor) == 2
    assert executor_size(types.SimpleNamespace(submit=print)) == (os.cpu_count() or 1)  # type: ignore[arg-type]
    lost = types.SimpleNamespace(submit=print, _client=types.SimpleNamespace(nthreads=None))
    assert executor_size(lost) == (os.cpu_count() or 1)  # type: ignore[arg-type]


def test_an_executor_without_submit_is_refused_at_configure() -> None:
    with pytest.raises(dojobber.JobTypeError, match=r"executor must be a concurrent.futures"
                       r".Executor \(an object with submit\(\)\), got 'process'"):
        dojobber.DoJobber().configure(jobs.Fine, executor="process")  # type: ignore[arg-type]


# --- The command line ------------------------------------------------------------

TESTS = os.path.dirname(os.path.abspath(__file__))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m dojobber run ARGS`` in tests/, where executor_jobs is importable."""
    return subprocess.run([sys.executable, "-m", "dojobber", "run", *args], cwd=TESTS,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_cli_executor_runs_each_try_there(kind: str) -> None:
    done = cli("executor_jobs:MadeSecond", "--executor", kind, "--workers", "2", "-v",
               "--json", "-")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[:6] == [
        "MadeFirst.check: fail", "MadeFirst.run: pass", "MadeFirst.recheck: pass",
        "MadeSecond.check: fail", "MadeSecond.run: pass", "MadeSecond.recheck: pass"]
    assert [job["outcome"] for job in json.loads(done.stdout)["jobs"]] == [
        "passed_after_run", "passed_after_run"]


def test_cli_dask_on_a_running_scheduler(dask_executor: Executor) -> None:
    address = dask_executor._client.scheduler.address  # type: ignore[attr-defined]
    done = cli("executor_jobs:AfterBeside", "--executor", "dask", "--scheduler", address)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    # A line per finished job, then the summary.
    assert [line.split(" (")[0] for line in lines[:2]] == [
        "dojobber: Beside passed", "dojobber: AfterBeside passed"]
    assert lines[2].startswith(
        "dojobber: 2 jobs: 2 passed, 0 passed_after_run, 0 failed, 0 blocked (took ")


def test_cli_dask_starts_a_local_cluster_of_n_workers() -> None:
    done = cli("executor_jobs:Forgets", "--executor", "dask", "--workers", "1", "--json", "-")
    assert done.returncode == 0, done.stderr
    assert [job["outcome"] for job in json.loads(done.stdout)["jobs"]] == [
        "passed_after_run", "passed_after_run", "passed"]


def test_cli_dask_without_distributed_says_what_to_install() -> None:
    # As if the dask extra was not installed: importing distributed fails.
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from dojobber.cli import main\n"
            "sys.exit(main(['run', 'executor_jobs:Fine', '--executor', 'dask']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=TESTS, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr == ("dojobber: error: --executor dask needs Dask's distributed: "
                           "pip install 'dojobber[dask]'\n")


def test_cli_scheduler_without_dask_is_a_usage_error() -> None:
    done = cli("executor_jobs:Fine", "--executor", "process", "--scheduler", "tcp://x:1")
    assert done.returncode == 2
    assert done.stderr == "dojobber: error: --scheduler ADDRESS needs --executor dask\n"
    done = cli("executor_jobs:Fine", "--executor", "process", "--workers", "0")
    assert done.returncode == 2
    assert done.stderr == "dojobber: error: workers must be an int >= 1, got 0\n"


SCRIPT_JOBS = '''
import os

from dojobber import DummyJob, Job

# One line each time this script is imported, in whichever process.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imports.log"), "a") as log:
    log.write(f"{os.getpid()}\\n")


def double(n):
    return 2 * n


class Part(Job):
    N = 0

    def Check(self):
        return double(self.N)


Root = type("Root", (DummyJob,), {"DEPS": [type(f"Part{n}", (Part,), {"N": n}) for n in range(4)]})
'''


def test_cli_the_script_travels_and_workers_never_import_it(tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text(SCRIPT_JOBS)
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "run", "jobs.py:Root", "--executor", "process",
         "--workers", "2", "--json", "-"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["jobs"]
    assert [job["outcome"] for job in report] == ["passed"] * 5
    # Imported by the command only: a Dask worker elsewhere could not.
    assert len((tmp_path / "imports.log").read_text().split()) == 1


GROUP_JOBS = '''
import os
import time

from dojobber import DummyJob, Job

HERE = os.path.dirname(os.path.abspath(__file__))


def start(name):
    # One line per try that starts, whichever process it runs in.
    with open(os.path.join(HERE, "starts.log"), "a") as log:
        log.write(name + "\\n")
    time.sleep(5)


class A(Job):
    def Check(self):
        start("A")


class B(Job):
    def Check(self):
        start("B")


class C(Job):
    def Check(self):
        start("C")


class D(Job):
    def Check(self):
        start("D")


class Root(DummyJob):
    DEPS = (A, B, C, D)
'''


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_to_the_process_group_stops_a_process_pool_run(
    tmp_path: Path, workers: str
) -> None:
    """systemd's default stop, or a shell's kill of a job: SIGTERM to the
    whole group, the pool's workers included. The run stops: no try in
    flight is sent again to a new pool, and no other try starts."""
    (tmp_path / "groupjobs.py").write_text(GROUP_JOBS)
    starts = tmp_path / "starts.log"
    command = subprocess.Popen(
        [sys.executable, "-m", "dojobber", "run", "groupjobs:Root", "--executor", "process",
         "--workers", workers], cwd=tmp_path, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        in_flight = int(workers)
        deadline = time.monotonic() + 60
        while not starts.exists() or len(starts.read_text().split()) < in_flight:
            assert time.monotonic() < deadline and command.poll() is None
            time.sleep(0.02)
        os.killpg(command.pid, signal.SIGTERM)
        _, stderr = command.communicate(timeout=120)
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
    assert command.returncode == 143, stderr
    assert stderr.splitlines()[-1] == "dojobber: terminated (SIGTERM)"
    started = starts.read_text().split()
    assert len(started) == in_flight and len(set(started)) == in_flight, started
    assert "the process pool was replaced" not in stderr


class AnswerTakenByCtrlC:
    """The answers' queue of a run, where Ctrl-C lands as the first answer is
    handed over: that answer is gone before the run could count it."""

    def __init__(self) -> None:
        self.inner: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.taken = False

    def put(self, item: Any) -> None:
        self.inner.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        item = self.inner.get(block, timeout)
        if not self.taken:
            self.taken = True
            raise KeyboardInterrupt
        return item

    def empty(self) -> bool:
        return self.inner.empty()


def test_a_run_whose_answer_ctrl_c_took_stops_instead_of_waiting_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dojobber.engine.sending, "SimpleQueue", AnswerTakenByCtrlC)
    ended: list[BaseException] = []

    def run() -> None:
        with ThreadPoolExecutor(2) as pool:
            dojob = dojobber.DoJobber()
            dojob.configure(jobs.Fine, executor=pool, workers=2)
            try:
                dojob.checknrun()
            except BaseException as error:
                ended.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(60)
    assert not runner.is_alive(), "the stopping run waits for an answer that was taken"
    assert len(ended) == 1 and isinstance(ended[0], KeyboardInterrupt)
