"""The release as it is published: what ``python -m build`` prints and makes.

The sdist and the wheel come from conftest.py's ``release`` fixture, built once
per session from a copy of this tree to which a developer's leftovers (a docs
build, caches, bytecode) were added.
"""

from __future__ import annotations

import email.parser
import re
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import dojobber
from conftest import LIVED_IN, SOURCE_ROOT, Release, left_out_of_copies

if sys.version_info >= (3, 11):
    import tomllib
else:  # build, a test dependency, brings tomli to Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

#: The files and folders README.rst's commands need, beside the package.
TOP_FILES = ("LICENSE", "README.rst", "MANIFEST.in", "setup.py", "pyproject.toml",
             "dev.sh", "noxfile.py")
FOLDERS = ("docs", "examples", "benchmarks", "tests")


def metadata(text: str) -> Message:
    return email.parser.Parser().parsestr(text, headersonly=True)


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as opened:
        (name,) = [n for n in opened.namelist() if n.endswith(".dist-info/METADATA")]
        return metadata(opened.read(name).decode())


def sdist_names(sdist: Path) -> set[str]:
    """The sdist's files, without their leading ``dojobber-VERSION/``."""
    with tarfile.open(sdist) as opened:
        return {m.name.split("/", 1)[1] for m in opened.getmembers() if m.isfile()}


def source_files(folder: str) -> set[str]:
    """The files of ``folder`` in this tree that are source (not caches or builds)."""
    found = set()
    for path in sorted((SOURCE_ROOT / folder).rglob("*")):
        parts = path.relative_to(SOURCE_ROOT).parts
        inside = [SOURCE_ROOT.joinpath(*parts[:k]) for k in range(len(parts))]
        if path.is_file() and not any(
            left_out_of_copies(SOURCE_ROOT, directory, name)
            for directory, name in zip(inside, parts)
        ):
            found.add("/".join(parts))
    return found


def test_the_build_prints_no_deprecation_warning(release: Release) -> None:
    said = [line for line in release.output.splitlines() if "deprecat" in line.lower()]
    assert said == [], "python -m build warned:\n" + "\n".join(said)


def test_the_version_is_written_once_in_dojobber_version(release: Release) -> None:
    pyproject = tomllib.loads((SOURCE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "dojobber.version.__version__"}
    version = dojobber.__version__
    assert wheel_metadata(release.wheel)["Version"] == version
    with tarfile.open(release.sdist) as opened:
        pkg_info = opened.extractfile(f"dojobber-{version}/PKG-INFO")
        assert pkg_info is not None
        assert metadata(pkg_info.read().decode())["Version"] == version
    # No other module of the package spells the version out.
    spelled = sorted(
        path.relative_to(SOURCE_ROOT).as_posix()
        for path in (SOURCE_ROOT / "dojobber").rglob("*.py")
        if f'"{version}"' in path.read_text(encoding="utf-8")
    )
    assert spelled == ["dojobber/version.py"]


def test_the_licence_is_an_spdx_expression_with_its_file(release: Release) -> None:
    meta = wheel_metadata(release.wheel)
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["License"] is None  # the deprecated free-text field
    assert [c for c in meta.get_all("Classifier", []) if c.startswith("License ::")] == []
    with zipfile.ZipFile(release.wheel) as opened:
        shipped = opened.read(f"dojobber-{dojobber.__version__}.dist-info/licenses/LICENSE")
    assert shipped == (SOURCE_ROOT / "LICENSE").read_bytes()


def test_the_sdist_holds_what_the_readme_commands_need(release: Release) -> None:
    names = sdist_names(release.sdist)
    wanted = set(TOP_FILES).union(*(source_files(folder) for folder in FOLDERS))
    wanted |= {p.relative_to(SOURCE_ROOT).as_posix()
               for p in (SOURCE_ROOT / "dojobber").rglob("*.py")}
    # The helpers the tests import and the golden traces, said by name too:
    # they are what a packager's test run fails on first.
    assert {"tests/conftest.py", "tests/dojobber_example.py", "tests/executor_jobs.py",
            "tests/golden/example-verbose-default.txt", "docs/conf.py",
            "docs/changelog.rst"} <= wanted
    assert sorted(wanted - names) == []


def test_the_sdist_leaves_out_a_developers_leftovers(release: Release) -> None:
    names = sdist_names(release.sdist)
    leftovers = sorted(name for name in names
                       if name in LIVED_IN or re.search(r"(^|/)(\.|__pycache__/|_build/)", name))
    assert leftovers == []


# --- What the docs tell a user ------------------------------------------------


def test_the_changelog_has_a_section_for_this_version() -> None:
    changelog = (SOURCE_ROOT / "docs" / "changelog.rst").read_text(encoding="utf-8")
    headings = re.findall(r"^(\S.*)\n[=-]{3,}$", changelog, re.MULTILINE)
    assert any(h.split()[0] == dojobber.__version__ for h in headings), headings
    assert "docs/changelog.rst" in (SOURCE_ROOT / "README.rst").read_text(encoding="utf-8")


def pip_install_targets(text: str) -> list[str]:
    """What each ``pip install ...`` command in ``text`` installs (its
    arguments that are not options), up to the end of the literal or line."""
    targets = []
    for command in re.findall(r"pip install ([^`\n#]+)", text):
        targets += [word for word in command.split() if not word.startswith("-")]
    return targets


def test_pip_install_targets_are_read_right() -> None:
    text = ("``pip install`` this\n``pip install '.[dask]'``, then\n"
            "    python3 -m pip install --quiet .   # here\n``pip install 'dojobber[x]'``")
    assert pip_install_targets(text) == ["'.[dask]'", ".", "'dojobber[x]'"]


def test_install_commands_install_this_checkout() -> None:
    # Until 1.0.0 is published, the index's dojobber is 0.6.x: a command
    # naming "dojobber[...]" would install that, not this project.
    pages = [SOURCE_ROOT / "README.rst", *sorted((SOURCE_ROOT / "docs").glob("*.rst"))]
    wrong = [f"{page.name}: pip install {target}" for page in pages
             for target in pip_install_targets(page.read_text(encoding="utf-8"))
             if not target.strip("'\"").startswith(".")]
    assert wrong == []
