#!/usr/bin/env python3
"""Set up a new Python project workspace: directories, files from templates, git.

What it teaches:

* a Check that *compares* (a file's content with what the template renders),
  so the job also repairs a file someone edited or deleted;
* a job that only computes shared values into ``global_storage``, which the
  jobs depending on it read;
* one base class with many small subclasses (one per template file);
* real commands in Run (``git init``, ``git config``, ``git commit``), whose
  outcome does not matter: the recheck decides.

Run it twice: the first run creates everything, the second finds everything
in place and passes every job at its first Check::

    python examples/workspace.py /tmp/myproject -v
    python examples/workspace.py /tmp/myproject -v
"""

from __future__ import annotations

import argparse
import re
import string
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from dojobber import DoJobber, DummyJob, Job


def git(target: Path, *args: str) -> str:
    """Run git in ``target``; return its stdout, raise if it fails."""
    done = subprocess.run(
        ["git", "-C", str(target), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


class Settings(Job):
    """Work out the project's name and paths once, for every other job.

    Its Check always passes (or rejects a bad name): it only fills
    ``global_storage``. Jobs that read those values list it in their DEPS.
    """

    def Check(self, *args: Any, **kwargs: Any) -> str:
        target = Path(kwargs["target"]).resolve()
        name = kwargs.get("name") or target.name
        package = re.sub(r"\W", "_", name.lower())
        if not package.isidentifier():
            raise ValueError(f"{name!r} cannot be made into a Python package name")
        self.global_storage["target"] = target
        self.global_storage["context"] = {
            "name": name,
            "package": package,
            "author": kwargs["author"],
            "email": kwargs["email"],
        }
        return name

    def Run(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to do: a failing Check here means bad arguments."""


class Directories(Job):
    """The project's directory tree."""

    DEPS = (Settings,)

    def wanted(self) -> list[Path]:
        target = self.global_storage["target"]
        package = self.global_storage["context"]["package"]
        return [target / "src" / package, target / "tests", target / "docs"]

    def Check(self, *args: Any, **kwargs: Any) -> None:
        missing = [str(path) for path in self.wanted() if not path.is_dir()]
        if missing:
            raise FileNotFoundError(f"missing directories: {', '.join(missing)}")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        for path in self.wanted():
            path.mkdir(parents=True, exist_ok=True)


class TemplateFile(Job):
    """A file whose content is ``TEMPLATE`` filled in from the settings.

    Not in the graph itself: each subclass sets ``PATH`` (relative to the
    project, itself a template) and ``TEMPLATE``.
    """

    DEPS = (Directories,)
    PATH = ""
    TEMPLATE = ""

    def path(self) -> Path:
        target: Path = self.global_storage["target"]
        return target / string.Template(self.PATH).substitute(self.global_storage["context"])

    def text(self) -> str:
        return string.Template(self.TEMPLATE).substitute(self.global_storage["context"])

    def Check(self, *args: Any, **kwargs: Any) -> None:
        path = self.path()
        # Local storage: Run reuses what Check already computed.
        self.storage["text"] = text = self.text()
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        if path.read_text(encoding="utf-8") != text:
            raise ValueError(f"{path} differs from its template")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        self.path().write_text(self.storage["text"], encoding="utf-8")


class Readme(TemplateFile):
    PATH = "README.md"
    TEMPLATE = """\
# $name

A Python project by $author.

Run the tests with `python -m pytest`.
"""


class Pyproject(TemplateFile):
    PATH = "pyproject.toml"
    TEMPLATE = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$name"
version = "0.1.0"
authors = [{name = "$author", email = "$email"}]
requires-python = ">=3.10"
"""


class Gitignore(TemplateFile):
    PATH = ".gitignore"
    TEMPLATE = """\
__pycache__/
*.egg-info/
.venv/
"""


class PackageInit(TemplateFile):
    PATH = "src/$package/__init__.py"
    TEMPLATE = '''\
"""$name."""

__version__ = "0.1.0"
'''


class FirstTest(TemplateFile):
    PATH = "tests/test_$package.py"
    TEMPLATE = """\
import $package


def test_version():
    assert $package.__version__ == "0.1.0"
"""


class DocsIndex(TemplateFile):
    PATH = "docs/index.md"
    TEMPLATE = """\
# $name documentation
"""


class ProjectFiles(DummyJob):
    """Groups the template files, so that the commit needs only one DEPS entry."""

    DEPS = (Readme, Pyproject, Gitignore, PackageInit, FirstTest, DocsIndex)


class GitRepository(Job):
    """The project directory is the top of its own git repository."""

    DEPS = (Directories,)

    def Check(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        # Compare the top level: a parent directory's repository must not count.
        top = git(target, "rev-parse", "--show-toplevel")
        if Path(top).resolve() != target:
            raise RuntimeError(f"{target} is inside the repository {top}, not its own")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        git(self.global_storage["target"], "init", "--quiet", "--initial-branch=main")


class GitIdentity(Job):
    """The repository's own user.name and user.email (no global config needed)."""

    DEPS = (Settings, GitRepository)

    def wanted(self) -> dict[str, str]:
        context = self.global_storage["context"]
        return {"user.name": context["author"], "user.email": context["email"]}

    def Check(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        for key, value in self.wanted().items():
            try:
                found = git(target, "config", "--local", key)
            except RuntimeError:
                found = None
            if found != value:
                raise ValueError(f"git {key} is {found!r}, want {value!r}")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        for key, value in self.wanted().items():
            git(target, "config", "--local", key, value)


class FirstCommit(Job):
    """The repository has a first commit holding the project files.

    Once it exists this job passes: later changes are the user's to commit.
    Its result (see ``noderesults``) is the commit's hash.
    """

    DEPS = (ProjectFiles, GitIdentity)

    def Check(self, *args: Any, **kwargs: Any) -> str:
        return git(self.global_storage["target"], "rev-parse", "--verify", "--quiet", "HEAD")

    def Run(self, *args: Any, **kwargs: Any) -> None:
        target = self.global_storage["target"]
        git(target, "add", "--all")
        git(target, "commit", "--quiet", "-m", "Start the project")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="workspace-demo",
                        help="the project directory (default: ./workspace-demo)")
    parser.add_argument("--name", help="project name (default: the directory's name)")
    parser.add_argument("--author", default="Ada Example")
    parser.add_argument("--email", default="ada@example.com")
    parser.add_argument("-n", "--no-act", action="store_true", help="only check")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-d", "--debug", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    dojob = DoJobber()
    dojob.configure(FirstCommit, no_act=args.no_act, verbose=args.verbose,
                    debug=args.debug)
    dojob.set_args(**vars(args))
    dojob.checknrun()
    if dojob.success():
        print(f"{args.target}: ready, first commit {dojob.noderesults['FirstCommit'][:12]}")
        return 0
    for name, error in dojob.nodeexceptions.items():
        print(f"{name}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
