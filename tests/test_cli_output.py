"""The command's output cannot be written: one line on stderr, exit status 1.

stdout or stderr closed, a pipe whose reader went away (also in the middle
of the JSON report), a full disk: never a traceback, never exit status 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
EXAMPLE = TESTS / "dojobber_example.py"
FULL = "OSError: [Errno 28] No space left on device"
BROKEN = "BrokenPipeError: [Errno 32] Broken pipe"

JOBS = '''
import sys
from dojobber import DummyJob, Job


class Leaf(Job):
    def Check(self):
        pass

    def Cleanup(self):
        pass


class Root(Job):
    DEPS = [Leaf]

    def Check(self):
        pass


Big = type("Big", (DummyJob,), {"DEPS": [type(f"Job{k}", (DummyJob,), {}) for k in range(5000)]})


class Unspeakable(Exception):
    def __str__(self):
        raise SystemExit("not even a message")


class HostileCleanup(Job):
    def Check(self):
        pass

    def Cleanup(self):
        raise Unspeakable()


class ExitingCleanup(Job):
    DEPS = [HostileCleanup]

    def Check(self):
        pass

    def Cleanup(self):
        sys.exit(3)
'''


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(JOBS)
    return tmp_path


def dojobber(*args: str, cwd: Path, **streams: Any) -> subprocess.CompletedProcess[str]:
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    options.update(streams)
    return subprocess.run([sys.executable, "-m", "dojobber", *args], cwd=cwd, text=True,
                          timeout=120, check=False, **options)


def closing(fd: int) -> dict[str, Any]:
    """Start the command with file descriptor ``fd`` closed (``>&-``, ``2>&-``)."""
    return {"preexec_fn": lambda: os.close(fd)}


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    """Assert exit status 1 and no traceback; return the last stderr line."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    return done.stderr.splitlines()[-1]


def summary_head(done: subprocess.CompletedProcess[str]) -> str:
    """The summary's first line (after the lines per finished job)."""
    return next(line for line in done.stderr.splitlines() if " jobs: " in line)


def test_json_to_a_closed_stdout(work: Path) -> None:
    done = dojobber("run", "jobs.py:Root", "--json", "-", cwd=work, stdout=None, **closing(1))
    assert last_line(done) == "dojobber: error: cannot write to stdout: it is closed"
    # The run itself went well, and the summary says so.
    assert summary_head(done).startswith("dojobber: 2 jobs: 2 passed")


def test_a_pipe_closed_while_the_json_is_written(work: Path) -> None:
    # stderr into a file: its line per finished job (5001 of them) would
    # fill a pipe nobody reads while stdout is being read.
    with open(work / "stderr", "w+b") as stderr:
        reader = subprocess.Popen([sys.executable, "-m", "dojobber", "run", "jobs.py:Big",
                                   "--json", "-"], cwd=work, stdout=subprocess.PIPE,
                                  stderr=stderr)
        assert reader.stdout is not None
        assert reader.stdout.read(20) == b'{\n  "success": true,'  # like `| head -c 20`
        reader.stdout.close()
        assert reader.wait(timeout=120) == 1
        stderr.seek(0)
        error = stderr.read().decode()
    assert error.splitlines()[-1] == f"dojobber: error: cannot write to stdout: {BROKEN}"
    assert "Traceback" not in error and "Exception ignored" not in error


def test_json_file_on_a_full_disk(work: Path) -> None:
    done = dojobber("run", "jobs.py:Root", "--json", "/dev/full", cwd=work)
    assert last_line(done) == f"dojobber: error: cannot write to /dev/full: {FULL}"
    assert summary_head(done).startswith("dojobber: 2 jobs: 2 passed")


