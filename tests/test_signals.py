"""Ctrl-C and SIGTERM to the process group of a run on a pool of processes
(issue 33, item 2): an idle worker says nothing, a busy one has its try cut
short and sends its instance back, every Cleanup runs, the report and the
history say so, the run ends on Dask too, and no process of the run's
session is left. Real signals to the group of a real command, each kind of
pool 20 times in a row; and a signal while the command is still loading."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dojobber.stopping import launched_as_command

ROOT = Path(__file__).resolve().parents[1]

JOBS = '''
import os
import time

from dojobber import DummyJob, Job

HERE = os.path.dirname(os.path.abspath(__file__))


def mark(line):
    fd = os.open(os.path.join(HERE, "marks"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, (line + "\\n").encode())
    os.close(fd)


def marked(line):
    try:
        with open(os.path.join(HERE, "marks")) as marks:
            return line in marks.read().split("\\n")
    except FileNotFoundError:
        return False


class Quick(Job):
    """Tried at the same time as Also, on the other worker (each waits for
    the other to be under way): both workers have made a try, and both are
    idle once Tunnel's try is under way."""

    OTHER = "Also"

    def Check(self):
        mark("in " + type(self).__name__)
        deadline = time.monotonic() + 60
        while not marked("in " + self.OTHER) and time.monotonic() < deadline:
            time.sleep(0.01)

    def Cleanup(self):
        mark("cleanup Quick")


class Also(Quick):
    OTHER = "Quick"

    def Cleanup(self):
        mark("cleanup Also")


class Tunnel(Job):
    DEPS = (Quick, Also)

    def Check(self):
        raise RuntimeError("no tunnel yet")

    def Run(self):
        mark("started")
        time.sleep(120)

    def Cleanup(self):
        mark("cleanup Tunnel")


class After(Job):
    DEPS = (Tunnel,)

    def Check(self):
        pass


class Root(DummyJob):
    DEPS = (After,)
