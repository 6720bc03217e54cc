"""What an operator sees: job lines, honest dry runs, events, clean stops, hints."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dojobber import DoJobber, DummyJob, EventLog, Job, Observer, Outcome
from dojobber.eventlog import read_report
from dojobber.joblines import JobLines
from test_cli import (  # noqa: F401
    dojobber,
    one_line_error,
    run_on_terminal,
    start,
    stopped,
    wait_for,
    work,
)

# A job file for the operator's view: Fetch's Run fails for a reason the
# recheck does not tell; Shout's message tries to clear the screen; Slow
# naps and leaves marks so that a test can signal it mid-run.
OPS = '''
import os
import time

from dojobber import DummyJob, Job


class Fetch(Job):
    TRIES = 2

    def Check(self, *args, **kwargs):
        if not kwargs.get("fetched"):
            raise FileNotFoundError("alpha.txt not downloaded")

    def Run(self, *args, **kwargs):
        raise ConnectionRefusedError("Connection refused")


class Shout(Job):
    TRIES = 1

    def Check(self, *args, **kwargs):
        if kwargs.get("shout"):
            raise ValueError("clear\\x1b[2Jscreen\\nand more")

    def Run(self, *args, **kwargs):
        pass


class Slow(Job):
    def Check(self, *args, **kwargs):
        if kwargs.get("nap"):
            open("napping", "a").close()
            time.sleep(kwargs["nap"])

    def Cleanup(self):
        with open("cleaned", "a") as out:
            out.write("Slow\\n")


class Side(Job):
    def Check(self, *args, **kwargs):
        if kwargs.get("nap"):
            time.sleep(kwargs["nap"])


class Root(DummyJob):
    DEPS = (Fetch, Shout, Slow)


class After(Job):
    DEPS = (Slow,)

    def Check(self, *args, **kwargs):
        pass


class Wide(DummyJob):
    DEPS = (Slow, Side, After)


class Lower(Job):
    def check(self, *args, **kwargs):
        pass
'''


@pytest.fixture
def ops(tmp_path: Path) -> Path:
    (tmp_path / "ops.py").write_text(OPS)
    return tmp_path


# The summary and the job lines name the Run's error


def test_failed_run_names_the_runs_error_in_lines_summary_and_json(ops: Path) -> None:
    done = dojobber("run", "ops.py:Root", "--retry-delay", "0", "--json", "-", cwd=ops)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    cause = ("FileNotFoundError: alpha.txt not downloaded "
             "(Run raised ConnectionRefusedError: Connection refused)")
    [fetch] = [line for line in lines if line.startswith("dojobber: Fetch ")]
    assert fetch.startswith("dojobber: Fetch failed (2 tries, ") and fetch.endswith("): " + cause)
    assert "dojobber: failed: Fetch after 2 tries: " + cause in lines
    history = {job["name"]: job for job in json.loads(done.stdout)["jobs"]}["Fetch"]["history"]
    assert [p["error"]["type"] for p in history[1]["phases"]] == [
        "FileNotFoundError", "ConnectionRefusedError", "FileNotFoundError"]


def test_job_text_is_escaped_before_it_reaches_the_terminal(ops: Path) -> None:
    piped = dojobber("run", "ops.py:Root", "--arg", "shout=true", "--arg", "fetched=true",
                     cwd=ops)
    assert "\x1b" not in piped.stderr
    assert ("dojobber: failed: Shout after 1 try: ValueError: clear\\x1b[2Jscreen\\nand more"
            in piped.stderr.splitlines())
    # Job lines show the first line of the cause only.
    assert any(line.startswith("dojobber: Shout failed (1 try, ")
               and line.endswith("): ValueError: clear\\x1b[2Jscreen")
               for line in piped.stderr.splitlines())

    status, seen = run_on_terminal(
        ["run", "-v", "ops.py:Root", "--arg", "shout=true", "--arg", "fetched=true"], ops)
    assert status == 1
    assert "\x1b[2J" not in seen
    assert 'Shout.recheck: fail "clear\\x1b[2Jscreen\r\nand more"' in seen  # escaped

    # Not a terminal: the verbose lines are 0.6.2's bytes.
    verbose = dojobber("run", "-v", "ops.py:Root", "--arg", "shout=true",
                       "--arg", "fetched=true", cwd=ops)
    assert 'Shout.recheck: fail "clear\x1b[2Jscreen\nand more"' in verbose.stderr


def test_no_color_turns_the_colour_off(ops: Path) -> None:
    status, coloured = run_on_terminal(["run", "ops.py:Root", "--retry-delay", "0"], ops)
    assert status == 1 and "\x1b[31mdojobber: failed: Fetch" in coloured
    status, plain = run_on_terminal(["run", "ops.py:Root", "--retry-delay", "0"], ops,
                                    env={"NO_COLOR": "1"})
    assert status == 1 and "\x1b[31m" not in plain and "dojobber: failed: Fetch" in plain


# Dry runs


def test_dry_run_exits_3_when_something_would_run_and_0_when_nothing(ops: Path) -> None:
    would = dojobber("run", "-n", "ops.py:Root", "--json", "-", cwd=ops)
    assert would.returncode == 3, would.stderr
    data = json.loads(would.stdout)
    assert data["no_act"] is True
    assert {job["name"]: job["outcome"] for job in data["jobs"]} == {
        "Fetch": "would_run", "Shout": "passed", "Slow": "passed", "Root": "not_checked"}
    lines = would.stderr.splitlines()
    assert lines[0].startswith("dojobber: Fetch would_run (1 try, ")
    assert lines[0].endswith("): FileNotFoundError: alpha.txt not downloaded")
    assert lines[3].startswith(
        "dojobber: 4 jobs: 2 passed, 1 would_run, 0 failed, 1 not_checked (took ")
    assert lines[4:6] == [
        "dojobber: would run: Fetch: FileNotFoundError: alpha.txt not downloaded",
        "dojobber: not checked: Root",
    ]

    nothing = dojobber("run", "-n", "ops.py:Root", "--arg", "fetched=true", cwd=ops)
    assert nothing.returncode == 0, nothing.stderr

    broken = dojobber("run", "-n", "ops.py:Root", "--arg", "fetched=true",
                      "--arg", "shout=true", cwd=ops)
    assert broken.returncode == 3  # Shout's Check failed: Run would run
    assert "dojobber: would run: Shout: ValueError: clear\\x1b[2Jscreen\\nand more" \
        in broken.stderr.splitlines()


def test_nodestatus_keeps_its_values_in_a_dry_run() -> None:
    class Missing(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            raise ValueError("missing")

    class After(DummyJob):
        DEPS = (Missing,)

    dojob = DoJobber()
    dojob.configure(After, no_act=True)
    dojob.checknrun()
    assert dojob.nodestatus == {"Missing": False, "After": None}
    assert [job.label for job in dojob.report().jobs] == ["would_run", "not_checked"]


# Events


def test_events_file_is_written_as_the_run_goes(ops: Path) -> None:
    events = ops / "events.jsonl"
    process = start("run", "ops.py:Root", "--retry-delay", "0", "--arg", "nap=60",
                    "--events", str(events), cwd=ops)
    try:
        wait_for(ops / "napping", process)
        # Slow is napping: what happened so far is already in the file.
        seen = [json.loads(line) for line in events.read_text().splitlines()]
        assert seen[0]["event"] == "run_started" and seen[0]["job"] is None
        assert seen[0]["jobs"] == ["Fetch", "Shout", "Slow", "Root"]
        assert seen[-1]["event"] == "try_started" and seen[-1]["job"] == "Slow"
        fetch_ended = [e for e in seen if e["event"] == "try_ended" and e["job"] == "Fetch"]
        assert fetch_ended[0]["try"] == 1 and fetch_ended[0]["outcome"] == "failed"
        assert fetch_ended[0]["error"] == {
            "type": "FileNotFoundError", "message": "alpha.txt not downloaded"}
    finally:
        stopped(process, signal.SIGINT)
    every = [json.loads(line) for line in events.read_text().splitlines()]
    assert {"event", "time", "elapsed", "job"} <= set().union(*every)
    assert all(isinstance(e["time"], float) and e["elapsed"] >= 0 for e in every)
    kinds = [e["event"] for e in every]
    assert kinds[-3:] == ["run_ended", "cleanup_started", "cleanup_ended"]
    assert every[kinds.index("run_ended")]["interrupted"] is True
    run = [e for e in every if e["event"] == "phase_ended" and e["job"] == "Fetch"][1]
    assert (run["phase"], run["error"]["type"]) == ("run", "ConnectionRefusedError")


def test_events_to_stdout_rebuild_the_report(ops: Path) -> None:
    report_file = ops / "report.json"
    done = dojobber("run", "ops.py:Root", "--retry-delay", "0", "--events", "-",
                    "--json", str(report_file), cwd=ops)
    assert done.returncode == 1
    rebuilt = read_report(done.stdout.splitlines()).to_dict()
    written = json.loads(report_file.read_text())
    for data in (rebuilt, written):  # times come from two clocks
        for job in data["jobs"]:
            job["seconds"] = 0
            for one in job["history"]:
                one["start"] = one["seconds"] = 0
                for phase in one["phases"]:
                    phase["start"] = phase["seconds"] = 0
        data["seconds"] = data["started_at"] = 0
    assert rebuilt == written


def test_json_and_events_cannot_both_take_stdout(ops: Path) -> None:
    done = dojobber("run", "ops.py:Root", "--events", "-", "--json", "-", cwd=ops)
    assert one_line_error(done) == (
        "dojobber: error: --json - and --events - cannot both write to stdout")


def test_event_log_from_python_gives_the_same_report() -> None:
    now = [0.0]

    def tick() -> float:
        return now[0]

    class Step(Job):
        TRIES = 2

        def Check(self, *args: Any, **kwargs: Any) -> None:
            now[0] += 1
            if self._check_phase == "recheck" and self.global_storage.get("second"):
                return
            raise ValueError("not yet")

        def Run(self, *args: Any, **kwargs: Any) -> None:
            now[0] += 2
            second = self.global_storage.setdefault("runs", 0)
            self.global_storage["runs"] += 1
            if second:
                self.global_storage["second"] = True
            raise OSError("half done")

    class Top(DummyJob):
        DEPS = (Step,)

    stream = io.StringIO()
    dojob = DoJobber(clock=tick, sleep=lambda s: None)
    dojob.configure(Top, observers=[EventLog(stream, clock=tick, wall_clock=lambda: 5.0)])
    assert dojob._recorder is not None
    dojob._recorder._clock = tick
    dojob._recorder._wall_clock = lambda: 5.0
    dojob.checknrun()
    live = dojob.report()
    rebuilt = read_report(stream.getvalue().splitlines())
    assert rebuilt.to_dict() == live.to_dict()
    step = rebuilt["Step"]
    assert [(t.outcome, t.start, t.seconds) for t in step.history] == [
        (Outcome.FAILED, 0.0, 4.0), (Outcome.PASSED_AFTER_RUN, 4.0, 4.0)]
    assert step.history[1].phase("run") is not None
    assert rebuilt.seconds == 8.0 and rebuilt.started_at == 5.0


def test_read_report_needs_a_whole_run() -> None:
    with pytest.raises(ValueError, match="no run_ended event"):
        read_report(['{"event": "run_started", "time": 1, "elapsed": 0, "job": null,'
                     ' "jobs": []}'])
    with pytest.raises(ValueError, match="line 1 is not JSON"):
        read_report(["nope"])


# Clean stops


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_runs_the_cleanups_writes_the_report_and_exits_143(
        ops: Path, workers: str) -> None:
    # One worker: the signal stops Slow's nap at once. Two: the tries that
    # are running (Slow's and Side's naps) end, as after Ctrl-C, and no new
    # try starts (After waits for Slow, so it never does).
    nap = "60" if workers == "1" else "1"
    report_file = ops / "report.json"
    process = start("run", "ops.py:Wide", "--workers", workers, "--arg", f"nap={nap}",
                    "--json", str(report_file), "--log-file", "run.log", cwd=ops)
    wait_for(ops / "napping", process)
    stderr = stopped(process, signal.SIGTERM)
    assert process.returncode == 143, stderr
    assert stderr.splitlines()[-1] == "dojobber: terminated (SIGTERM)"
    assert "dojobber: interrupted before the run was over" in stderr.splitlines()
    assert (ops / "cleaned").read_text() == "Slow\n"
    assert (ops / "run.log").read_text().splitlines()[-1] == "dojobber: terminated (SIGTERM)"
    report = json.loads(report_file.read_text())
    assert report["interrupted"] is True and report["success"] is False
    tries = {job["name"]: job["tries"] for job in report["jobs"]}
    assert tries["Slow"] == 1 and tries["After"] == 0


# Output paths are checked before the first job


@pytest.mark.parametrize("option", ["--json", "--events", "--log-file", "--graph"])
def test_an_unwritable_output_stops_before_any_job(ops: Path, option: str) -> None:
    (ops / "adir").mkdir()
    target = "adir" if option != "--graph" else "adir.dot"
    if option == "--graph":
        (ops / "adir.dot").mkdir()
    done = dojobber("run", "ops.py:Root", "--arg", "nap=0.01", option, target, cwd=ops)
    assert one_line_error(done) == f"dojobber: error: cannot write {target}: it is a directory"
    assert not (ops / "napping").exists()
    missing = dojobber("run", "ops.py:Root", option, "nowhere/out.dot", cwd=ops)
    assert "no such directory" in one_line_error(missing)


def test_log_file_keeps_the_human_lines(ops: Path) -> None:
    done = dojobber("run", "ops.py:Root", "--retry-delay", "0", "--log-file", "run.log",
                    cwd=ops)
    assert done.returncode == 1
    log = (ops / "run.log").read_text().splitlines()
    assert untimed(log) == untimed(done.stderr.splitlines())
    assert any(line.startswith("dojobber: Fetch failed (2 tries, ") for line in log)

    verbose = dojobber("run", "-v", "ops.py:Root", "--retry-delay", "0",
                       "--log-file", "run.log", cwd=ops)
    log = (ops / "run.log").read_text().splitlines()
    assert log[0] == "Fetch.check: fail"
    assert untimed(log) == untimed(verbose.stderr.splitlines())


def untimed(lines: list[str]) -> list[str]:
    """The lines with their durations (measured by each observer) as ``T``."""
    return [re.sub(r"\d+\.\d+m?s", "T", line) for line in lines]


# Help for mistakes


def test_misspelt_root_gets_a_suggestion(ops: Path) -> None:
    done = dojobber("run", "ops.py:Rot", cwd=ops)
    assert one_line_error(done) == (
        "dojobber: error: ops.py has no attribute 'Rot'; did you mean 'Root'?")
    done = dojobber("run", "ops.py:root", cwd=ops)
    assert one_line_error(done).endswith("did you mean 'Root'?")
    done = dojobber("run", "ops.py:Zzzzzz", cwd=ops)
    assert one_line_error(done) == "dojobber: error: ops.py has no attribute 'Zzzzzz'"


def test_list_of_a_file_without_root_lists_its_job_classes(ops: Path) -> None:
    done = dojobber("list", "ops.py", cwd=ops)
    assert (done.returncode, done.stdout) == (
        0, "Fetch\nShout\nSlow\nSide\nRoot\nAfter\nWide\nLower\n")
    (ops / "empty.py").write_text("x = 1\n")
    assert one_line_error(dojobber("list", "empty.py", cwd=ops)) == (
        "dojobber: error: empty.py defines no Job classes")
    run = dojobber("run", "ops.py", cwd=ops)
    assert one_line_error(run) == (
        "dojobber: error: target 'ops.py' must be MODULE:JOB or FILE.py:JOB "
        "('dojobber list ops.py' lists the Job classes it defines)")


def test_dashed_file_names_are_accepted(ops: Path) -> None:
    (ops / "deploy-web.py").write_text(OPS)
    done = dojobber("run", "deploy-web.py:Slow", "--json", "-", cwd=ops)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["success"] is True
    listed = dojobber("list", "deploy-web.py:Root", cwd=ops)
    assert listed.stdout.splitlines()[-1] == "Root <- Fetch, Shout, Slow"


def test_configure_warnings_are_dojobber_lines(ops: Path) -> None:
    done = dojobber("run", "ops.py:Lower", "--tries", "1", cwd=ops)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        "dojobber: warning: Lower defines check() but DoJobber calls Check(): "
        "rename it to Check")


# The job lines observer, in Python


def test_job_lines_print_each_job_once_when_it_is_done() -> None:
    stream = io.StringIO()
    lines = JobLines(stream, budgets={"A": 2, "B": 1}, clock=lambda: 0.0)
    lines.run_started(["A", "B"])
    lines.try_started("A", 1)
    lines.phase_ended("A", "check", ValueError("no"))
    lines.phase_ended("A", "run", OSError("down\nmore"))
    lines.try_ended("A", Outcome.FAILED, ValueError("no"))
    assert stream.getvalue() == ""  # A has a try left
    lines.try_started("B", 1)
    lines.try_ended("B", Outcome.PASSED, None)
    lines.try_started("A", 2)
    lines.phase_ended("A", "check", ValueError("no"))
    lines.try_ended("A", Outcome.FAILED, ValueError("no"))
    assert stream.getvalue().splitlines() == [
        "dojobber: B passed (1 try, 0.0ms)",
        "dojobber: A failed (2 tries, 0.0ms): ValueError: no",
    ]


def test_job_lines_at_an_early_end_name_jobs_still_failing() -> None:
    stream = io.StringIO()
    lines = JobLines(stream, budgets={"A": 3}, clock=lambda: 0.0)
    lines.run_started(["A"])
    lines.try_started("A", 1)
    lines.phase_ended("A", "run", OSError("down"))
    lines.try_ended("A", Outcome.FAILED, ValueError("no"))
    lines.run_ended(SimpleNamespace(interrupted=False))  # type: ignore[arg-type]
    assert stream.getvalue() == (
        "dojobber: A failed (1 try, 0.0ms): ValueError: no (Run raised OSError: down)\n")


def test_observers_get_the_run_result_with_no_act() -> None:
    seen: list[bool] = []

    class Watch(Observer):
        def run_ended(self, result: Any) -> None:
            seen.append(result.no_act)

    dojob = DoJobber()
    dojob.configure(DummyJob, no_act=True, observers=[Watch()])
    dojob.checknrun()
    dojob.configure(DummyJob, observers=[Watch()])
    dojob.checknrun()
    assert seen == [True, False]
    assert dojob.tries_allowed() == {"DummyJob": 3}
    assert DoJobber().tries_allowed() == {}


def test_a_misspelt_name_in_a_module_without_jobs_gets_a_suggestion(ops: Path) -> None:
    done = dojobber("run", "os.path:joinn", cwd=ops)
    assert one_line_error(done) == (
        "dojobber: error: os.path has no attribute 'joinn'; did you mean 'join'?")


def test_an_output_without_write_permission_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dojobber.command import exits, writing

    # Running as root, every file is writable: pretend this one is not.
    monkeypatch.setattr(writing.os, "access", lambda path, mode: False)
    with pytest.raises(exits.UsageError, match="cannot write out.json: permission denied"):
        writing.check_can_write("out.json")


WARNS = '''
import warnings

from dojobber import DummyJob


class Old:
    def __iter__(self):
        warnings.warn("Old DEPS are deprecated", DeprecationWarning)
        return iter(())


class Root(DummyJob):
    DEPS = Old()
'''


def test_the_command_runs_from_another_thread_and_shows_other_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from dojobber import cli

    (tmp_path / "warns.py").write_text(WARNS)
    monkeypatch.chdir(tmp_path)
    status: list[int] = []
    # Off the main thread no SIGTERM handler can be installed: the run goes on.
    thread = threading.Thread(
        target=lambda: status.append(cli.main(["run", "warns.py:Root", "--log-file", "log"])))
    with pytest.warns(DeprecationWarning, match="Old DEPS are deprecated"):
        # Shown as Python shows any warning, not as a dojobber line.
        thread.start()
        thread.join()
    assert status == [0]
    err = capsys.readouterr().err
    assert "warning" not in err
    assert "dojobber: Root passed (1 try, " in err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_event_log_of_two_runs_gives_the_last_and_records_failed_inits() -> None:
    class Broken(Job):
        TRIES = 1

        def __init__(self) -> None:
            raise OSError("no socket")

        def Check(self, *args: Any, **kwargs: Any) -> None:
            pass

    stream = io.StringIO()
    dojob = DoJobber()
    dojob.configure(Broken, observers=[EventLog(stream)])
    dojob.checknrun()
    dojob.checknrun()
    lines = [""] + stream.getvalue().splitlines()  # a blank line is skipped
    events = [json.loads(line) for line in lines if line]
    assert [e["event"] for e in events].count("run_started") == 2
    failed = [e for e in events if e["event"] == "not_created"]
    assert failed[0]["error"] == {"type": "OSError", "message": "no socket"}
    report = read_report(lines + [""])
    assert report["Broken"].error is not None and report["Broken"].tries == 1
    assert report["Broken"].history[0].phases == ()
    second = [i for i, line in enumerate(lines) if '"run_started"' in line][1]
    # The second run cut short: the first is the last whole run.
    assert read_report(lines[: second + 2]).jobs[0].name == "Broken"


def test_sigterm_stops_the_run_in_python_too() -> None:
    from dojobber.stopping import Terminated, sigterm_stops_the_run

    cleaned: list[str] = []

    class Waits(Job):
        def Check(self, *args: Any, **kwargs: Any) -> None:
            os.kill(os.getpid(), signal.SIGTERM)  # a real signal, to this process
            time.sleep(5)  # the handler raises here

        def Cleanup(self) -> None:
            cleaned.append("Waits")

    before = signal.getsignal(signal.SIGTERM)
    dojob = DoJobber()
    dojob.configure(Waits)
    with pytest.raises(Terminated), sigterm_stops_the_run():
        dojob.checknrun()
    assert cleaned == ["Waits"] and dojob.report().interrupted
    assert signal.getsignal(signal.SIGTERM) is before  # put back
    assert issubclass(Terminated, KeyboardInterrupt)
