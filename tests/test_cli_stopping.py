"""SIGTERM and Ctrl-C once the jobs are over: the Cleanups all run and the
reports are written whole before the command stops (issue 25); report files
are replaced whole or not at all."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

JOBS = '''
import os
import time

from dojobber import DummyJob, Job

HERE = os.path.dirname(os.path.abspath(__file__))


def mark(name):
    with open(os.path.join(HERE, "marks"), "a") as marks:
        marks.write(name + "\\n")


def tidy(name):
    def cleanup(self):
        mark("start " + name)
        time.sleep(1)
        mark("end " + name)
    return cleanup


class One(Job):
    def Check(self):
        pass
    Cleanup = tidy("One")


class Two(Job):
    def Check(self):
        pass
    Cleanup = tidy("Two")


class Three(Job):
    def Check(self):
        pass
    Cleanup = tidy("Three")


class Tidy(DummyJob):
    DEPS = (One, Two, Three)


Big = type("Big", (DummyJob,), {"DEPS": [type(f"Job{k}", (DummyJob,), {}) for k in range(30000)]})
'''


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "stopjobs.py").write_text(JOBS, encoding="utf-8")
    return tmp_path


def start(work: Path, *args: str) -> subprocess.Popen[str]:
    # stderr into a file: a line per finished job (30,001 of them) would
    # fill a pipe nobody reads while the test waits.
    with open(work.parent / f"{work.name}.stderr", "w") as stderr:
        return subprocess.Popen([sys.executable, "-m", "dojobber", "run", *args], cwd=work,
                                stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def wait_for(process: subprocess.Popen[str], ready: object) -> None:
    """Until ``ready()`` is true; the test fails if the command ends first."""
    deadline = time.monotonic() + 120
    while not ready():  # type: ignore[operator]
        assert process.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.01)


def finish(process: subprocess.Popen[str], work: Path) -> str:
    try:
        process.wait(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    return (work.parent / f"{work.name}.stderr").read_text()


def test_sigterm_during_the_cleanups_lets_every_cleanup_run(work: Path) -> None:
    marks = work / "marks"
    process = start(work, "stopjobs:Tidy", "--json", "out.json")
    wait_for(process, lambda: marks.exists() and marks.read_text().startswith("start"))
    process.send_signal(signal.SIGTERM)
    stderr = finish(process, work)
    assert process.returncode == 143, stderr
    assert stderr.splitlines()[-1] == "dojobber: terminated (SIGTERM)"
    # Newest first, each to its end.
    assert marks.read_text().split("\n")[:-1] == [
        "start Three", "end Three", "start Two", "end Two", "start One", "end One"]
    report = json.loads((work / "out.json").read_text())
    assert report["success"] is True


class RunEnded:
    """Whether the event log has the run's end yet, reading each byte once
    (the log grows to megabytes, its last line alone to hundreds of KB)."""

    def __init__(self, events: Path):
        self.events = events
        self.read = 0
        self.tail = b""

    def __call__(self) -> bool:
        if not self.events.exists():
            return False
        with open(self.events, "rb") as log:
            log.seek(self.read)
            new = log.read()
        self.read += len(new)
        self.tail = self.tail[-64:] + new
        return b'"event": "run_ended"' in self.tail


@pytest.mark.parametrize(("signum", "status", "line"), [
    (signal.SIGTERM, 143, "dojobber: terminated (SIGTERM)"),
    (signal.SIGINT, 130, "dojobber: interrupted"),
])
def test_a_stop_after_the_jobs_lets_the_reports_be_written_whole(
    work: Path, signum: int, status: int, line: str
) -> None:
    (work / "out.json").write_text("the last run's report\n")
    events = work / "events.jsonl"
    process = start(work, "stopjobs:Big", "--events", "events.jsonl", "--json", "out.json",
                    "--html", "out.html")
    wait_for(process, RunEnded(events))
    process.send_signal(signum)
    stderr = finish(process, work)
    assert process.returncode == status, stderr
    assert stderr.splitlines()[-1] == line
    assert any(text.startswith("dojobber: 30001 jobs: ") for text in stderr.splitlines())
    report = json.loads((work / "out.json").read_text())
    assert len(report["jobs"]) == 30001
    assert (work / "out.html").read_text().rstrip().endswith("</html>")
    assert sorted(path.name for path in work.iterdir()) == [
        "events.jsonl", "out.html", "out.json", "stopjobs.py"] + (
        ["__pycache__"] if (work / "__pycache__").exists() else [])


def test_a_second_ctrl_c_while_the_reports_are_written_stops_at_once(work: Path) -> None:
    (work / "out.json").write_text("the last run's report\n")
    events = work / "events.jsonl"
    process = start(work, "stopjobs:Big", "--events", "events.jsonl", "--json", "out.json",
                    "--html", "out.html")
    wait_for(process, RunEnded(events))
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)  # not a measure: the second press comes a moment after the first
    process.send_signal(signal.SIGINT)
    finish(process, work)
    assert process.returncode != 0
    # Whatever was being written when it stopped: a whole file or the old one.
    text = (work / "out.json").read_text()
    assert text == "the last run's report\n" or len(json.loads(text)["jobs"]) == 30001
    assert not [path for path in work.iterdir() if path.name.endswith(".part")]


# write_file


def test_a_report_file_is_replaced_whole_and_keeps_its_mode(work: Path) -> None:
    from dojobber.command.writing import write_file

    target = work / "out.json"
    target.write_text("old\n")
    target.chmod(0o640)
    write_file(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    fresh = work / "fresh.html"
    umask = os.umask(0o027)
    try:
        write_file(str(fresh), b"<html></html>\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
    assert sorted(p.name for p in work.iterdir()) == ["fresh.html", "out.json", "stopjobs.py"]


def test_a_device_is_written_directly(work: Path) -> None:
    from dojobber.command.exits import OutputError
    from dojobber.command.writing import write_file

    write_file(os.devnull, "nothing\n")
    assert os.path.exists(os.devnull) and not stat.S_ISREG(os.stat(os.devnull).st_mode)
    with pytest.raises(OutputError, match="cannot write to /dev/full: OSError: .*No space"):
        write_file("/dev/full", "too much\n")


def test_a_failed_write_leaves_the_old_file_and_nothing_beside_it(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dojobber.command import writing
    from dojobber.command.exits import OutputError

    target = work / "out.json"
    target.write_text("old\n")

    def full(buffer: object, whole: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writing, "_write_bytes", full)
    with pytest.raises(OutputError, match="No space left on device"):
        writing.write_file(str(target), "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in work.iterdir()) == ["out.json", "stopjobs.py"]
