"""Signal soak: runs stopped by SIGINT or SIGTERM to their process group, on every engine.

``python -m benchmarks.soak_signals --runs N`` makes N runs per engine and
signal of a 12-job graph with ``--json --html --events --history``, sends
the signal to the run's process group at a random moment of its first two
seconds (what Ctrl-C at a terminal, or systemd's stop, does), and prints a
table: exit statuses, runs that did not end, Cleanups lost (an instance
made whose Cleanup never ran), report files or history rows missing, jobs
wrongly reported (a job ``failed``: none of them can fail), processes of
the run's session alive two seconds after it ended, and tracebacks on
stderr. The exit status is 1 when any of those is not zero.

Three kinds of runs are counted apart and checked no further: "before
run", stopped before its first job (while the command loads, or Dask's
cluster starts: the command ends with 130 or 143 and one line, and no
report is due); "before start", a signal that ended the interpreter
before it reached DoJobber's first line (its own start-up, some tens of
milliseconds: no program can handle it); "done first", a run that ended
before the signal came.

Engines: ``sequential``, ``threads`` and ``forkserver`` (``dojobber run``,
``--executor process``) and ``dask`` (``--executor dask``) are the command
as it is; ``fork``, ``spawn`` and ``loky`` are the command with a pool of
that kind made as the docs tell a user to: ``dojobber.executor.worker_signals``
as its initializer, its workers started before the run (this module's
``--pool`` mode).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]

#: Each engine's options to ``dojobber run``; None: the command with a pool of its own kind.
ENGINES: dict[str, list[str] | None] = {
    "sequential": [],
    "threads": ["--workers", "2"],
    "forkserver": ["--executor", "process", "--workers", "2"],
    "fork": None,
    "spawn": None,
    "loky": None,
    "dask": ["--executor", "dask", "--workers", "2"],
}
SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}
STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: Seconds a run may take to end once signalled before it counts as hung.
HUNG_AFTER = 60.0
#: Seconds after the command's end at which no process of its session may be left.
LEFT_AFTER = 2.0

#: The 12 jobs: three layers of three that each need a Run, a root.
JOBS = '''
import os
import time
import uuid

from dojobber import DummyJob, Job

HERE = os.path.dirname(os.path.abspath(__file__))


def mark(*words):
    # One write per line, O_APPEND: lines of several processes never mix.
    fd = os.open(os.path.join(HERE, "marks"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (" ".join(words) + "\\n").encode())
    finally:
        os.close(fd)


class Soaked(Job):
    NAP = 0.2

    def Check(self):
        if not hasattr(self, "token"):
            self.token = uuid.uuid4().hex
            mark("made", self.token)
        if not os.path.exists(os.path.join(HERE, type(self).__name__ + ".done")):
            raise RuntimeError("not done yet")

    def Run(self):
        mark("started", type(self).__name__)
        time.sleep(self.NAP)
        open(os.path.join(HERE, type(self).__name__ + ".done"), "w").close()

    def Cleanup(self):
        mark("cleaned", getattr(self, "token", "-"))


def layer(name, deps, naps):
    return [type(f"{name}{k}", (Soaked,), {"DEPS": deps, "NAP": nap})
            for k, nap in enumerate(naps)]


A = layer("A", (), (0.3, 0.6, 0.4))
B = layer("B", tuple(A), (0.5, 0.2, 0.7))
C = layer("C", tuple(B), (0.4, 0.6, 0.3))
D = layer("D", tuple(C[:2]), (0.6, 0.4))
Root = type("Root", (DummyJob,), {"DEPS": tuple(D) + (C[2],)})
'''


@dataclass
class Cell:
    """What the runs of one engine and signal gave."""

    runs: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    hung: int = 0
    lost: int = 0
    no_report: int = 0
    no_history: int = 0
    wrong: int = 0
    left: int = 0
    tracebacks: int = 0
    early: int = 0  # signalled before the interpreter reached DoJobber's code
    unstarted: int = 0  # stopped before the run began (no report is due)
    finished: int = 0  # the run ended before the signal came
    examples: list[str] = field(default_factory=list)

    def problems(self, expected: int) -> int:
        bad_status = sum(n for status, n in self.statuses.items() if status != expected)
        return (bad_status + self.hung + self.lost + self.no_report + self.no_history
                + self.wrong + self.left + self.tracebacks)


def command(engine: str, work: Path) -> list[str]:
    """The command line of one run of ``engine`` in ``work``."""
    outputs = ["--json", "out.json", "--html", "out.html", "--events", "events.jsonl",
               "--history", "history.db", "--retry-delay", "0"]
    options = ENGINES[engine]
    if options is None:
        return [sys.executable, "-m", "benchmarks.soak_signals", "--pool", engine, "--",
                "run", "soakjobs:Root", *outputs]
    return [sys.executable, "-m", "dojobber", "run", "soakjobs:Root", *options, *outputs]


def one_run(engine: str, signum: int, at: float, cell: Cell) -> None:
    """Run ``engine`` once, signal its group ``at`` seconds after its start,
    count what went wrong."""
    with tempfile.TemporaryDirectory(prefix="soak-") as name:
        work = Path(name)
        (work / "soakjobs.py").write_text(JOBS, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(work), str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        env.pop("DOJOBBER_HISTORY", None)
        with open(work / "stderr", "w") as stderr:
            process = subprocess.Popen(
                command(engine, work), cwd=work, env=env, stdout=subprocess.DEVNULL,
                stderr=stderr, start_new_session=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        cell.runs += 1
        time.sleep(at)
        if process.poll() is not None:
            cell.finished += 1  # before the signal: nothing to check
            return
        os.killpg(process.pid, signum)
        try:
            status = process.wait(HUNG_AFTER)
        except subprocess.TimeoutExpired:
            cell.hung += 1
            os.killpg(process.pid, signal.SIGKILL)
            status = process.wait()
        ended = time.monotonic()
        text = (work / "stderr").read_text(errors="replace")
        if before_dojobber(status, signum, text):
            cell.early += 1
            return
        cell.statuses[status] += 1
        if began(work):
            problems = check_files(work, cell)
        else:
            cell.unstarted += 1
            problems = []
        if "Traceback" in text:
            cell.tracebacks += 1
            problems.append("traceback")
        time.sleep(max(0.0, ended + LEFT_AFTER - time.monotonic()))
        left = alive_in_session(process.pid)
        if left:
            cell.left += 1
            problems.append(f"left {left}")
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if status != STATUS[signum]:
            problems.append(f"status {status}")
        if problems and len(cell.examples) < 3:
            cell.examples.append(f"at {at:.2f}s: {', '.join(problems)}\n{text[-1500:]}")


def before_dojobber(status: int, signum: int, stderr: str) -> bool:
    """Whether the signal ended the interpreter before it reached DoJobber's
    first line (``import dojobber`` notes the command's stops from there):
    stopped by the signal without a word, or a KeyboardInterrupt traceback
    from Python's own start-up that names no file of DoJobber's."""
    if status == -signum and not stderr:
        return True
    return (status in (1, -signum) and stderr.rstrip().endswith("KeyboardInterrupt")
            and re.search(r'File "[^"]*[/\\]dojobber[/\\]', stderr) is None)


def began(work: Path) -> bool:
    """Whether the run began (its event log says so): else no report is due."""
    try:
        return '"event": "run_started"' in (work / "events.jsonl").read_text()
    except OSError:
        return False


def check_files(work: Path, cell: Cell) -> list[str]:
    """Count the Cleanups lost, the reports and history rows missing, the jobs reported failed."""
    problems = []
    marks = (work / "marks").read_text().split("\n") if (work / "marks").exists() else []
    made = {line.split()[1] for line in marks if line.startswith("made ")}
    cleaned = {line.split()[1] for line in marks if line.startswith("cleaned ")}
    lost = len(made - cleaned)
    if lost:
        cell.lost += lost
        problems.append(f"{lost} Cleanups lost")
    try:
        report = json.loads((work / "out.json").read_text())
        (work / "out.html").read_text()
        events = [json.loads(line) for line in (work / "events.jsonl").read_text().splitlines()]
        assert "run_ended" in {event["event"] for event in events}
        assert report["interrupted"] is True or report["success"] is True
        assert report["cleanup_errors"] == []
    except (OSError, ValueError, LookupError, AssertionError) as error:
        cell.no_report += 1
        problems.append(f"report: {error!r}")
        report = None
    if report is not None and any(job["outcome"] == "failed" for job in report["jobs"]):
        cell.wrong += 1
        problems.append("a job reported failed")
    try:
        with sqlite3.connect(work / "history.db") as history:
            (rows,) = history.execute("SELECT count(*) FROM runs").fetchone()
        assert rows == 1
    except (sqlite3.Error, AssertionError) as error:
        cell.no_history += 1
        problems.append(f"history: {error!r}")
    return problems


def alive_in_session(session: int) -> list[int]:
    """The processes of ``session`` still alive (zombies, already ended, are not)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == session and fields[0] != "Z":
            alive.append(int(entry))
    return alive


def soak(
    runs: int, engines: list[str], signals: list[str], seed: int
) -> dict[tuple[str, str], Cell]:
    chance = random.Random(seed)
    cells: dict[tuple[str, str], Cell] = {}
    for engine in engines:
        for name in signals:
            cell = cells[engine, name] = Cell()
            for _ in range(runs):
                one_run(engine, SIGNALS[name], chance.uniform(0.0, 2.0), cell)
            print(row(engine, name, cell), flush=True)
    return cells


HEADER = (f"{'engine':<11} {'signal':<6} {'runs':>4}  {'exit statuses':<16} {'hung':>4} "
          f"{'lost Cleanups':>13} {'no report':>9} {'no history':>10} {'failed':>6} "
          f"{'left alive':>10} {'tracebacks':>10} {'before run':>10} {'before start':>12} "
          f"{'done first':>10}")


def row(engine: str, name: str, cell: Cell) -> str:
    statuses = " ".join(f"{status}x{n}" for status, n in sorted(cell.statuses.items()))
    return (f"{engine:<11} {name:<6} {cell.runs:>4}  {statuses:<16} {cell.hung:>4} "
            f"{cell.lost:>13} {cell.no_report:>9} {cell.no_history:>10} {cell.wrong:>6} "
            f"{cell.left:>10} {cell.tracebacks:>10} {cell.unstarted:>10} {cell.early:>12} "
            f"{cell.finished:>10}")


def _sum(cells: Any) -> Cell:
    total = Cell()
    for cell in cells:
        for name in ("runs", "hung", "lost", "no_report", "no_history", "wrong", "left",
                     "tracebacks", "unstarted", "early", "finished"):
            setattr(total, name, getattr(total, name) + getattr(cell, name))
        total.statuses.update(cell.statuses)
    return total


@contextmanager
def user_pool(kind: str, workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A pool of ``kind`` made as the docs tell a user to (scaling-out.rst),
    with ``worker_signals`` as its initializer; ``KIND-bare``: without it."""
    from dojobber.executor import quiet_start, worker_signals

    kind, bare, _ = kind.partition("-bare")
    initializer = None if bare else worker_signals
    size = workers or 2
    if kind == "loky":
        import loky

        pool: Any = loky.ProcessPoolExecutor(size, initializer=initializer)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context(kind),
                                   initializer=initializer)
    with pool:
        if not bare:
            # Its workers started before the run, as the docs advise, in a
            # quiet_start: a stop while one starts waits for its initializer.
            with quiet_start():
                for started in [pool.submit(os.getpid) for _ in range(size)]:
                    started.result()
        yield pool


def pool_command(kind: str, argv: list[str]) -> int:
    """``dojobber ARGV`` with the executor a pool of ``kind`` made here."""
    # As the command notes a stop while it loads (dojobber.stopping): held
    # back until it can be noted, then acted on by cli.main.
    stops = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    from dojobber import cli, stopping

    stopping.EARLY.note(ctrl_c=True)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
    from dojobber.command import run

    setattr(run, "started_executor",  # noqa: B010 (mypy: a module's name, replaced)
            lambda _, workers, scheduler: user_pool(kind, workers, scheduler))
    return cli.main(argv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak_signals",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=22, help="runs per engine and signal")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated, among: " + ", ".join(ENGINES))
    parser.add_argument("--signals", default="INT,TERM", help="INT, TERM or both")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pool", choices=["fork", "spawn", "loky", "fork-bare", "spawn-bare",
                                           "loky-bare"],
                        help=argparse.SUPPRESS)  # one run with a pool of this kind
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pool:
        return pool_command(args.pool, args.rest)
    engines = args.engines.split(",")
    signals = args.signals.split(",")
    seed = random.randrange(1 << 30) if args.seed is None else args.seed
    print(f"Signal soak: {args.runs} runs per engine and signal, seed {seed}", flush=True)
    print(HEADER, flush=True)
    cells = soak(args.runs, engines, signals, seed)
    total = sum(cell.runs for cell in cells.values())
    if len(cells) > 1:
        print(row("all", "both", _sum(cells.values())))
    bad = {key: cell for key, cell in cells.items()
           if cell.problems(STATUS[SIGNALS[key[1]]])}
    print(f"{total} runs, {len(bad)} of {len(cells)} engine x signal cells with a problem")
    for (engine, name), cell in bad.items():
        for example in cell.examples:
            print(f"--- {engine} {name} {example}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
