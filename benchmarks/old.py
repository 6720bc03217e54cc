"""DoJobber 0.6.2 for comparison: its own virtual environment, run in a subprocess.

0.6.2 imports ``distutils`` and its graph library needs ``pkg_resources``, so
it only runs on CPython <= 3.11 with ``setuptools<70``. The environment is
built once, from the package index, under ``benchmarks/.cache/`` (which git
ignores): nothing of 0.6.2 is kept in this repository.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, ".cache", "dojobber-0.6.2")
REQUIREMENTS = ["dojobber==0.6.2", "setuptools<70"]


@dataclass
class OldResult:
    """One 0.6.2 measurement: the seconds and statuses, or a note saying why not."""

    seconds: float | None = None
    statuses: dict[str, int] | None = None
    note: str = ""


def find_python311() -> str | None:
    """A CPython 3.11: $DOJOBBER_BENCH_PYTHON311, else python3.11 on PATH, else pyenv's."""
    candidates = [
        os.environ.get("DOJOBBER_BENCH_PYTHON311", ""),
        shutil.which("python3.11") or "",
    ]
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(pyenv, "versions", "3.11*", "bin", "python")))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def venv_python(say: Callable[[str], None]) -> str | None:
    """The 0.6.2 environment's python, built on first use; None, said why, if impossible."""
    python = os.path.join(VENV, "bin", "python")
    done = os.path.join(VENV, ".complete")
    if os.path.exists(done):
        return python
    base = find_python311()
    if base is None:
        say("DoJobber 0.6.2 skipped: it needs CPython 3.11 (set DOJOBBER_BENCH_PYTHON311).")
        return None
    say(f"Building the DoJobber 0.6.2 environment in {os.path.relpath(VENV)} ...")
    shutil.rmtree(VENV, ignore_errors=True)
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    try:
        subprocess.run([base, "-m", "venv", VENV], check=True, capture_output=True)
        subprocess.run([*pip, *REQUIREMENTS], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        last = (error.stderr or "").strip().splitlines()[-1:] or [str(error)]
        say(f"DoJobber 0.6.2 skipped: could not build its environment: {last[0]}")
        return None
    open(done, "w").close()
    return python


def run(python: str, shape: str, size: int, repeat: int, limit: float) -> OldResult:
    """Time 0.6.2 on one graph, in a subprocess stopped after ``limit`` seconds."""
    runner = os.path.join(HERE, "old_runner.py")
    command = [python, runner, shape, str(size), str(repeat)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return OldResult(note=f"stopped after {limit:.0f}s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return OldResult(note=f"crashed: {last}")
    report = json.loads(lines[-1])
    if "error" in report:
        return OldResult(note=f"fails: {report['error']}")
    return OldResult(report["seconds"], report["statuses"])