@pytest.mark.parametrize("how", ["closed", "full", "broken"])
def test_list_cannot_write_its_lines(how: str, work: Path) -> None:
    if how == "closed":
        done = dojobber("list", "jobs.py:Big", cwd=work, stdout=None, **closing(1))
        reason = "it is closed"
    elif how == "full":
        with open("/dev/full", "w") as full:
            done = dojobber("list", "jobs.py:Big", cwd=work, stdout=full)
        reason = FULL
    else:
        read, write = os.pipe()
        os.close(read)
        try:
            done = dojobber("list", "jobs.py:Big", cwd=work, stdout=write)
        finally:
            os.close(write)
        reason = BROKEN
    assert last_line(done) == f"dojobber: error: cannot write to stdout: {reason}"
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_into_a_closed_stdout(option: str, work: Path) -> None:
    done = dojobber(option, cwd=work, stdout=None, **closing(1))
    assert last_line(done) == "dojobber: error: cannot write to stdout: it is closed"


@pytest.mark.parametrize("how", ["closed", "broken", "full"])
@pytest.mark.parametrize("workers", ["1", "3"])
def test_verbose_lines_into_a_broken_stderr_change_nothing_but_the_status(
    how: str, workers: str, work: Path,
) -> None:
    """The verbose printer fails at its first line; the run goes on (the
    JSON report shows it), and the exit status says that output was lost."""
    args = ["run", "jobs.py:Root", "-v", "--workers", workers, "--json", "report.json"]
    if how == "closed":
        done = dojobber(*args, cwd=work, stderr=None, **closing(2))
    elif how == "full":
        with open("/dev/full", "w") as full:
            done = dojobber(*args, cwd=work, stderr=full)
    else:
        read, write = os.pipe()
        os.close(read)
        try:
            done = dojobber(*args, cwd=work, stderr=write)
        finally:
            os.close(write)
    assert done.returncode == 1
    report = json.loads((work / "report.json").read_text())
    assert report["success"] is True
    assert [job["outcome"] for job in report["jobs"]] == ["passed", "passed"]
    assert report["cleanup_errors"] == []
    [failure] = report["observer_errors"]
    assert failure["observer"] == "dojobber.output.VerbosePrinter"
    assert failure["event"] == "phase_ended"


def test_a_cleanup_error_that_cannot_be_shown_is_one_summary_line(work: Path) -> None:
    done = dojobber("run", "jobs.py:ExitingCleanup", "--json", "-", cwd=work)
    lines = done.stderr.splitlines()
    assert last_line(done) == lines[-1]
    # Both Cleanups ran (newest first), each failure is listed.
    assert lines[2:4] == [
        'ExitingCleanup.cleanup: fail "3"',
        'HostileCleanup.cleanup: fail "<Unspeakable: str() failed>"',
    ]
    assert lines[-2:] == [
        "dojobber: cleanup failed: ExitingCleanup: SystemExit: 3",
        "dojobber: cleanup failed: HostileCleanup: jobs.Unspeakable: <Unspeakable: str() failed>",
    ]
    report = json.loads(done.stdout)
    assert report["success"] is True
    assert [e["job"] for e in report["cleanup_errors"]] == ["ExitingCleanup", "HostileCleanup"]