'''

OUTPUTS = ("--json", "out.json", "--html", "out.html", "--events", "events.jsonl",
           "--history", "history.db")
STOPS = {signal.SIGINT: (130, "dojobber: interrupted"),
         signal.SIGTERM: (143, "dojobber: terminated (SIGTERM)")}
#: Generous bounds, for a busy machine: what each wait waited for is said when it gives up.
BOUND = 120.0


def command(kind: str) -> list[str]:
    """The command line of a run of tunneljobs:Root on a pool of ``kind``:
    the pool ``dojobber run`` starts (forkserver), Dask's, or one a user
    makes (the soak's --pool mode, with the initializer the docs give)."""
    if kind == "forkserver":
        return [sys.executable, "-m", "dojobber", "run", "tunneljobs:Root",
                "--executor", "process", "--workers", "2", *OUTPUTS]
    if kind == "dask":
        return [sys.executable, "-m", "dojobber", "run", "tunneljobs:Root",
                "--executor", "dask", "--workers", "2", *OUTPUTS]
    return [sys.executable, "-m", "benchmarks.soak_signals", "--pool", kind, "--",
            "run", "tunneljobs:Root", "--workers", "2", *OUTPUTS]


def start(work: Path, argv: list[str], *path: Path, **env: str) -> subprocess.Popen[bytes]:
    """``argv`` in ``work``, in a session of its own (its group gets the signal,
    as Ctrl-C at a terminal sends it), ``path`` first on its PYTHONPATH;
    stderr into a file."""
    (work / "tunneljobs.py").write_text(JOBS, encoding="utf-8")
    environment = {**os.environ, **env,
                   "PYTHONPATH": os.pathsep.join(map(str, [*path, work, ROOT]))}
    environment.pop("DOJOBBER_HISTORY", None)
    with open(work / "stderr", "wb") as stderr:
        return subprocess.Popen(argv, cwd=work, env=environment, stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(what: str, ready: object, process: subprocess.Popen[bytes], work: Path) -> None:
    deadline = time.monotonic() + BOUND
    while not ready():  # type: ignore[operator]
        assert process.poll() is None, f"ended before {what}: {(work / 'stderr').read_text()}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def alive_in_session(session: int) -> list[int]:
    """The processes of ``session`` still alive (not zombies)."""
    alive = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
        except OSError:
            continue
        if stat:
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == session and fields[0] != "Z":
                alive.append(int(entry))
    return alive


def stopped_run(kind: str, signum: int, work: Path) -> tuple[int, str]:
    """Run Root on ``kind``, send ``signum`` to the group once Tunnel's Run
    started; the exit status and stderr, once every process of the
    session has ended."""
    process = start(work, command(kind))
    marks = work / "marks"
    try:
        wait_for("Tunnel's Run to start", lambda: marks.exists() and "started" in marks.read_text(),
                 process, work)
        os.killpg(process.pid, signum)
        status = ended(process)
    finally:
        reap(process)
    return status, (work / "stderr").read_text()


def ended(process: subprocess.Popen[bytes]) -> int:
    """The command's exit status, once it and every process of its session
    have ended (within BOUND each)."""
    status = process.wait(BOUND)
    deadline = time.monotonic() + BOUND
    while alive_in_session(process.pid):
        assert time.monotonic() < deadline, (
            f"processes of the run's session still alive: {alive_in_session(process.pid)}")
        time.sleep(0.05)
    return status


def reap(process: subprocess.Popen[bytes]) -> None:
    """Kill what a failed test left of the command's session."""
    for pid in alive_in_session(process.pid):
        os.kill(pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait()


def check_stopped(work: Path, signum: int, status: int, stderr: str, *, cleaned: list[str]) -> None:
    expected_status, last = STOPS[signum]
    assert status == expected_status, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.splitlines()[-1] == last
    assert "dojobber: interrupted: Tunnel" in stderr.splitlines()
    assert sorted(line for line in (work / "marks").read_text().splitlines()
                  if line.startswith("cleanup")) == [f"cleanup {name}" for name in cleaned]
    report = json.loads((work / "out.json").read_text())
    assert report["interrupted"] is True
    assert report["cleanup_errors"] == []
    outcomes = {job["name"]: job["outcome"] for job in report["jobs"]}
    assert outcomes == {"Quick": "passed", "Also": "passed", "Tunnel": "interrupted",
                        "After": "blocked", "Root": "blocked"}
    assert "run_ended" in (work / "events.jsonl").read_text()
    with sqlite3.connect(work / "history.db") as history:
        assert dict(history.execute("SELECT name, outcome FROM jobs")) == outcomes


#: Each kind of pool, 20 runs in a row: SIGINT and SIGTERM by turns.
KINDS = ["fork", "forkserver", "spawn", "loky"]
IN_A_ROW = 20


@pytest.mark.parametrize("kind", KINDS)
def test_a_signal_to_the_group_cuts_the_busy_try_short_and_every_cleanup_runs(
    kind: str, tmp_path: Path
) -> None:
    if kind == "loky":
        pytest.importorskip("loky", reason="loky is not installed (pip install loky)")
    for run in range(IN_A_ROW):
        signum = (signal.SIGINT, signal.SIGTERM)[run % 2]
        work = tmp_path / str(run)
        work.mkdir()
        status, stderr = stopped_run(kind, signum, work)
        check_stopped(work, signum, status, stderr, cleaned=["Also", "Quick", "Tunnel"])


@pytest.mark.parametrize("kind", ["fork", "spawn", "loky"])
def test_a_pool_made_without_the_initializer_is_the_same_once_its_workers_tried(
    kind: str, tmp_path: Path
) -> None:
    # Quick and Also, tried together, start both workers and give each a
    # try: from then on they take the signals as with the initializer.
    if kind == "loky":
        pytest.importorskip("loky", reason="loky is not installed (pip install loky)")
    for run in range(4):
        signum = (signal.SIGINT, signal.SIGTERM)[run % 2]
        work = tmp_path / str(run)
        work.mkdir()
        status, stderr = stopped_run(f"{kind}-bare", signum, work)
        check_stopped(work, signum, status, stderr, cleaned=["Also", "Quick", "Tunnel"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_group_of_a_dask_run_ends_it(signum: int, tmp_path: Path) -> None:
    # Dask cannot cut its running task short: the run cancels it once
    # STOP_WAIT has passed, reports it interrupted, and closes its cluster.
    # Its instance never came back: only Quick's and Also's Cleanups can run.
    pytest.importorskip("distributed", reason="Dask's distributed is not installed")
    status, stderr = stopped_run("dask", signum, tmp_path)
    check_stopped(tmp_path, signum, status, stderr, cleaned=["Also", "Quick"])


# A signal while the command loads

HOLD = '''
import os
import sys
import time


