"""docs/reading-a-run.rst shows real sessions: each docs/reading/*.txt is
replayed in a shell here, and must print what the page shows (times aside).

A session is lines ``$ COMMAND`` followed by what the command printed
(stdout and stderr together). ``python tests/test_docs_reading.py`` writes
the sessions anew from their commands.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

READING = Path(__file__).resolve().parent.parent / "docs" / "reading"

# What changes from one run to the next: durations, clocks, timestamps,
# and so the order of the slowest jobs.
_VARIES = re.compile(
    r'slowest: .*|\d+(\.\d+)?(e-?\d+)?m?s\b'
    r'|"(time|elapsed|seconds|start|started_at)": [\d.e-]+')


def commands(session: str) -> list[str]:
    return [line[2:] for line in session.splitlines() if line.startswith("$ ")]


def replay(session: str, cwd: Path) -> str:
    """Run the session's commands in one shell in ``cwd``; their transcript."""
    for program in READING.glob("*.py"):
        shutil.copy(program, cwd)
    # Each command sees the exit status of the one before (for ``echo $?``).
    script = "".join(
        f"s=$?; printf '%s\\n' {_quote('$ ' + command)}; (exit $s)\n{command}\n"
        for command in commands(session)
    )
    environ = dict(os.environ, NO_COLOR="1", PYTHONUNBUFFERED="1")
    environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + environ["PATH"]
    done = subprocess.run(["sh", "-c", script], cwd=cwd, env=environ, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    return done.stdout


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def untimed(text: str) -> str:
    return _VARIES.sub("T", text)


@pytest.mark.parametrize("session", sorted(READING.glob("*.txt")), ids=lambda p: p.stem)
def test_the_page_shows_what_the_commands_print(session: Path, tmp_path: Path) -> None:
    shown = session.read_text()
    assert untimed(replay(shown, tmp_path)) == untimed(shown)


def test_there_are_sessions() -> None:
    assert len(list(READING.glob("*.txt"))) >= 4


if __name__ == "__main__":
    import tempfile

    for path in sorted(READING.glob("*.txt")):
        with tempfile.TemporaryDirectory() as folder:
            path.write_text(replay(path.read_text(), Path(folder)))
        print("wrote", path)