SCENARIOS = {
    "default": ["--arg", "movie=Noises Off"],
    "success": ["--arg", "movie=MST3K", "--arg", "battery_state=charged",
                "--arg", "couch_space=true"],
    "no-act": ["-n", "--arg", "movie=Noises Off"],
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_example_report_into_a_broken_pipe(scenario: str, tmp_path: Path) -> None:
    args = ["run", f"{EXAMPLE}:WatchMovie", "-v", "--retry-delay", "0", "--json", "-",
            *SCENARIOS[scenario]]
    whole = dojobber(*args, cwd=tmp_path)
    assert whole.returncode == {"success": 0, "default": 1, "no-act": 3}[scenario]
    read, write = os.pipe()
    os.close(read)
    try:
        done = dojobber(*args, cwd=tmp_path, stdout=write)
    finally:
        os.close(write)
    assert last_line(done) == f"dojobber: error: cannot write to stdout: {BROKEN}"
    # The verbose lines are the same: the run was not changed.
    def verbose(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("dojobber: ")]

    assert verbose(done.stderr) == verbose(whole.stderr) != []


@pytest.mark.parametrize("command", [["graph", "jobs.py:Root", "-o"], ["run", "jobs.py:Root",
                                                                        "--graph"]])
def test_a_picture_on_a_full_disk(command: list[str], work: Path) -> None:
    (work / "picture.dot").symlink_to("/dev/full")
    done = dojobber(*command, "picture.dot", cwd=work)
    assert last_line(done) == f"dojobber: error: cannot write to picture.dot: {FULL}"


def test_a_short_listing_into_a_broken_pipe_leaves_nothing_for_exit(work: Path) -> None:
    """The two lines stay in the stream's buffer when its flush fails; they
    must not make Python print an error when it flushes them at exit."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = dojobber("list", "jobs.py:Root", cwd=work, stdout=write)
    finally:
        os.close(write)
    assert done.stderr == f"dojobber: error: cannot write to stdout: {BROKEN}\n"
    assert done.returncode == 1


# Issue 25: exit status 1 and one line for every output the command was given.

SURROGATE_JOBS = '''
from dojobber import Job


class Odd(Job):
    TRIES = 1

    def Check(self):
        raise RuntimeError("bad \\ud800 text")
'''


@pytest.mark.parametrize("option", ["--events", "--log-file"])
def test_a_run_file_on_a_full_disk(work: Path, option: str) -> None:
    done = dojobber("run", "jobs.py:Root", option, "/dev/full", cwd=work)
    assert last_line(done) == f"dojobber: error: cannot write to /dev/full: {FULL}"
    assert done.stderr.count("dojobber: error:") == 1


def test_events_to_a_closed_stdout(work: Path) -> None:
    done = dojobber("run", "jobs.py:Root", "--events", "-", cwd=work, stdout=None,
                    **closing(1))
    assert last_line(done) == "dojobber: error: cannot write to stdout: it is closed"
    assert " jobs: " not in done.stderr  # nothing ran whose events would be lost


@pytest.mark.parametrize("how", ["closed", "full", "broken"])
def test_report_cannot_write_its_summary(how: str, work: Path) -> None:
    ran = dojobber("run", "jobs.py:Root", "--events", "events.jsonl", cwd=work)
    assert ran.returncode == 0, ran.stderr
    if how == "closed":
        done = dojobber("report", "events.jsonl", cwd=work, stdout=None, **closing(1))
        reason = "it is closed"
    elif how == "full":
        with open("/dev/full", "w") as full:
            done = dojobber("report", "events.jsonl", cwd=work, stdout=full)
        reason = FULL
    else:
        read, write = os.pipe()
        os.close(read)
        try:
            done = dojobber("report", "events.jsonl", cwd=work, stdout=write)
        finally:
            os.close(write)
        reason = BROKEN
    assert last_line(done) == f"dojobber: error: cannot write to stdout: {reason}"
    assert len(done.stderr.splitlines()) == 1


def test_the_log_file_survives_a_lone_surrogate(work: Path) -> None:
    (work / "odd.py").write_text(SURROGATE_JOBS)
    done = dojobber("run", "odd.py:Odd", "--log-file", "run.log", cwd=work)
    assert done.returncode == 1, done.stderr
    expected = ("dojobber: failed: Odd after 1 try: RuntimeError: bad \\ud800 text "
                "(Run raised AttributeError: 'Odd' object has no attribute 'Run')")
    log = (work / "run.log").read_text(encoding="utf-8").splitlines()
    assert log[0].startswith("dojobber: Odd failed (1 try, ")
    assert expected in log
    assert not any("switched off" in line or "cannot write" in line for line in log)
    assert expected in done.stderr.splitlines()


HOSTILE_JOBS = '''
from dojobber import DummyJob

Evil = type("Evil\\x1b[2J\\x1b]0;owned\\x07", (DummyJob,), {})
Root = type("Root", (DummyJob,), {"DEPS": (Evil,)})
'''


def test_list_shows_names_escaped(work: Path) -> None:
    (work / "hostile.py").write_text(HOSTILE_JOBS)
    done = dojobber("list", "hostile.py:Root", cwd=work)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Evil\\x1b[2J\\x1b]0;owned\\x07\nRoot <- Evil\\x1b[2J\\x1b]0;owned\\x07\n"
