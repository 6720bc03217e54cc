"""The CI matrix: the test suite on every supported CPython, types, lint, coverage.

Run ``nox`` (all sessions) or ``nox -s tests-3.12``. A Python of the matrix
that cannot be found fails the run instead of being skipped.
"""

from __future__ import annotations

import glob
import os

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
#: The interpreter of the single-Python sessions (mypy, ruff, coverage).
MAIN_PYTHON = "3.12"

nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "mypy", "ruff", "coverage"]


def _put_pyenv_pythons_on_path() -> None:
    # pyenv's shims only answer for the versions selected by `pyenv global`
    # or `.python-version`; the real binaries are in $PYENV_ROOT/versions.
    # Putting those directories first lets nox find every version however
    # pyenv is set up. Absent ones are left for nox to report as missing.
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = []
    for version in PYTHONS:
        dirs = sorted(glob.glob(os.path.join(root, "versions", version + ".*", "bin")))
        found += [d for d in dirs[-1:] if os.access(os.path.join(d, "python" + version), os.X_OK)]
    if found:
        os.environ["PATH"] = os.pathsep.join(found + [os.environ.get("PATH", "")])


_put_pyenv_pythons_on_path()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole pytest suite."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session(python=MAIN_PYTHON)
def mypy(session: nox.Session) -> None:
    """``mypy --strict`` over the package (settings in pyproject.toml)."""
    # The postgres extra brings psycopg, whose types the history's store uses.
    session.install("-e", ".[postgres]", "mypy>=1.10")
    session.run("mypy", "--strict", "dojobber/")


@nox.session(python=MAIN_PYTHON)
def ruff(session: nox.Session) -> None:
    """Lint rules only (pyproject.toml); the code is never reformatted here."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "dojobber", "tests", "noxfile.py")


@nox.session(python=MAIN_PYTHON)
def coverage(session: nox.Session) -> None:
    """Branch coverage of ``dojobber/`` over the whole suite, reported."""
    # 7.10 brings `patch = ["subprocess"]`: the CLI tests' subprocesses count.
    session.install("-e", ".[test]", "coverage[toml]>=7.10")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-q", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")
