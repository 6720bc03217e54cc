"""The ``dojobber`` command, driven in real subprocesses."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
EXAMPLE = TESTS / "dojobber_example.py"

# A job file used as a `path/to/file.py:Root` target. Flaky fails unless
# --arg fix=true; Record writes the arguments it got where --arg record=PATH
# says; Tidy's Cleanup leaves a file behind; Nap sleeps when asked to.
JOBS = '''
import json
import os
import time

from dojobber import DummyJob, Job, RunonlyJob


class Record(Job):
    def Check(self, *args, **kwargs):
        if kwargs.get("record"):
            with open(kwargs["record"], "w") as out:
                json.dump({"args": list(args), "kwargs": kwargs,
                           "module": type(self).__module__}, out)


class Flaky(RunonlyJob):
    def __init__(self):
        # As close to the start of a try as a job can see.
        self.created = time.monotonic()

    def Run(self, *args, **kwargs):
        if kwargs.get("stamps"):
            with open(kwargs["stamps"], "a") as out:
                out.write(f"{self.created}\\n")
        if not kwargs.get("fix"):
            raise ValueError("flaky is broken")


class Blocked(DummyJob):
    DEPS = (Flaky,)


class Tidy(Job):
    def Check(self, *args, **kwargs):
        pass

    def Cleanup(self):
        with open("tidied", "w") as out:
            out.write("yes")


class Nap(Job):
    def Check(self, *args, **kwargs):
        if kwargs.get("nap"):
            open("napping", "w").close()
            time.sleep(kwargs["nap"])


class Root(DummyJob):
    DEPS = (Record, Tidy, Nap, Blocked)


NOT_A_JOB = 42

if __name__ == "__main__":
    raise SystemExit("the file's main block must not run")
'''

BROKEN = '''
from dojobber import Job


class First(Job):
    pass


class Second(Job):
    DEPS = (First,)


First.DEPS = (Second,)  # a cycle


class BadDeps(Job):
    DEPS = 5


class BadCleanup(Job):
    def Check(self, *args, **kwargs):
        pass

    def Cleanup(self):
        raise OSError("the duster is lost")
'''


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(JOBS)
    (tmp_path / "broken.py").write_text(BROKEN)
    return tmp_path


def dojobber(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m dojobber ARGS`` with stdout and stderr captured (not a terminal)."""
    return subprocess.run([sys.executable, "-m", "dojobber", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """``python -m dojobber ARGS`` started, output captured, for a test to signal.

    Ctrl-C reaches it even when the tests run with SIGINT ignored (as a
    background job of a shell script): a Python started that way keeps
    ignoring it, and the run would go on to its end.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "dojobber", *args], cwd=cwd,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    """Wait until the run ``process`` makes ``path`` (its marker that it is
    ready), however slowly the machine starts it."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no {path.name} after 120 s"
        time.sleep(0.02)


def stopped(process: subprocess.Popen[str], how: signal.Signals) -> str:
    """Send ``how`` to ``process``; return its stderr once it has ended.

    A process that has not ended after two minutes is killed, and the test
    fails saying so."""
    process.send_signal(how)
    try:
        return process.communicate(timeout=120)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        stderr = process.communicate()[1]
        raise AssertionError(f"still running 120 s after {how.name}:\n{stderr}") from None


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """Assert exit status 2 with exactly one stderr line and no traceback; return it."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("dojobber: error: ")
    return lines[0]


def report_of(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    data = json.loads(done.stdout)
    assert set(data) == {"success", "interrupted", "no_act", "started_at", "seconds", "jobs",
                         "cleanup_errors", "observer_errors", "fail_fast"}
    assert data["observer_errors"] == []
    assert data["fail_fast"] is None  # set only when --fail-fast stopped the run
    for job in data["jobs"]:
        assert set(job) == {"name", "outcome", "tries", "seconds", "error", "history"}
        assert len(job["history"]) == job["tries"]
    return {job["name"]: job for job in data["jobs"]}


# run: the example


def test_run_example_file_failing_exits_1_with_report_matching_statuses(tmp_path: Path) -> None:
    done = dojobber("run", str(EXAMPLE) + ":WatchMovie", "--retry-delay", "0",
                    "--arg", "movie=Noises Off", "--json", "-", cwd=tmp_path)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["success"] is False
    jobs = report_of(done)
    assert list(jobs)[:3] == ["ValidateMovie", "PickTimeAndDate", "DetermineDetails"]
    outcomes = {name: job["outcome"] for name, job in jobs.items()}
    # The statuses EXAMPLE.md gives for this case (without the Invite jobs,
    # which only the script's main() adds).
    assert {n for n, o in outcomes.items() if o == "failed"} == {"TurnOnTV", "SitOnCouch"}
    assert {n for n, o in outcomes.items() if o == "blocked"} == {"StartMovie", "WatchMovie"}
    assert outcomes["PickTimeAndDate"] == "passed_after_run"
    assert outcomes["FindTVRemote"] == "passed"
    assert jobs["TurnOnTV"]["error"] == {
        "type": "RuntimeError", "message": "Remote batteries are dead."}
    assert jobs["TurnOnTV"]["tries"] == 3
    assert jobs["StartMovie"]["error"] is None and jobs["StartMovie"]["tries"] == 0
    assert jobs["Pizza"]["tries"] == 3 and jobs["PopcornBowl"]["tries"] == 8
    assert all(isinstance(j["seconds"], float) and j["seconds"] >= 0 for j in jobs.values())
    assert jobs["FindTVRemote"]["error"] is None

    lines = done.stderr.splitlines()
    # One line per finished job as it finishes (not a terminal), then the summary.
    assert lines[0].startswith("dojobber: ValidateMovie passed (1 try, ")
    [turn_on] = [line for line in lines if line.startswith("dojobber: TurnOnTV ")]
    assert turn_on.startswith("dojobber: TurnOnTV failed (3 tries, ")
    assert turn_on.endswith("): RuntimeError: Remote batteries are dead.")
    # Every job but the two blocked ones has its line, before the summary.
    finished, summary = lines[:16], lines[16:]
    assert all(" try, " in line or " tries, " in line for line in finished)
    assert summary[0] == (
        "dojobber: 18 jobs: 8 passed, 6 passed_after_run, 2 failed, 2 blocked"
        + summary[0][summary[0].index(" ("):]
    )
    assert "dojobber: failed: TurnOnTV after 3 tries: RuntimeError: Remote batteries are dead." \
        in summary
    assert "dojobber: failed: SitOnCouch after 3 tries: RuntimeError: No space on couch." \
        in summary
    assert "dojobber: blocked: StartMovie, WatchMovie" in summary
    assert summary[-1].startswith("dojobber: slowest: ")
    assert len(summary) == 5


def test_run_example_module_target_succeeds_with_args(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = dojobber("run", "dojobber_example:WatchMovie", "--retry-delay", "0",
                    "--arg", "movie=MST3K", "--arg", "battery_state=charged",
                    "--arg", "couch_space=true", "--json", str(report), cwd=TESTS)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    data = json.loads(report.read_text())
    assert data["success"] is True
    assert {job["outcome"] for job in data["jobs"]} == {"passed", "passed_after_run"}
    assert all(job["error"] is None for job in data["jobs"])
    assert done.stderr.splitlines()[18].startswith(
        "dojobber: 18 jobs: 12 passed, 6 passed_after_run, 0 failed, 0 blocked")


def test_run_example_verbose_prints_the_phase_lines(tmp_path: Path) -> None:
    done = dojobber("run", str(EXAMPLE) + ":WatchMovie", "-v", "--retry-delay", "0",
                    "--arg", "movie=MST3K", "--arg", "battery_state=charged",
                    "--arg", "couch_space=true", cwd=tmp_path)
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert lines[:4] == [
        "ValidateMovie.check: pass",
        "PickTimeAndDate.check: fail",
        "PickTimeAndDate.run: pass",
        "PickTimeAndDate.recheck: pass",
    ]
    assert 'Popcorn.recheck: fail "Still popping..."' in lines


def test_example_script_still_works(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--no-x11", "--battery_state", "charged",
         "--couch_space"], cwd=TESTS, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0
    assert done.stdout == "Success: every job passed. Enjoy the movie!\n"


@pytest.mark.skipif(shutil.which("dot") is None and sys.version_info < (3, 11),
                    reason="Graphviz's dot is not installed, and the in-process renderer "
                    "needs Python 3.11+")
def test_graph_and_list_on_the_example(tmp_path: Path) -> None:
    listed = dojobber("list", "dojobber_example:WatchMovie", cwd=TESTS)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[:3] == [
        "ValidateMovie", "PickTimeAndDate", "DetermineDetails <- ValidateMovie, PickTimeAndDate"]
    assert lines[-2:] == [
        "StartMovie <- FriendsArrive, PrepareRoom, TurnOnTV, InsertDVD, SitOnCouch, Food",
        "WatchMovie <- StartMovie",
    ]
    assert len(lines) == 18

    svg = tmp_path / "movie.svg"
    drawn = dojobber("graph", str(EXAMPLE) + ":WatchMovie", "-o", str(svg), cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout == drawn.stderr == ""
    text = svg.read_text()
    assert "<svg" in text and "PopcornBowl" in text
    # Nothing ran, so nothing is coloured.
    assert "green" not in text and "red" not in text


# run: a file target


def test_run_file_target_failure_then_success(work: Path) -> None:
    failing = dojobber("run", "jobs.py:Root", "--retry-delay", "0", "--json", "-", cwd=work)
    assert failing.returncode == 1
    jobs = report_of(failing)
    assert [t["error"]["message"] for t in jobs["Flaky"].pop("history")] == [
        "flaky is broken"] * 3
    assert list(jobs) == ["Record", "Tidy", "Nap", "Flaky", "Blocked", "Root"]
    assert jobs["Flaky"] == {"name": "Flaky", "outcome": "failed", "tries": 3,
                             "seconds": jobs["Flaky"]["seconds"],
                             "error": {"type": "ValueError", "message": "flaky is broken"}}
    assert [jobs[n]["outcome"] for n in ("Record", "Blocked", "Root")] == [
        "passed", "blocked", "blocked"]
    lines = failing.stderr.splitlines()
    assert "dojobber: failed: Flaky after 3 tries: ValueError: flaky is broken" in lines
    [flaky] = [line for line in lines if line.startswith("dojobber: Flaky ")]
    assert flaky.startswith("dojobber: Flaky failed (3 tries, ")
    assert flaky.endswith("): ValueError: flaky is broken")

    passing = dojobber("run", "jobs.py:Root", "--retry-delay", "0", "--arg", "fix=true",
                       "--json", "-", cwd=work)
    assert passing.returncode == 0, passing.stderr
    jobs = report_of(passing)
    assert jobs["Flaky"]["outcome"] == "passed_after_run" and jobs["Flaky"]["tries"] == 1
    assert json.loads(passing.stdout)["success"] is True


def test_graph_and_list_on_a_file_target(work: Path) -> None:
    listed = dojobber("list", "jobs.py:Root", cwd=work)
    assert (listed.returncode, listed.stdout) == (0, textwrap.dedent("""\
        Record
        Tidy
        Nap
        Flaky
        Blocked <- Flaky
        Root <- Record, Tidy, Nap, Blocked
        """))
    drawn = dojobber("graph", str(work / "jobs.py") + ":Root", "-o", "out.dot", cwd=work)
    assert drawn.returncode == 0, drawn.stderr
    dot = (work / "out.dot").read_text()
    assert dot.lstrip().startswith("digraph")
    assert "Root -> Blocked" in dot and "Blocked -> Flaky" in dot


def test_run_writes_the_coloured_result_graph(work: Path) -> None:
    done = dojobber("run", "jobs.py:Root", "--retry-delay", "0", "--graph", "result.dot",
                    cwd=work)
    assert done.returncode == 1
    # After a run every job also has a tooltip (issue 4, docs/pictures.rst).
    lines = (work / "result.dot").read_text().splitlines()
    assert any(line.startswith("Flaky [style=filled, color=red, tooltip=") for line in lines)
    assert any(line.startswith("Record [style=filled, color=green, ") for line in lines)
    assert any(line.startswith("Blocked [tooltip=") for line in lines)  # no colour


def test_file_target_is_imported_as_a_module_and_gets_the_args(work: Path) -> None:
    done = dojobber(
        "run", "jobs.py:Root", "--retry-delay", "0",
        "--arg", "record=got.json", "--arg", "n=3", "--arg", "flag=true",
        "--arg", "movie=MST3K", "--arg", "items=[1, 2]", "--arg", 'quoted="7"',
        "--arg", "empty=", "--arg", "eq=a=b", "--arg", "nothing=null",
        "--arg", "n=4", "--arg", "fix=true",
        "--", "first", "--not-an-option", "-v",
        cwd=work)
    assert done.returncode == 0, done.stderr
    got = json.loads((work / "got.json").read_text())
    assert got["module"] == "jobs"
    assert got["args"] == ["first", "--not-an-option", "-v"]
    assert got["kwargs"] == {
        "record": "got.json", "n": 4, "flag": True, "movie": "MST3K", "items": [1, 2],
        "quoted": "7", "empty": "", "eq": "a=b", "nothing": None, "fix": True,
    }
    # The "-v" after "--" went to the jobs, not to dojobber.
    assert "Record.check: pass" not in done.stderr


def test_no_act_tries_and_retry_delay(work: Path) -> None:
    no_act = dojobber("run", "-n", "jobs.py:Root", "--arg", "fix=true", "--json", "-", cwd=work)
    assert no_act.returncode == 3  # something would run
    flaky = report_of(no_act)["Flaky"]
    assert flaky["outcome"] == "would_run" and flaky["tries"] == 1
    assert flaky["error"] == {"type": "RuntimeError",
                              "message": "Runonly node check intentionally fails first time."}

    once = dojobber("run", "jobs.py:Root", "--tries", "1", "--retry-delay", "0", "--json", "-",
                    cwd=work)
    assert report_of(once)["Flaky"]["tries"] == 1

    stamps = work / "stamps"
    spaced = dojobber("run", "jobs.py:Root", "--tries", "2", "--retry-delay", "0.3",
                      "--arg", f"stamps={stamps}", cwd=work)
    assert spaced.returncode == 1
    first, second = (float(t) for t in stamps.read_text().split())
    # RETRY_DELAY spaces the starts of two tries; the job sees its start a
    # hair later, by a different hair each try: allow for that, not more.
    assert second - first >= 0.3 - 0.05


@pytest.mark.parametrize("workers", ["1", "2"])
def test_timeout_fails_a_hung_job_and_the_run_goes_on(work: Path, workers: str) -> None:
    # Nap would sleep a minute; --timeout ends its try (and the process
    # ends, even with the try left behind in a worker's helper thread).
    done = dojobber("run", "jobs.py:Root", "--timeout", "0.5", "--tries", "1",
                    "--arg", "nap=60", "--arg", "fix=true", "--workers", workers,
                    "--json", "-", cwd=work)
    assert done.returncode == 1
    jobs = report_of(done)
    assert jobs["Nap"]["outcome"] == "failed"
    assert jobs["Nap"]["error"] == {
        "type": "dojobber.errors.JobTimeoutError",
        "message": "job 'Nap' timed out during check: the try took longer than its "
                   "TIMEOUT of 0.5 seconds",
    }
    assert jobs["Flaky"]["outcome"] == "passed_after_run"
    assert jobs["Root"]["outcome"] == "blocked"


FAIL_FAST = '''
from dojobber import DummyJob, Job


class Broken(Job):
    def Check(self, *args, **kwargs):
        raise OSError("the disk is gone")

    def Run(self, *args, **kwargs):
        pass


class Fine(DummyJob):
    pass


class Root(DummyJob):
    DEPS = (Broken, Fine)
'''


def test_fail_fast_stops_the_run_and_says_what_was_not_tried(work: Path) -> None:
    (work / "failfast.py").write_text(FAIL_FAST)
    done = dojobber("run", "failfast.py:Root", "--fail-fast", "--tries", "1",
                    "--json", "-", cwd=work)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["fail_fast"] == {"stopped_by": "Broken", "not_tried": ["Fine"]}
    assert [job["tries"] for job in data["jobs"]] == [1, 0, 0]
    lines = done.stderr.splitlines()
    assert "dojobber: fail-fast: stopped when Broken failed" in lines
    assert "dojobber: not tried (fail-fast): Fine" in lines

    without = dojobber("run", "failfast.py:Root", "--tries", "1", "--json", "-", cwd=work)
    assert [job["outcome"] for job in json.loads(without.stdout)["jobs"]] == [
        "failed", "passed", "blocked"]


def test_retry_backoff_options(work: Path) -> None:
    stamps = work / "stamps"
    done = dojobber("run", "jobs.py:Root", "--tries", "3", "--retry-delay", "0.2",
                    "--retry-backoff", "3", "--retry-delay-max", "0.45",
                    "--retry-jitter", "0", "--arg", f"stamps={stamps}", cwd=work)
    assert done.returncode == 1
    first, second, third = (float(t) for t in stamps.read_text().split())
    # Waits of 0.2 s, then 0.45 s (0.6 s capped); a job sees its start a
    # hair later, by a different hair each try: allow for that, not more.
    assert second - first >= 0.2 - 0.05
    assert third - second >= 0.45 - 0.05


def test_cleanup_runs_unless_no_cleanup(work: Path) -> None:
    kept = dojobber("run", "jobs.py:Root", "--no-cleanup", "--arg", "fix=true", cwd=work)
    assert kept.returncode == 0
    assert not (work / "tidied").exists()
    done = dojobber("run", "jobs.py:Root", "--arg", "fix=true", cwd=work)
    assert done.returncode == 0
    assert (work / "tidied").read_text() == "yes"


def test_failing_cleanup_exits_1_after_the_report(work: Path) -> None:
    done = dojobber("run", "broken.py:BadCleanup", "--json", "-", cwd=work)
    assert done.returncode == 1
    assert json.loads(done.stdout)["success"] is True
    lines = done.stderr.splitlines()
    assert lines[0].startswith("dojobber: BadCleanup passed (1 try, ")
    assert lines[1] == 'BadCleanup.cleanup: fail "the duster is lost"'
    assert lines[-1] == "dojobber: cleanup failed: BadCleanup: OSError: the duster is lost"
    assert "Traceback" not in done.stderr


def test_each_configure_option_is_stored_under_its_name_with_its_default() -> None:
    from dojobber.cli import build_parser
    from dojobber.settings import DEFAULTS, OPTIONS

    given = vars(build_parser().parse_args(["run", "jobs.py:Root"]))
    # The observers and the executor are made by the command, not given.
    assert set(OPTIONS) - set(given) == {"observers", "executor"}
    for name in set(OPTIONS) & set(given):
        assert given[name] == getattr(DEFAULTS, name), name


def test_every_run_option_reaches_configure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dojobber import DoJobber, cli
    from dojobber.settings import OPTIONS

    seen: dict[str, object] = {}
    configure = DoJobber.configure

    def spy(self: DoJobber, root: type, **options: object) -> None:
        seen.update(options)
        configure(self, root, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(DoJobber, "configure", spy)
    (tmp_path / "reaches_configure.py").write_text(
        "from dojobber import Job\n\n\nclass Root(Job):\n"
        "    def Check(self, *args, **kwargs):\n        pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        status = cli.main([
            "run", "reaches_configure.py:Root", "-n", "-v", "-d", "--no-cleanup",
            "--tries", "2", "--retry-delay", "0.5", "--retry-backoff", "2",
            "--retry-delay-max", "9", "--retry-jitter", "0.25", "--timeout", "30",
            "--fail-fast", "--workers", "2", "--history", "history.db"])
    finally:
        sys.modules.pop("reaches_configure", None)
    assert status == 0
    assert set(seen) == set(OPTIONS)
    assert {name: value for name, value in seen.items() if name != "observers"} == {
        "no_act": True, "verbose": True, "debug": True, "cleanup": False,
        "default_tries": 2, "default_retry_delay": 0.5, "default_retry_backoff": 2,
        "default_retry_delay_max": 9, "default_retry_jitter": 0.25, "default_timeout": 30,
        "fail_fast": True, "workers": 2, "executor": None, "history": "history.db"}
    assert (tmp_path / "history.db").exists()


def test_a_bad_option_is_refused_before_an_executor_starts(work: Path) -> None:
    # Before the settings were checked first, a Dask client tried the
    # address for 10 s, or said that Dask was missing, before this error.
    done = dojobber("run", "jobs.py:Root", "--executor", "dask",
                    "--scheduler", "tcp://127.0.0.1:9", "--tries", "0", cwd=work)
    assert one_line_error(done) == (
        "dojobber: error: default_tries must be a finite number >= 1, got 0")


def test_ctrl_c_exits_130_after_cleanup(work: Path) -> None:
    process = start("run", "jobs.py:Root", "--arg", "nap=60", cwd=work)
    wait_for(work / "napping", process)  # Nap's Check is napping
    stderr = stopped(process, signal.SIGINT)
    assert process.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "dojobber: interrupted"
    assert (work / "tidied").read_text() == "yes"


# Exit status 2: one line, no traceback unless -d


def test_cycle_is_one_line_exit_2_for_every_subcommand(work: Path) -> None:
    for command in (["run"], ["list"], ["graph", "-o", "x.dot"]):
        done = dojobber(*command, "broken.py:Second", cwd=work)
        assert one_line_error(done) == (
            "dojobber: error: Dependency cycle: Second -> First -> Second")
    assert not (work / "x.dot").exists()


def test_debug_shows_the_traceback(work: Path) -> None:
    done = dojobber("run", "-d", "broken.py:Second", cwd=work)
    assert done.returncode == 2
    assert "Traceback (most recent call last):" in done.stderr
    assert "DependencyCycleError" in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "dojobber: error: Dependency cycle: Second -> First -> Second")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.py:Root"], "no such file: missing.py"),
        (["run", "jobs.py:Nope"], "jobs.py has no attribute 'Nope'"),
        (["run", "jobs.py:NOT_A_JOB"], "jobs.py:NOT_A_JOB is 42, not a Job class"),
        (["run", "jobs.py"], "target 'jobs.py' must be MODULE:JOB or FILE.py:JOB"),
        (["run", "no_such_module:Root"], "no module named 'no_such_module'"),
        (["list", "broken.py:BadDeps"], 'DEPS for BadDeps is not iterable; is "5"'),
        (["run", "jobs.py:Root", "--tries", "0"],
         "default_tries must be a finite number >= 1, got 0"),
        (["run", "jobs.py:Root", "--retry-delay", "-1"],
         "default_retry_delay must be a finite number of seconds >= 0, got -1"),
        (["run", "jobs.py:Root", "--timeout", "0"],
         "default_timeout must be a number of seconds > 0 (math.inf for no limit), got 0"),
        (["run", "jobs.py:Root", "--retry-backoff", "0.5"],
         "default_retry_backoff must be a finite number >= 1, got 0.5"),
        (["run", "jobs.py:Root", "--retry-delay-max", "-2"],
         "default_retry_delay_max must be a number of seconds >= 0 (math.inf for no cap), "
         "got -2"),
        (["run", "jobs.py:Root", "--retry-jitter", "2"],
         "default_retry_jitter must be a number from 0 to 1, got 2"),
        (["run", "jobs.py:Root", "--arg", "novalue"],
         "argument --arg: 'novalue' is not KEY=VALUE (see 'dojobber run --help')"),
        (["run", "jobs.py:Root", "--tries", "many"],
         "argument --tries: 'many' is not a number (see 'dojobber run --help')"),
        (["run", "jobs.py:Root", "--graph", "out"],
         "cannot tell the picture format of 'out': give it an extension"),
        (["run", "jobs.py:Root", "--json", "nodir/r.json"], "cannot write nodir/r.json: "),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
        (["list", "jobs.py:Root", "--", "x"], "'list' takes no arguments after --"),
    ],
)
def test_bad_usage_is_one_line_exit_2(work: Path, args: list[str], message: str) -> None:
    line = one_line_error(dojobber(*args, cwd=work))
    assert line.startswith("dojobber: error: " + message)
    assert not (work / "tidied").exists()  # nothing ran


def test_import_error_in_the_target_file_is_one_line(work: Path) -> None:
    (work / "typo.py").write_text("import no_such_dependency_here\n")
    line = one_line_error(dojobber("run", "typo.py:Root", cwd=work))
    assert line == ("dojobber: error: importing typo.py failed: ModuleNotFoundError: "
                    "No module named 'no_such_dependency_here'")


# A script written to be run, with no `if __name__ == "__main__":` around its
# run (as many are): importing it runs its jobs. The command must refuse.
RUNS_WHEN_IMPORTED = """
from dojobber import DoJobber, Job


class Hello(Job):
    def Check(self, *args, **kwargs):
        with open("ran", "a") as out:
            out.write("check\\n")


dojob = DoJobber()
dojob.configure(Hello)
CATCH
"""


@pytest.mark.parametrize("subcommand", ["run", "list", "graph"])
@pytest.mark.parametrize("catch", [False, True], ids=["plain", "caught"])
def test_a_run_while_the_command_imports_the_target_is_refused(
    work: Path, subcommand: str, catch: bool
) -> None:
    call = ("try:\n    dojob.checknrun()\nexcept Exception:\n    pass\n" if catch
            else "dojob.checknrun()\n")
    (work / "script.py").write_text(RUNS_WHEN_IMPORTED.replace("CATCH", call))
    target = "script.py" if subcommand == "list" else "script.py:Hello"
    line = one_line_error(dojobber(subcommand, target, cwd=work))
    assert line == (
        "dojobber: error: checknrun() called while the dojobber command imports "
        'script.py: put the script\'s run under `if __name__ == "__main__":`; '
        "no job was run"
    )
    assert not (work / "ran").exists()  # no job ran, not even once


def test_a_guarded_script_runs_its_jobs_once(work: Path) -> None:
    guarded = RUNS_WHEN_IMPORTED.replace(
        "CATCH", 'if __name__ == "__main__":\n    dojob.checknrun()\n')
    (work / "script.py").write_text(guarded)
    assert dojobber("run", "script.py:Hello", cwd=work).returncode == 0
    assert (work / "ran").read_text() == "check\n"
    assert dojobber("list", "script.py", cwd=work).returncode == 0
    assert (work / "ran").read_text() == "check\n"
    subprocess.run([sys.executable, "script.py"], cwd=work, check=True, timeout=120)
    assert (work / "ran").read_text() == "check\ncheck\n"


# The console script


def test_console_script_is_installed(work: Path) -> None:
    script = Path(sys.executable).parent / "dojobber"
    assert script.is_file()
    done = subprocess.run([str(script), "list", "jobs.py:Blocked"], cwd=work,
                          capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (0, "Flaky\nBlocked <- Flaky\n")
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                             timeout=120, check=False)
    assert version.stdout.startswith("dojobber ")


# The live progress line


def run_on_terminal(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run ``python -m dojobber ARGS`` with stderr on a pseudo-terminal,
    colour allowed unless ``env`` says otherwise."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    environ.update(env or {})
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "dojobber", *args], cwd=cwd,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=terminal, env=environ)
    os.close(terminal)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # Linux: the other side closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(controller)
    return process.wait(timeout=120), seen.decode()


def test_progress_line_on_a_terminal(work: Path) -> None:
    # Nap sleeps past the line's 0.5 s delay, so the next try to start
    # (Flaky's) draws it.
    status, seen = run_on_terminal(
        ["run", "jobs.py:Root", "--retry-delay", "0", "--arg", "nap=0.8"], work)
    assert status == 1
    assert "\r\x1b[Kdojobber: 3/6 passed, " in seen
    assert "; running: Flaky" in seen
    # Erased before the summary, which then starts on a clean line.
    assert "\r\x1b[K\x1b[31mdojobber: 6 jobs: 3 passed" in seen.replace("\r\n", "\n")
    assert "\x1b[31mdojobber: failed: Flaky after " in seen  # in colour
    # A line per finished job too, each above the progress line (issue 24, item 9).
    assert "\r\x1b[Kdojobber: Nap passed (1 try, " in seen


def test_no_progress_line_when_verbose_or_not_a_terminal(work: Path) -> None:
    status, seen = run_on_terminal(
        ["run", "-v", "jobs.py:Root", "--retry-delay", "0", "--arg", "nap=0.8"], work)
    assert status == 1
    assert "Nap.check: pass" in seen
    assert "running:" not in seen and "\x1b[K" not in seen

    piped = dojobber("run", "jobs.py:Root", "--retry-delay", "0", "--arg", "nap=0.8", cwd=work)
    assert piped.returncode == 1
    assert "running:" not in piped.stderr and "\x1b" not in piped.stderr


def test_list_into_a_closed_pipe_is_a_one_line_error(tmp_path):
    jobs = tmp_path / "many.py"
    jobs.write_text(
        "from dojobber import DummyJob\n"
        "previous = ()\n"
        "for i in range(5000):\n"
        "    previous = (type(f'Job{i}_with_a_longish_name', (DummyJob,), {'DEPS': previous}),)\n"
        "Root = previous[0]\n"
    )
    reader = subprocess.Popen(
        [sys.executable, "-m", "dojobber", "list", f"{jobs}:Root"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline().startswith(b"Job0_with_a_longish_name")
    reader.stdout.close()  # like `| head -1`
    error = reader.stderr.read()
    assert reader.wait(timeout=60) == 1
    assert error == b"dojobber: error: cannot write to stdout: BrokenPipeError: [Errno 32] Broken pipe\n"


HOSTILE_JOBS = """
import time

from dojobber import DummyJob, Job


def nap(self):
    time.sleep(1.2)


Evil = type("Evil\\x1b[2J\\x1b]0;owned\\x07", (Job,), {"Check": nap})
Root = type("Root", (DummyJob,), {"DEPS": (Evil,)})
"""


def test_a_name_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """A job named with escape sequences (clear the screen, set the window
    title): the terminal, as an emulator shows it, gets the name written out."""
    import pyte

    (tmp_path / "hostile.py").write_text(HOSTILE_JOBS)
    status, seen = run_on_terminal(["run", "hostile.py:Root"], tmp_path)
    assert status == 0
    # The progress line as first drawn while Evil naps, up to its next redraw.
    first = seen.index("\r\x1b[Kdojobber: 0/2 passed")
    line = seen[first:seen.index("\r", first + 1)]
    screen = pyte.Screen(200, 10)
    pyte.Stream(screen).feed(line)
    assert "running: Evil\\x1b[2J\\x1b]0;owned\\x07" in screen.display[0]
    assert screen.title == ""  # no escape sequence reached the terminal
