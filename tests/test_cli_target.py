"""Importing the target, driven in real ``python -m dojobber`` subprocesses:
whatever the file is called, whatever lies beside it and whatever it does
while imported, the command runs it or says why not in one line, exit 2
(issue 33, item 6)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dojobber import render
from test_history_postgres import postgres_programs, psycopg
from test_history_postgres import database as database  # noqa: F401  (fixtures)
from test_history_postgres import server as server  # noqa: F401

# Mark's Check leaves a mark, so that a test can tell whether a job ran.
JOBS = '''
from dojobber import DummyJob, Job, RunonlyJob


class Mark(Job):
    def Check(self, *args, **kwargs):
        open(MARK, "a").close()


class Fix(RunonlyJob):
    def Run(self, *args, **kwargs):
        pass


class Broken(Job):
    TRIES = 1

    def Check(self, *args, **kwargs):
        raise ValueError("broken for good")

    def Run(self, *args, **kwargs):
        pass


class Root(DummyJob):
    DEPS = (Mark, Fix, Broken)
'''

# A stand-in for a module, beside the target: it says it was imported.
SHADOW = '''
open(__file__ + ".imported", "w").close()
raise ImportError(__name__ + " beside the target was imported")
'''

# Every standard module, and what the command's pictures and pools import.
SHADOWED = sorted(set(sys.stdlib_module_names) | {"pydot", "pyparsing", "pygraph", "cloudpickle"})


def write_jobs(folder: Path, name: str = "deploy.py", text: str = JOBS) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / name
    target.write_text(f"MARK = {str(folder.parent / 'ran')!r}\n" + text, encoding="utf-8")
    return target


def dojobber(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dojobber", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one line of a command that ended with status 2."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("engine", [
    pytest.param([], id="sequential"),
    # No Graphviz program: the pictures are drawn in-process.
    pytest.param(["--no-graphviz"], id="in-process-pictures"),
    pytest.param(["--workers", "2"], id="threads"),
    pytest.param(["--executor", "thread", "--workers", "2"], id="thread-pool"),
    pytest.param(["--executor", "process", "--workers", "2"], id="process-pool"),
])
def test_no_file_beside_the_target_replaces_a_module_the_command_needs(
    tmp_path: Path, engine: list[str]
) -> None:
    """json.py beside the jobs made the report die after the run (and
    --history record nothing); so would any standard module's name."""
    folder = tmp_path / "jobs"
    write_jobs(folder)
    for name in SHADOWED:
        (folder / f"{name}.py").write_text(SHADOW, encoding="utf-8")
    env = None
    if engine == ["--no-graphviz"]:
        engine, env = [], {**os.environ, "PATH": str(tmp_path / "no-programs")}
        if not render.wasm_available("png"):
            pytest.skip("the in-process renderer is not installed")
    graph = "out.png" if env else "out.dot"
    done = dojobber("run", "jobs/deploy.py:Root", *engine, "--json", "out.json",
                    "--html", "out.html", "--events", "events.jsonl", "--log-file", "log.txt",
                    "--history", "runs.db", "--graph", graph, "--timeout", "60",
                    cwd=tmp_path, env=env)
    assert sorted(path.name for path in folder.glob("*.imported")) == [], done.stderr
    assert done.returncode == 1, done.stderr  # Broken failed
    assert "Traceback" not in done.stderr
    summary = "dojobber: 4 jobs: 1 passed, 1 passed_after_run, 1 failed, 1 blocked"
    assert summary in done.stderr
    assert "dojobber: failed: Broken after 1 try: ValueError: broken for good" in done.stderr
    report = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert {job["name"]: job["outcome"] for job in report["jobs"]} == {
        "Mark": "passed", "Fix": "passed_after_run", "Broken": "failed", "Root": "blocked"}
    assert "history_error" not in report
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "broken for good" in page
    events = [json.loads(line) for line in
              (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (events[0]["event"], events[-1]["event"]) == ("run_started", "run_ended")
    assert summary in (tmp_path / "log.txt").read_text(encoding="utf-8")
    picture = (tmp_path / graph).read_bytes()
    assert picture.startswith(b"\x89PNG" if env else b"digraph")
    with sqlite3.connect(tmp_path / "runs.db") as history:
        assert history.execute("SELECT root, jobs, passed, passed_after_run, failed FROM runs"
                               ).fetchall() == [("Root", 4, 1, 1, 1)]


@pytest.mark.skipif(postgres_programs() is None or psycopg is None,
                    reason="PostgreSQL's initdb and pg_ctl, or psycopg, are not installed")
def test_nor_one_that_a_postgresql_history_needs(tmp_path: Path, database: str) -> None:
    folder = tmp_path / "jobs"
    write_jobs(folder)
    for name in SHADOWED:
        (folder / f"{name}.py").write_text(SHADOW, encoding="utf-8")
    done = dojobber("run", "jobs/deploy.py:Root", "--history", database, "--json", "out.json",
                    cwd=tmp_path)
    assert sorted(path.name for path in folder.glob("*.imported")) == [], done.stderr
    assert done.returncode == 1, done.stderr  # Broken failed
    assert "history_error" not in json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    with psycopg.connect(database) as connection:
        assert connection.execute("SELECT root, jobs, failed FROM runs").fetchall() == [
            ("Root", 4, 1)]


@pytest.mark.parametrize("picture", ["out.dot", "out.png"])
def test_nor_one_that_graph_and_list_need(tmp_path: Path, picture: str) -> None:
    folder = tmp_path / "jobs"
    write_jobs(folder)
    for name in SHADOWED:
        (folder / f"{name}.py").write_text(SHADOW, encoding="utf-8")
    env = None
    if picture == "out.png":  # no Graphviz program: drawn in-process
        env = {**os.environ, "PATH": str(tmp_path / "no-programs")}
        if not render.wasm_available("png"):
            pytest.skip("the in-process renderer is not installed")
    drawn = dojobber("graph", "jobs/deploy.py:Root", "-o", picture, cwd=tmp_path, env=env)
    listed = dojobber("list", "jobs/deploy.py:Rot", cwd=tmp_path)
    assert sorted(path.name for path in folder.glob("*.imported")) == [], drawn.stderr
    assert drawn.returncode == 0, drawn.stderr
    assert (tmp_path / picture).read_bytes().startswith(
        b"\x89PNG" if env else b"digraph")
    assert refused(listed) == (
        "dojobber: error: jobs/deploy.py has no attribute 'Rot'; did you mean 'Root'?")


@pytest.mark.parametrize("name", ["json", "html", "logging", "sqlite3", "site"])
def test_a_target_named_like_a_standard_module_is_refused_before_any_job_runs(
    tmp_path: Path, name: str
) -> None:
    """Its folder first on sys.path would make it the standard module for
    all the command imports after it, whether or not that was loaded."""
    write_jobs(tmp_path / "jobs", f"{name}.py")
    done = dojobber("run", f"jobs/{name}.py:Root", "--json", "out.json", "--history",
                    "runs.db", cwd=tmp_path)
    assert refused(done) == (
        f"dojobber: error: cannot import jobs/{name}.py as module {name!r}: that is the "
        "name of a standard module; rename it")
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "out.json").exists()
    assert not (tmp_path / "runs.db").exists()


@pytest.mark.parametrize("command", [["graph"], ["list"]])
def test_graph_and_list_refuse_it_too(tmp_path: Path, command: list[str]) -> None:
    write_jobs(tmp_path / "jobs", "json.py")
    done = dojobber(*command, "jobs/json.py:Root", cwd=tmp_path)
    assert refused(done) == (
        "dojobber: error: cannot import jobs/json.py as module 'json': that is the "
        "name of a standard module; rename it")


IMPORT_FAILS = [
    pytest.param("import sys\nsys.exit(3)\n", "importing {where} failed: it called sys.exit(3)",
                 id="exit-3"),
    pytest.param("import sys\nsys.exit('bye')\n",
                 "importing {where} failed: it called sys.exit('bye')", id="exit-text"),
    pytest.param("raise SystemExit\n", "importing {where} failed: it called sys.exit()",
                 id="exit-none"),
    pytest.param("class Stop(BaseException):\n    pass\nraise Stop('now')\n",
                 "importing {where} failed: Stop: now", id="base-exception"),
    pytest.param("def __getattr__(name):\n    raise RuntimeError('no ' + name + ' here')\n",
                 "looking up 'Gone' in {where} failed: RuntimeError: no Gone here",
                 id="getattr-raises"),
    pytest.param("def __getattr__(name):\n    raise SystemExit(4)\n",
                 "looking up 'Gone' in {where} failed: it called sys.exit(4)",
                 id="getattr-exits"),
]


@pytest.mark.parametrize(("code", "says"), IMPORT_FAILS)
@pytest.mark.parametrize("command", ["run", "graph", "list"])
def test_what_the_target_does_while_imported_is_one_line_naming_it(
    tmp_path: Path, code: str, says: str, command: str
) -> None:
    """sys.exit(3) there exited 3 ("a dry run found jobs that would run")
    without a word; an exception that is no Exception, or raised by the
    module's __getattr__, was a traceback."""
    write_jobs(tmp_path / "jobs", "quits.py", JOBS + code)
    done = dojobber(command, "jobs/quits.py:Gone", cwd=tmp_path)
    assert refused(done) == "dojobber: error: " + says.format(where="jobs/quits.py")
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize(("code", "says"), IMPORT_FAILS[:4])
def test_so_is_what_a_module_target_does(tmp_path: Path, code: str, says: str) -> None:
    (tmp_path / "quits.py").write_text(textwrap.dedent(code), encoding="utf-8")
    done = dojobber("run", "quits:Root", cwd=tmp_path)
    assert refused(done) == "dojobber: error: " + says.format(where="quits")


def test_more_process_workers_than_a_pool_can_have_is_one_line(tmp_path: Path) -> None:
    """2147483648 was an OverflowError from the pool's semaphore, exit 1."""
    from concurrent.futures.process import EXTRA_QUEUED_CALLS
    from multiprocessing.synchronize import SEM_VALUE_MAX

    write_jobs(tmp_path / "jobs")
    done = dojobber("run", "jobs/deploy.py:Root", "--executor", "process",
                    "--workers", "2147483648", cwd=tmp_path)
    assert refused(done) == (
        "dojobber: error: --workers 2147483648 is more than --executor process can start: "
        f"at most {SEM_VALUE_MAX - EXTRA_QUEUED_CALLS}")
    assert not (tmp_path / "ran").exists()