class Hold:
    """Holds the import of dojobber.dojobber (the package's heaviest part)
    until the test says go: the signal comes while the command loads."""

    def find_spec(self, name, path=None, target=None):
        if name == "dojobber.dojobber":
            here = os.environ["HOLD_DIR"]
            open(os.path.join(here, "holding"), "w").close()
            while not os.path.exists(os.path.join(here, "go")):
                time.sleep(0.01)
        return None


sys.meta_path.insert(0, Hold())
'''


def dojobber_script() -> str:
    return os.path.join(os.path.dirname(sys.executable), "dojobber")


@pytest.mark.parametrize("how", ["-m", "script"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_the_command_loads_is_one_line_and_its_status(
    how: str, signum: int, tmp_path: Path
) -> None:
    if how == "script" and not os.path.exists(dojobber_script()):
        pytest.skip("the dojobber script is not installed beside this Python")
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "sitecustomize.py").write_text(HOLD, encoding="utf-8")
    argv = ([sys.executable, "-m", "dojobber"] if how == "-m" else [dojobber_script()])
    # Its sitecustomize holds the import: the signal comes while it is held.
    process = start(tmp_path, [*argv, "run", "tunneljobs:Quick"], hold, HOLD_DIR=str(hold))
    try:
        wait_for("the command to load dojobber.dojobber", (hold / "holding").exists,
                 process, tmp_path)
        os.killpg(process.pid, signum)
        (hold / "go").touch()
        status = process.wait(BOUND)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stderr = (tmp_path / "stderr").read_text()
    assert (status, stderr) == (STOPS[signum][0], STOPS[signum][1] + "\n")


@pytest.mark.parametrize(("argv", "command"), [
    (["python", "-m", "dojobber", "run", "x:Y"], True),
    (["python", "-X", "faulthandler", "-m", "dojobber"], True),
    (["python", "-mdojobber"], True),
    (["python", "-m", "pytest"], False),
    (["python", "-c", "import dojobber"], False),
    (["python", "script.py"], False),
    (["python"], False),
])
def test_only_the_command_notes_stops_while_it_loads(argv: list[str], command: bool) -> None:
    assert launched_as_command(argv) is command


# A signal while a worker is still starting

STARTING = '''
import os
import sys
import time

# Holds the start of a pool's worker (or of the forkserver that forks
# them) until the test says go: the signal comes while it starts, before
# its initializer or preload can take it.
_ARGV = " ".join(getattr(sys, "orig_argv", []))
if any(word in _ARGV for word in os.environ["HOLD_WHEN"].split(",")):
    _here = os.environ["HOLD_DIR"]
    open(os.path.join(_here, f"starting-{os.getpid()}"), "w").close()
    while not os.path.exists(os.path.join(_here, "go")):
        time.sleep(0.01)
'''

#: What the command line of a starting process of each kind holds.
STARTING_ARGV = {"spawn": "--multiprocessing-fork", "loky": "popen_loky_posix",
                 "forkserver": "multiprocessing.forkserver import main"}


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask")
@pytest.mark.parametrize("kind", ["spawn", "loky", "forkserver"])
def test_a_signal_while_a_worker_starts_leaves_no_traceback(kind: str, tmp_path: Path) -> None:
    # spawn and loky: a pool made as the docs say, its workers started in a
    # quiet_start before the run; forkserver: the pool dojobber run starts,
    # whose server starts with the first try. The signal stays pending in
    # the starting process until its handlers are in place.
    if kind == "loky":
        pytest.importorskip("loky", reason="loky is not installed (pip install loky)")
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "sitecustomize.py").write_text(STARTING, encoding="utf-8")
    process = start(tmp_path, command(kind), hold, HOLD_DIR=str(hold),
                    HOLD_WHEN=STARTING_ARGV[kind])
    try:
        wait_for(f"a {kind} process to start",
                 lambda: any(name.startswith("starting-") for name in os.listdir(hold)),
                 process, tmp_path)
        os.killpg(process.pid, signal.SIGINT)
        (hold / "go").touch()
        status = ended(process)
    finally:
        reap(process)
    stderr = (tmp_path / "stderr").read_text()
    assert status == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.splitlines()[-1] == "dojobber: interrupted"
