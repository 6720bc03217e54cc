"""Text a database cannot hold as it is (issue 33, item 3), shared by the
SQLite and PostgreSQL history tests: what goes in, what the history keeps."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from dojobber.history.store import JOB_COLUMNS, RUN_COLUMNS, Store
from dojobber.history.views import Filters, job_story, runs

#: A file name as os.listdir gives it on a non-UTF-8 disk: a lone surrogate.
SURROGATE = os.fsdecode(b"caf\xe9.conf")
#: A megabyte that no compression shrinks much (a PostgreSQL index would
#: refuse it whole), with text that is not ASCII but that every database holds.
MEGABYTE = "".join(random.Random(33).choices("abcdefghijklmnopqrstuvwxyzé漢 ", k=2**20))
#: Each odd text and what the history stores for it.
ODD_TEXTS = {
    "surrogate": (SURROGATE, "caf\\udce9.conf"),
    "nul": ("before\x00after", "before\\x00after"),
    "megabyte": (MEGABYTE, MEGABYTE),
    "all at once": (SURROGATE + "\x00" + MEGABYTE, "caf\\udce9.conf\\x00" + MEGABYTE),
}
#: The text columns of a run that say where and what it ran.
RUN_TEXT = ("host", "user_name", "directory", "root", "dojobber_version")


#: The same for a PostgreSQL database in LATIN1, which also lacks 漢.
ODD_TEXTS_LATIN1 = {
    "surrogate": (SURROGATE, "caf\\udce9.conf"),
    "nul": ("before\x00after", "before\\x00after"),
    "not latin-1": ("café 漢字", "café \\u6f22\\u5b57"),
}


def write_odd_runs(place: str, texts: dict[str, tuple[str, str]] = ODD_TEXTS) -> dict[str, int]:
    """One run per odd text, that text in every text column of the run (but
    its outcome and settings, which DoJobber writes) and in the name and
    error of its one job; the run ids by kind."""
    ids = {}
    for kind, (odd, _) in texts.items():
        values: dict[str, Any] = {
            "started_at": 1.0, "wall_seconds": 2.0, "outcome": "failed", "no_act": 0,
            "jobs": 1, "passed": 0, "passed_after_run": 0, "failed": 1, "blocked": 0,
            "not_tried": 0, "interrupted": 0, "settings": "{}",
        }
        values.update(dict.fromkeys(RUN_TEXT, odd))
        job = {"seq": 0, "name": odd, "outcome": "failed", "tries": 1, "seconds": 0.5,
               "error": f"OSError: {odd}"}
        with Store(place).open_for_writing() as store:
            ids[kind] = store.write([values[column] for column in RUN_COLUMNS],
                                    [[job[column] for column in JOB_COLUMNS]])
    return ids


def assert_odd_runs_kept_and_found(place: str, ids: dict[str, int],
                                   stored: list[tuple[Any, ...]],
                                   texts: dict[str, tuple[str, str]] = ODD_TEXTS) -> None:
    """``stored``: ``(id, *RUN_TEXT, job name, job error)`` of every run, as the
    database holds them. Each odd text is kept escaped, and the filters
    given the odd text find its run and its job."""
    assert len(stored) == len(texts)
    by_id = {row[0]: row[1:] for row in stored}
    for kind, (odd, escaped) in texts.items():
        expected = (*(escaped,) * len(RUN_TEXT), escaped, f"OSError: {escaped}")
        assert by_id[ids[kind]] == expected, kind
        with Store(place).open_for_reading() as store:
            found = runs(store, Filters(root=odd, host=odd))
            assert [run["id"] for run in found] == [ids[kind]], kind
            assert found[0]["directory"] == escaped, kind
            story = job_story(store, Filters(), odd)
            assert [(entry["run_id"], entry["error"]) for entry in story] == [
                (ids[kind], f"OSError: {escaped}")], kind
            # The escaped text, as the views show it, finds the same.
            assert [run["id"] for run in runs(store, Filters(root=escaped))] == [ids[kind]]
    # From the command line, as the bytes that are not UTF-8 that a shell gives.
    for option in ("--root", "--host", "--job"):
        done = command("history", place, "--json", option, b"caf\xe9.conf", cwd=Path.cwd())
        assert (done.returncode, done.stderr) == (0, b""), option
        key = "run_id" if option == "--job" else "id"
        assert [one[key] for one in json.loads(done.stdout)] == [ids["surrogate"]], option


#: A graph whose job fails with an error holding a lone surrogate, a NUL and a
#: megabyte; a job beside it passes. (A class name cannot hold a surrogate or
#: a NUL: Python refuses it.)
ODD_GRAPH = '''
import os

from dojobber import Job

NAME = os.fsdecode(b"caf\\xe9.conf")


class Fine(Job):
    def Check(self):
        pass


class Odd(Job):
    TRIES = 1

    def Check(self):
        raise OSError(f"cannot read {NAME}: a NUL \\x00 and a tail " + "t" * 2**20)

    def Run(self):
        pass


class Root(Job):
    DEPS = (Fine, Odd)

    def Check(self):
        pass
'''
#: What the history keeps of that error.
ODD_ERROR = "OSError: cannot read caf\\udce9.conf: a NUL \\x00 and a tail " + "t" * 2**20


def command(*args: str | bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``dojobber ARGS`` (bytes given as they are) in a subprocess."""
    env = {**os.environ}
    env.pop("DOJOBBER_HISTORY", None)
    return subprocess.run([sys.executable, "-m", "dojobber", *args], cwd=cwd, env=env,
                          capture_output=True, timeout=300)


def run_the_odd_graph(tmp_path: Path, place: str) -> Path:
    """Run ODD_GRAPH with ``--history place`` from a folder whose name is
    not UTF-8; that folder."""
    graph = tmp_path / "odd.py"
    graph.write_text(ODD_GRAPH, encoding="utf-8")
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/dir\xe9"))
    folder.mkdir()
    done = command("run", f"{graph}:Root", "--history", place, cwd=folder)
    assert done.returncode == 1, done.stderr[-2000:]
    assert b"history" not in done.stderr, done.stderr[-2000:]
    return folder


def assert_the_odd_run_kept_and_found(tmp_path: Path, place: str, folder: Path,
                                      run: tuple[Any, ...], jobs: list[tuple[Any, ...]]) -> None:
    """``run``: the run's ``(directory, root, passed, failed, blocked)``;
    ``jobs``: ``(name, outcome, error)`` of its jobs in order, as the database
    holds them. Every job was kept, the odd text escaped, and the filters
    given bytes that are not UTF-8 find what they name, or say nothing does."""
    escaped_folder = f"{tmp_path}/dir\\udce9"  # tmp_path is ASCII
    assert run == (escaped_folder, "Root", 1, 1, 1)
    assert jobs == [("Fine", "passed", None), ("Odd", "failed", ODD_ERROR),
                    ("Root", "blocked", None)]
    done = command("history", place, "--json", "--job", "Odd", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    (entry,) = json.loads(done.stdout)
    assert (entry["outcome"], entry["error"]) == ("failed", ODD_ERROR)
    done = command("history", place, "--job", b"caf\xe9.conf", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, b"no run has a job named 'caf\\udce9.conf'\n", b"")
    for option in ("--root", "--host"):
        done = command("history", place, option, b"R\xe9", cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (
            0, b"no runs recorded (or none that match)\n", b"")
