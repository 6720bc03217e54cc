"""Lines above the live progress line: a line per finished job, and what jobs
print, each on a line of its own (issue 24, item 9).

First the shared writer, ``LiveTerminal``, byte by byte and from many
threads; then ``dojobber run`` on a real pseudo-terminal, its output played
into the ``pyte`` terminal emulator, in the sequential and the thread engine.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from dojobber.liveterminal import LiveTerminal

ERASE = "\r\x1b[K"
COLUMNS, ROWS = 100, 40


def screen_of(output: str | bytes) -> list[str]:
    """The lines a terminal shows after ``output``, trailing blanks cut."""
    import pyte

    screen = pyte.Screen(COLUMNS, ROWS)
    if isinstance(output, str):
        output = output.replace("\n", "\r\n")  # as the terminal's driver does
        output = output.encode()
    pyte.ByteStream(screen).feed(output)
    return [line.rstrip() for line in screen.display]


# The writer, byte by byte


def test_a_line_written_above_erases_the_live_line_and_draws_it_again() -> None:
    out = io.StringIO()
    terminal = LiveTerminal(out)
    terminal.show("live 1")
    terminal.write("hello\n")
    terminal.show("live 2")
    assert out.getvalue() == ERASE + "live 1" + ERASE + "hello\n" + ERASE + "live 1" + ERASE + "live 2"
    terminal.hide()
    assert out.getvalue().endswith("live 2" + ERASE)
    terminal.write("after\n")
    assert out.getvalue().endswith(ERASE + "after\n")  # no live line any more


def test_an_unfinished_line_keeps_the_live_line_away_until_it_ends() -> None:
    out = io.StringIO()
    terminal = LiveTerminal(out)
    terminal.show("live")
    terminal.write("Working...")
    terminal.show("live, later")  # the ticker: not drawn after "Working..."
    terminal.write(" done\n")
    assert out.getvalue() == (
        ERASE + "live" + ERASE + "Working... done\n" + ERASE + "live, later")
    assert screen_of(out.getvalue())[:2] == ["Working... done", "live, later"]


def test_own_lines_start_a_line_of_their_own() -> None:
    out = io.StringIO()
    terminal = LiveTerminal(out)
    lines = terminal.own_lines()
    terminal.show("live")
    terminal.write("Working...")
    lines.write("dojobber: Fetch passed (1 try, 1.00s)\n")
    assert screen_of(out.getvalue())[:3] == [
        "Working...", "dojobber: Fetch passed (1 try, 1.00s)", "live"]


def test_hiding_the_live_line_ends_an_unfinished_line() -> None:
    out = io.StringIO()
    terminal = LiveTerminal(out)
    terminal.show("live")
    terminal.write("no newline")
    terminal.hide()
    out.write("dojobber: summary\n")
    assert screen_of(out.getvalue())[:3] == ["no newline", "dojobber: summary", ""]


def test_text_written_elsewhere_goes_to_its_own_stream() -> None:
    live, other = io.StringIO(), io.StringIO()
    terminal = LiveTerminal(live)
    terminal.show("live")
    stream = terminal.passing(other)
    print("from a job", file=stream)
    assert other.getvalue() == "from a job\n"
    assert live.getvalue() == ERASE + "live" + ERASE + ERASE + "live"
    assert stream.encoding == other.encoding  # the rest is the stream's own


def test_what_a_thread_writes_is_held_until_its_line_ends_or_is_flushed() -> None:
    out = io.StringIO()
    terminal = LiveTerminal(out)
    stream = terminal.passing(out)
    terminal.show("live")
    print("Password:", end=" ", file=stream)
    assert out.getvalue() == ERASE + "live"  # as a terminal's own stream would
    stream.flush()
    assert out.getvalue() == ERASE + "live" + ERASE + "Password: "


def test_log_handlers_made_before_write_above_the_live_line_during_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(tmp_path / "tty", "a") as mine, open(tmp_path / "tty", "a") as err:
        monkeypatch.setattr(sys, "stderr", err)
        handler = logging.StreamHandler()  # on sys.stderr, as logging.basicConfig() makes it
        logger = logging.getLogger("test_live_terminal")
        logger.addHandler(handler)
        try:
            terminal = LiveTerminal(mine)
            with terminal.carrying_prints():
                terminal.show("live")
                logger.warning("from a log")
            assert handler.stream is err
        finally:
            logger.removeHandler(handler)
    assert (tmp_path / "tty").read_bytes() == b"\r\x1b[Klive\r\x1b[Kfrom a log\n\r\x1b[Klive"


def test_what_nobody_flushed_is_written_and_its_line_ended_when_the_block_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(tmp_path / "tty", "a") as mine, open(tmp_path / "tty", "a") as out:
        monkeypatch.setattr(sys, "stdout", out)
        terminal = LiveTerminal(mine)
        with terminal.carrying_prints():
            print("no newline", end="")
        assert sys.stdout is out
        mine.write("next\n")  # what follows the block: on a line of its own
    assert (tmp_path / "tty").read_text() == "no newline\nnext\n"


def test_a_terminal_that_went_away_fails_no_writer() -> None:
    closed = io.StringIO()
    terminal = LiveTerminal(closed)
    other = io.StringIO()
    closed.close()
    terminal.show("live")
    terminal.write("still written\n", other)
    assert other.getvalue() == "still written\n"


def test_a_line_begun_in_one_thread_is_not_mixed_with_another_threads() -> None:
    out = io.StringIO()
    terminal = LiveTerminal(out)
    stream = terminal.passing(out)
    terminal.show("live")
    begun, other_printed = threading.Event(), threading.Event()

    def job() -> None:
        stream.write("A: first half")
        begun.set()
        other_printed.wait()
        stream.write(", second half\n")

    thread = threading.Thread(target=job)
    thread.start()
    begun.wait()
    print("B: whole", file=stream)
    other_printed.set()
    thread.join()
    assert screen_of(out.getvalue())[:4] == [
        "B: whole", "A: first half, second half", "live", ""]


def test_lines_from_many_threads_stay_whole_and_off_the_live_line() -> None:
    out = io.StringIO()
    terminal = LiveTerminal(out)
    stream = terminal.passing(out)
    terminal.show("live")
    start = threading.Barrier(4)

    def job(name: str) -> None:
        start.wait()
        for i in range(8):
            print(f"{name} line", i, file=stream)  # three writes: held, then whole
            terminal.show(f"live {name}{i}")

    threads = [threading.Thread(target=job, args=(f"T{k}",)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shown = screen_of(out.getvalue())
    written = [line for line in shown if " line " in line]
    assert sorted(written) == sorted(f"T{k} line {i}" for k in range(4) for i in range(8))
    assert shown[len(written)].startswith("live T")  # the live line, alone, below
    assert shown[len(written) + 1:] == [""] * (ROWS - len(written) - 1)


def test_prints_are_carried_only_while_the_block_lasts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three streams on one file (one terminal), and one on another file.
    with open(tmp_path / "tty", "a") as mine, open(tmp_path / "tty", "a") as out, \
            open(tmp_path / "other", "a") as err:
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        terminal = LiveTerminal(mine)
        with pytest.raises(KeyboardInterrupt), terminal.carrying_prints():
            assert sys.stdout is not out  # carried: it writes to the terminal
            assert sys.stderr is err  # another file: left alone
            terminal.show("live")
            print("from a job")
            raise KeyboardInterrupt
        assert (sys.stdout, sys.stderr) == (out, err)
    assert (tmp_path / "tty").read_bytes().endswith(b"from a job\n\r\x1b[Klive")


# dojobber run on a real terminal

JOBS = '''
import logging
import subprocess
import sys
import time

from dojobber import DummyJob, Job, RunonlyJob

logging.basicConfig(format="%(message)s", level=logging.INFO)


class Slow(Job):
    def Check(self, *args, **kwargs):
        time.sleep(0.8)  # past the progress line's delay


# Publish and Announce may run at once.
class Publish(RunonlyJob):
    DEPS = (Slow,)

    def Run(self, *args, **kwargs):
        print("PUBLISH: site published")
        sys.stdout.write("PUBLISH: second line\\n")


class Announce(RunonlyJob):
    DEPS = (Slow,)

    def Run(self, *args, **kwargs):
        print("ANNOUNCE: on stderr", file=sys.stderr)
        logging.getLogger("announce").info("ANNOUNCE: logged")


class Notify(RunonlyJob):
    DEPS = (Publish, Announce)

    def Run(self, *args, **kwargs):
        print("NOTIFY:", "half a line", end="", flush=True)
        if kwargs.get("hang"):
            time.sleep(120)  # until Ctrl-C
        time.sleep(0.6)  # the progress line would be redrawn meanwhile
        print(" and its end")
        subprocess.run(["echo", "ECHO: from a subprocess"], check=True)
        time.sleep(0.6)  # the progress line is redrawn after the echo


class Root(DummyJob):
    DEPS = (Notify,)
'''

PRINTED = ["PUBLISH: site published", "PUBLISH: second line", "ANNOUNCE: on stderr",
           "ANNOUNCE: logged",
           "NOTIFY: half a line and its end"]
PROGRESS = re.compile(r"dojobber: \d/5 passed, \d+\.\ds")


def run_on_terminal(args: list[str], cwd: Path, *, stdout_piped: bool = False,
                    ctrl_c_after: bytes | None = None,
                    env: dict[str, str | None] | None = None) -> tuple[int, bytes, bytes]:
    """``python -m dojobber ARGS`` with stderr (and stdout, unless piped) on a
    pseudo-terminal of COLUMNS x ROWS, given Ctrl-C once the terminal got
    ``ctrl_c_after``, with ``env``'s changes to the environment (None takes a
    variable away): its status, what the terminal got, and what stdout's
    pipe got."""
    environ = {k: v for k, v in os.environ.items() if k != "TERM"}
    environ["NO_COLOR"] = "1"
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "dojobber", *args], cwd=cwd, env=environ,
        stdin=subprocess.DEVNULL, stderr=terminal,
        stdout=subprocess.PIPE if stdout_piped else terminal,
        # Ctrl-C must reach it even when the tests run with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(terminal)
    seen = b""
    try:
        while select.select([controller], [], [], 120)[0]:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # Linux: the other side closed
                break
            if not chunk:
                break
            seen += chunk
            if ctrl_c_after is not None and ctrl_c_after in seen:
                process.send_signal(signal.SIGINT)
                ctrl_c_after = None
    finally:
        os.close(controller)
    piped = process.stdout.read() if process.stdout is not None else b""
    if process.stdout is not None:
        process.stdout.close()
    return process.wait(timeout=120), seen, piped


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(JOBS)
    return tmp_path


@pytest.mark.parametrize("engine", [
    ["--workers", "1"], ["--workers", "2"], ["--executor", "thread", "--workers", "2"],
], ids=["sequential", "threads", "thread-executor"])
def test_job_lines_and_printed_lines_scroll_above_the_progress_line(
    work: Path, engine: list[str]
) -> None:
    status, seen, _ = run_on_terminal(["run", "jobs.py:Root", *engine], work)
    assert status == 0
    assert b"; running: Slow" in seen  # the progress line was up when the jobs printed
    shown = screen_of(seen)

    # A line per finished job, in the order the jobs finished.
    finished = [line.split()[1] for line in shown
                if re.match(r"dojobber: \w+ passed(_after_run)? \(1 try, ", line)]
    assert finished[0] == "Slow" and finished[3:] == ["Notify", "Root"]
    assert sorted(finished[1:3]) == ["Announce", "Publish"]
    # What the jobs printed, each on a line of its own: the half line whole.
    for line in PRINTED:
        assert shown.count(line) == 1, shown
    assert shown.index("PUBLISH: site published") < shown.index("PUBLISH: second line")
    # The summary on lines of its own, the progress line gone.
    summary = next(k for k, line in enumerate(shown) if line.startswith("dojobber: 5 jobs: "))
    assert shown[summary - 1] == next(s for s in shown if s.startswith("dojobber: Root passed"))
    assert shown[summary + 1].startswith("dojobber: slowest: ")
    assert shown[summary + 2:] == [""] * (ROWS - summary - 2)
    # Nothing printed is glued to a progress line; the only trace of one
    # is where the subprocess wrote behind DoJobber's back.
    for line in shown:
        if PROGRESS.match(line):
            assert line.endswith("ECHO: from a subprocess"), shown
    assert any(line.endswith("ECHO: from a subprocess") for line in shown)


def test_after_a_subprocess_wrote_the_progress_line_is_drawn_whole(work: Path) -> None:
    status, seen, _ = run_on_terminal(["run", "jobs.py:Root"], work)
    assert status == 0
    # The terminal as it was at the first redraw after the echo.
    echoed = seen.index(b"ECHO: from a subprocess")
    redrawn = seen.index(b"\r\x1b[K", seen.index(b"\r\x1b[K", echoed) + 1)
    import pyte

    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(seen[:redrawn])
    line = screen.display[screen.cursor.y].rstrip()
    assert PROGRESS.fullmatch(line.split(";")[0]) and line.endswith("; running: Notify")
    assert screen.cursor.x == len(line)


def test_ctrl_c_leaves_the_terminal_clean(work: Path) -> None:
    status, seen, _ = run_on_terminal(["run", "jobs.py:Root", "--arg", "hang=1"], work,
                                      ctrl_c_after=b"NOTIFY: half a line")
    assert status == 130
    shown = [line for line in screen_of(seen) if line]
    # The unfinished line ended, the progress line erased, and the summary
    # and the last word each on a line of their own.
    assert "NOTIFY: half a line" in shown, shown
    assert not [line for line in shown if PROGRESS.match(line)], shown
    assert [line for line in shown if line.startswith("dojobber: 5 jobs: ")]
    assert shown[-1] == "dojobber: interrupted"


def test_the_event_log_on_the_terminal_goes_above_the_progress_line(work: Path) -> None:
    status, seen, _ = run_on_terminal(["run", "--events", "-", "jobs.py:Root"], work)
    assert status == 0
    shown = screen_of(seen)
    events = [line for line in shown if line.startswith('{"event": ')]
    assert '{"event": "try_started"' in seen.decode().split("; running: Slow", 1)[1]
    assert len(events) > 10
    assert not [line for line in shown if PROGRESS.match(line) and "{" in line]


def test_stdout_into_a_pipe_is_left_as_the_jobs_wrote_it(work: Path) -> None:
    status, seen, piped = run_on_terminal(["run", "jobs.py:Root"], work, stdout_piped=True)
    assert status == 0
    assert piped == (b"PUBLISH: site published\nPUBLISH: second line\n"
                     b"NOTIFY: half a line and its end\nECHO: from a subprocess\n")
    shown = screen_of(seen)
    assert shown.count("ANNOUNCE: on stderr") == 1  # stderr is still the terminal
    assert "dojobber: Publish passed_after_run" in "\n".join(shown)


def test_not_a_terminal_output_unchanged(work: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "dojobber", "run", "jobs.py:Root"],
                          cwd=work, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0
    assert done.stdout == (b"PUBLISH: site published\nPUBLISH: second line\n"
                           b"NOTIFY: half a line and its end\nECHO: from a subprocess\n")
    lines = [re.sub(r"\d+(\.\d+)?m?s\b", "T", line)
             for line in done.stderr.decode().splitlines()]
    assert lines[:7] == [
        "dojobber: Slow passed (1 try, T)",
        "dojobber: Publish passed_after_run (1 try, T)",
        "ANNOUNCE: on stderr",
        "ANNOUNCE: logged",
        "dojobber: Announce passed_after_run (1 try, T)",
        "dojobber: Notify passed_after_run (1 try, T)",
        "dojobber: Root passed (1 try, T)",
    ]
    assert lines[7] == "dojobber: 5 jobs: 2 passed, 3 passed_after_run, 0 failed, 0 blocked " \
        "(took T, T in jobs)"
    assert b"\x1b" not in done.stderr and b"\r" not in done.stderr


# Text the terminal shows in two columns, or none (issue 33, item 7)

WIDE_JOBS = """
import time

