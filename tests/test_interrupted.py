"""A try cut short by Ctrl-C or SIGTERM is reported as ``interrupted`` (issue
24, item 8): in the summary, the JSON, the HTML page, the event log and the
run history, in every engine; the jobs after it are blocked, and
``nodestatus`` is what 0.6.2 said."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pytest

import interrupt_jobs as jobs
from dojobber import DoJobber, EventLog, Outcome
from dojobber.eventlog import read_report

TESTS = Path(__file__).resolve().parent


#: The engines, as configure's options: sequential, threads, each under a
#: time limit (an alarm, a helper thread), and each pool.
ENGINES = ["sequential", "threads", "sequential_timeout", "threads_timeout", "thread_pool",
           "process_pool"]


def engine_options(engine: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if engine == "sequential":
        return {}
    if engine == "threads":
        return {"workers": 2}
    if engine == "sequential_timeout":
        return {"default_timeout": 300}
    if engine == "threads_timeout":
        return {"workers": 2, "default_timeout": 300}
    executor: Executor = request.getfixturevalue(engine)
    return {"executor": executor, "workers": 2}


def interrupted_run(root: type, engine: str, request: pytest.FixtureRequest,
                    **options: Any) -> DoJobber:
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0, **engine_options(engine, request), **options)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    return dojob


def html_outcomes(page: str) -> dict[str, str]:
    """Job name -> the outcome its timeline row shows."""
    rows = re.findall(r"<div class='row (\w+)' id=job-\d+><span class=name title='([^']*)'>",
                      page)
    return {name: label for label, name in rows}


# Ctrl-C in a job's own code, in every engine


@pytest.mark.parametrize("engine", ENGINES)
def test_a_try_cut_short_is_interrupted_and_the_jobs_after_it_blocked(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    events = io.StringIO()
    dojob = interrupted_run(jobs.Root, engine, request, observers=[EventLog(events)],
                            history=tmp_path / "history.db")
    # As documented: a try with no outcome leaves the job never "tried".
    assert dojob.nodestatus == {"Ready": True, "Stops": None, "After": None, "Root": None}
    report = dojob.report()
    assert report.interrupted and not report.success
    assert [(job.name, job.outcome, job.tries) for job in report.jobs] == [
        ("Ready", Outcome.PASSED, 1), ("Stops", Outcome.INTERRUPTED, 1),
        ("After", Outcome.BLOCKED, 0), ("Root", Outcome.BLOCKED, 0)]
    assert report["Stops"].error is None
    assert report["Stops"].history[0].outcome is None  # its try has none

    summary = report.summary()
    assert summary[0].startswith(
        "4 jobs: 1 passed, 0 passed_after_run, 0 failed, 1 interrupted, 2 blocked (took ")
    assert summary[1:4] == ["interrupted before the run was over", "interrupted: Stops",
                            "blocked: After, Root"]

    data = report.to_dict()
    assert data["interrupted"] is True
    assert {job["name"]: job["outcome"] for job in data["jobs"]} == {
        "Ready": "passed", "Stops": "interrupted", "After": "blocked", "Root": "blocked"}
    assert html_outcomes(report.to_html()) == {
        "Ready": "passed", "Stops": "interrupted", "After": "blocked", "Root": "blocked"}
    # The picture leaves it plain, as its nodestatus, and its tooltip says why.
    assert dojob.graph.node_attributes("Stops") == []
    assert "interrupted: its try was cut short" in dojob.graph_dot()

    # The event log carries it: a report read back from it says the same.
    rebuilt = read_report(events.getvalue().splitlines())
    assert [(job.name, job.outcome) for job in rebuilt.jobs] == [
        (job.name, job.outcome) for job in report.jobs]
    assert rebuilt.summary()[1:4] == summary[1:4]

    with sqlite3.connect(tmp_path / "history.db") as history:
        assert history.execute("SELECT name, outcome, tries FROM jobs ORDER BY seq").fetchall() == [
            ("Ready", "passed", 1), ("Stops", "interrupted", 1), ("After", "blocked", 0),
            ("Root", "blocked", 0)]
        assert history.execute("SELECT outcome, interrupted, blocked FROM runs").fetchall() == [
            ("interrupted", 1, 2)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_retry_cut_short_is_interrupted_and_keeps_its_failed_status(
    engine: str, request: pytest.FixtureRequest
) -> None:
    dojob = interrupted_run(jobs.RetriedRoot, engine, request)
    # Its first try failed: nodestatus says so, as 0.6.2's did.
    assert dojob.nodestatus == {"Retried": False, "RetriedRoot": None}
    assert str(dojob.nodeexceptions["Retried"]) == "still missing"
    report = dojob.report()
    assert [(job.name, job.outcome, job.tries) for job in report.jobs] == [
        ("Retried", Outcome.INTERRUPTED, 2), ("RetriedRoot", Outcome.BLOCKED, 0)]
    assert [one.outcome for one in report["Retried"].history] == [Outcome.FAILED, None]
    assert report.summary()[1:4] == ["interrupted before the run was over",
                                     "interrupted: Retried", "blocked: RetriedRoot"]
    # The picture's colours follow nodestatus, as in 0.6.2: tried and failed.
    assert ("color", "red") in dojob.graph.node_attributes("Retried")


def test_a_run_no_interrupt_cut_short_reads_as_before() -> None:
    # Ctrl-C during the wait before a retry: no try is under way.
    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    dojob = DoJobber(sleep=ctrl_c)
    dojob.configure(jobs.RetriedRoot, default_retry_delay=5)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    report = dojob.report()
    assert report["Retried"].outcome is Outcome.FAILED
    assert Outcome.INTERRUPTED not in report.counts()
    assert "interrupted" not in report.label_counts()
    lines = report.summary()
    assert lines[0].startswith("2 jobs: 0 passed, 0 passed_after_run, 1 failed, 1 blocked (")
    assert not any(line.startswith("interrupted:") for line in lines)


# A real signal to `dojobber run`


def start(*args: str, nap_dir: Path, nap: str = "60") -> subprocess.Popen[str]:
    """``python -m dojobber run ARGS`` in tests/ (where interrupt_jobs is
    importable), in a session of its own so that a signal can reach its
    whole process group as a terminal's Ctrl-C does. SIGINT is let in even
    when the tests run with it ignored."""
    env = {**os.environ, "NAP_DIR": str(nap_dir), "NAP": nap}
    env.pop("DOJOBBER_HISTORY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "dojobber", "run", *args], cwd=TESTS, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def signalled(process: subprocess.Popen[str], nap_dir: Path, how: signal.Signals,
              group: bool) -> str:
    """Once Naps naps, send ``how`` to the process (or its whole group);
    return its stderr once it ended."""
    deadline = time.monotonic() + 120
    try:
        while not (nap_dir / "napping").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "Naps never started its nap"
            time.sleep(0.02)
        if group:
            os.killpg(process.pid, how)
        else:
            process.send_signal(how)
        return process.communicate(timeout=120)[1]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


STOPS = [(signal.SIGINT, 130, "dojobber: interrupted"),
         (signal.SIGTERM, 143, "dojobber: terminated (SIGTERM)")]


def check_files(tmp_path: Path, naps: str) -> None:
    """The JSON, the HTML page and the history of the run say Naps ended ``naps``."""
    expected = {"Ready": "passed", "Naps": naps, "AfterNap": "blocked", "NapRoot": "blocked"}
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["interrupted"] is True
    assert {job["name"]: job["outcome"] for job in report["jobs"]} == expected
    assert html_outcomes((tmp_path / "out.html").read_text()) == expected
    with sqlite3.connect(tmp_path / "history.db") as history:
        assert dict(history.execute("SELECT name, outcome FROM jobs").fetchall()) == expected


def outputs(tmp_path: Path) -> tuple[str, ...]:
    return ("--json", str(tmp_path / "out.json"), "--html", str(tmp_path / "out.html"),
            "--history", str(tmp_path / "history.db"), "--retry-delay", "0")


@pytest.mark.parametrize(("how", "status", "last"), STOPS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_sequential_try_reports_it_interrupted(
    tmp_path: Path, how: signal.Signals, status: int, last: str
) -> None:
    process = start("interrupt_jobs:NapRoot", *outputs(tmp_path), nap_dir=tmp_path)
    stderr = signalled(process, tmp_path, how, group=False)
    assert process.returncode == status, stderr
    lines = stderr.splitlines()
    assert lines[-1] == last
    assert re.fullmatch(r"dojobber: Naps interrupted \(1 try, .*\)", lines[1]), lines
    summary = lines[lines.index("dojobber: interrupted before the run was over") - 1:]
    assert summary[0].startswith("dojobber: 4 jobs: 1 passed, 0 passed_after_run, 0 failed, "
                                 "1 interrupted, 2 blocked (took ")
    assert summary[2:4] == ["dojobber: interrupted: Naps", "dojobber: blocked: AfterNap, NapRoot"]
    check_files(tmp_path, "interrupted")


@pytest.mark.parametrize(("how", "status", "last"), STOPS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_group_of_a_process_pool_run_reports_it_interrupted(
    tmp_path: Path, how: signal.Signals, status: int, last: str
) -> None:
    # Ctrl-C on a terminal, or systemd's stop: the pool's workers get it too,
    # and the try that was running in one of them is cut short.
    process = start("interrupt_jobs:NapRoot", "--executor", "process", "--workers", "2",
                    *outputs(tmp_path), nap_dir=tmp_path)
    stderr = signalled(process, tmp_path, how, group=True)
    assert process.returncode == status, stderr
    lines = stderr.splitlines()
    assert lines[-1] == last
    assert "dojobber: interrupted: Naps" in lines
    assert "dojobber: blocked: AfterNap, NapRoot" in lines
    check_files(tmp_path, "interrupted")


@pytest.mark.parametrize(("how", "status", "last"), STOPS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_threaded_run_lets_the_running_try_end(
    tmp_path: Path, how: signal.Signals, status: int, last: str
) -> None:
    # In threads a signal reaches only the main thread: the tries under way
    # end as they would have (so they have an outcome of their own), and no
    # other try starts.
    process = start("interrupt_jobs:NapRoot", "--workers", "2", *outputs(tmp_path),
                    nap_dir=tmp_path, nap="1")
    stderr = signalled(process, tmp_path, how, group=True)
    assert process.returncode == status, stderr
    lines = stderr.splitlines()
    assert lines[-1] == last
    assert "dojobber: interrupted before the run was over" in lines
    assert not [line for line in lines if "interrupted:" in line or "1 interrupted" in line]
    assert "dojobber: blocked: AfterNap, NapRoot" in lines
    check_files(tmp_path, "passed_after_run")


def test_dojobber_report_of_an_interrupted_runs_event_log_says_interrupted(
    tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    process = start("interrupt_jobs:NapRoot", "--events", str(events), nap_dir=tmp_path)
    signalled(process, tmp_path, signal.SIGINT, group=False)
    assert process.returncode == 130
    ended = [json.loads(line) for line in events.read_text().splitlines()][-1]
    assert ended["event"] == "run_ended" and ended["outcomes"]["Naps"] == "interrupted"
    done = subprocess.run([sys.executable, "-m", "dojobber", "report", str(events)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("dojobber: 4 jobs: 1 passed, 0 passed_after_run, 0 failed, "
                               "1 interrupted, 2 blocked (took ")
    assert lines[1:4] == ["dojobber: interrupted before the run was over",
                          "dojobber: interrupted: Naps", "dojobber: blocked: AfterNap, NapRoot"]


def test_fail_fast_does_not_call_an_interrupted_job_not_tried() -> None:
    import threading

    from dojobber import DummyJob, Job, Observer

    started, failed = threading.Event(), threading.Event()

    class Fails(Job):
        TRIES = 1

        def Check(self) -> None:
            assert started.wait(60)  # both tries run at once
            raise RuntimeError("broken")

        def Run(self) -> None:
            pass

    class Stops(Job):
        def Check(self) -> None:
            started.set()
            # Ctrl-C in this try once fail-fast has stopped the run.
            assert failed.wait(60)
            raise KeyboardInterrupt

    class AfterStops(DummyJob):
        DEPS = (Stops,)

    class Top(DummyJob):
        DEPS = (Fails, AfterStops)

    class Told(Observer):
        def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
            if job == "Fails":
                failed.set()

    dojob = DoJobber()
    dojob.configure(Top, workers=2, fail_fast=True, observers=[Told()])
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    report = dojob.report()
    assert report.stopped_by == "Fails" and report.not_tried == []
    assert [(job.name, job.outcome) for job in report.jobs] == [
        ("Fails", Outcome.FAILED), ("Stops", Outcome.INTERRUPTED),
        ("AfterStops", Outcome.BLOCKED), ("Top", Outcome.BLOCKED)]
    assert report.summary()[1:6] == [
        "interrupted before the run was over", "fail-fast: stopped when Fails failed",
        "failed: Fails after 1 try: RuntimeError: broken", "interrupted: Stops",
        "blocked: AfterStops, Top"]