from dojobber import DummyJob, Job


def nap(self, *args, **kwargs):
    time.sleep(1.2)  # past the progress line's delay, and a few redraws


Wide = type({name!r}, (Job,), {{"Check": nap}})
Root = type("Root", (DummyJob,), {{"DEPS": (Wide,)}})
"""


@pytest.mark.parametrize("name", [
    "発行者" * 14,  # 84 columns in 42 characters
    "🚀📦" * 21,  # the same in emoji
    "Cafe\u0301" * 30,  # 120 columns in 150 characters
], ids=["cjk", "emoji", "combining"])
def test_a_wide_name_keeps_the_progress_line_on_one_row(tmp_path: Path, name: str) -> None:
    import pyte

    (tmp_path / "jobs.py").write_text(WIDE_JOBS.format(name=name), encoding="utf-8")
    status, seen, _ = run_on_terminal(["run", "jobs.py:Root"], tmp_path)
    assert status == 0
    # The terminal as it was at the end of the last drawing naming the job.
    naming = b"; running: " + name[:2].encode()
    assert naming in seen, "no progress line named the job while it ran"
    drawn = seen.index(b"\r", seen.rindex(naming))
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(seen[:drawn])
    shown = [line.rstrip() for line in screen.display]
    row = shown[screen.cursor.y]
    # One row, as wide as the terminal allows (a wide character may not fit
    # in the last column left), and no other copy of it.
    assert row.startswith("dojobber: 0/2 passed, ") and "; running: " in row, shown
    assert COLUMNS - 2 <= screen.cursor.x <= COLUMNS - 1, shown
    assert [line for line in shown if "running: " in line] == [row], shown
    # After the run: the summary, and not a trace of a progress line.
    shown = screen_of(seen)
    assert [line for line in shown if "running: " in line or "/2 passed" in line] == [], shown
    assert any(line.startswith("dojobber: 2 jobs: 2 passed") for line in shown), shown


PARTIAL_JOBS = """
import sys
import time

from dojobber import Job, RunonlyJob


class Partial(RunonlyJob):
    def Run(self, *args, **kwargs):
        if kwargs.get("nap"):
            time.sleep(0.8)  # the progress line is up
        sys.stdout.write("partial, not flushed")


class Root(Job):
    DEPS = (Partial,)

    def Check(self, *args, **kwargs):
        pass
"""


@pytest.mark.parametrize(("options", "env"), [
    ([], {}),
    (["--arg", "nap=1"], {}),
    (["-v"], {}),
    (["--arg", "nap=1"], {"TERM": "dumb"}),
], ids=["quick", "progress-line", "verbose", "dumb-terminal"])
def test_a_line_left_unflushed_ends_before_the_summary(
    tmp_path: Path, options: list[str], env: dict[str, str | None]
) -> None:
    (tmp_path / "jobs.py").write_text(PARTIAL_JOBS)
    # Python's stdout buffered as usual: the job's text waits for a flush.
    status, seen, _ = run_on_terminal(["run", "jobs.py:Root", *options], tmp_path,
                                      env={"PYTHONUNBUFFERED": None, **env})
    assert status == 0
    shown = [line for line in screen_of(seen) if line]
    assert shown.count("partial, not flushed") == 1, shown
    at = shown.index("partial, not flushed")
    assert shown[at + 1].startswith("dojobber: 2 jobs: 1 passed, 1 passed_after_run"), shown
    assert shown[at + 2].startswith("dojobber: slowest: "), shown
    assert len(shown) == at + 3, shown


def test_a_dumb_terminal_gets_plain_lines_and_no_progress_line(work: Path) -> None:
    status, seen, _ = run_on_terminal(["run", "jobs.py:Root"], work,
                                      env={"TERM": "dumb", "NO_COLOR": None})
    assert status == 0
    # No colour, no erase, no carriage return but the driver's before each newline.
    assert b"\x1b" not in seen and b"\r" not in seen.replace(b"\r\n", b"\n")
    lines = [re.sub(r"\d+(\.\d+)?m?s\b", "T", line)
             for line in seen.decode().split("\r\n")]
    assert lines[-1] == ""  # the last line ended
    jobs = [line for line in lines if line.startswith("dojobber: ") and " (1 try, T)" in line]
    assert sorted(jobs) == sorted(
        [f"dojobber: {name} passed_after_run (1 try, T)"
         for name in ("Publish", "Announce", "Notify")]
        + ["dojobber: Slow passed (1 try, T)", "dojobber: Root passed (1 try, T)"])
    printed = [line for line in lines if not line.startswith("dojobber: ")]
    assert sorted(printed) == sorted([*PRINTED, "ECHO: from a subprocess", ""])
    assert lines[-3] == (
        "dojobber: 5 jobs: 2 passed, 3 passed_after_run, 0 failed, 0 blocked (took T, T in jobs)")
    assert lines[-2].startswith("dojobber: slowest: ")
