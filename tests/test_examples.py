"""The examples in examples/, run as real programs on real files, twice.

Each example must reach its goal on the first run, and on the second run
change nothing: every job passes at its first Check (the verbose output is
exactly one ``NAME.check: pass`` line per job, in run order).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import multiprocessing
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(example: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / example), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )


def load(example: str) -> ModuleType:
    """Import an example as a module, to read its constants."""
    spec = importlib.util.spec_from_file_location(example[:-3], EXAMPLES / example)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_check_only(jobs: list[str]) -> list[str]:
    return [f"{job}.check: pass" for job in jobs]


def ran(stderr: str) -> list[str]:
    """The ``NAME.run: ...`` lines of a verbose run."""
    return [line for line in stderr.splitlines() if ".run: " in line]


#: The workspace example makes a git repository with the git program (an
#: unpacked source archive may be tested where there is none).
needs_git = pytest.mark.skipif(
    shutil.which("git") is None,
    reason="the git program is not installed: the workspace example runs git",
)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


# 0. The getting-started program

def test_hello_twice(tmp_path: Path) -> None:
    first = run("hello.py", "home", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [
        "NotesDirectory.check: fail", "NotesDirectory.run: pass",
        "NotesDirectory.recheck: pass", "TodoFile.check: fail", "TodoFile.run: pass",
        "TodoFile.recheck: pass"]
    assert first.stdout == (
        "{'NotesDirectory': True, 'TodoFile': True}\n"
        "First thing to do: - learn DoJobber\n")
    assert (tmp_path / "home/notes/todo.txt").read_text() == "- learn DoJobber\n"

    second = run("hello.py", "home", cwd=tmp_path)
    assert (second.returncode, second.stdout) == (0, first.stdout)
    assert second.stderr.splitlines() == first_check_only(["NotesDirectory", "TodoFile"])


# 1. The project workspace

WORKSPACE_JOBS = [
    "Settings", "Directories", "Readme", "Pyproject", "Gitignore", "PackageInit",
    "FirstTest", "DocsIndex", "ProjectFiles", "GitRepository", "GitIdentity",
    "FirstCommit",
]
WORKSPACE_FILES = [
    ".gitignore", "README.md", "docs/index.md", "pyproject.toml",
    "src/demo_app/__init__.py", "tests/test_demo_app.py",
]


@needs_git
def test_workspace_twice(tmp_path: Path) -> None:
    args = ("proj", "--name", "demo-app", "--author", "Grace Tester",
            "--email", "grace@example.org", "-v")
    first = run("workspace.py", *args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    project = tmp_path / "proj"
    assert "# demo-app\n\nA Python project by Grace Tester." in (
        project / "README.md").read_text()
    assert 'authors = [{name = "Grace Tester", email = "grace@example.org"}]' in (
        project / "pyproject.toml").read_text()
    assert (project / "tests/test_demo_app.py").read_text().startswith("import demo_app\n")
    assert git(project, "rev-parse", "--show-toplevel") == str(project.resolve())
    assert git(project, "log", "--format=%s|%an|%ae") == (
        "Start the project|Grace Tester|grace@example.org")
    assert git(project, "ls-files").splitlines() == WORKSPACE_FILES
    assert git(project, "status", "--porcelain") == ""
    head = git(project, "rev-parse", "HEAD")
    assert first.stdout == f"proj: ready, first commit {head[:12]}\n"

    second = run("workspace.py", *args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stderr.splitlines() == first_check_only(WORKSPACE_JOBS)
    assert git(project, "rev-list", "--count", "HEAD") == "1"


@needs_git
def test_workspace_repairs_only_what_changed(tmp_path: Path) -> None:
    assert run("workspace.py", "proj", cwd=tmp_path).returncode == 0
    project = tmp_path / "proj"
    readme = (project / "README.md").read_text()
    (project / "README.md").write_text("scribbled over\n")
    (project / "docs/index.md").unlink()

    again = run("workspace.py", "proj", "-v", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert ran(again.stderr) == ["Readme.run: pass", "DocsIndex.run: pass"]
    assert (project / "README.md").read_text() == readme
    assert (project / "docs/index.md").read_text() == "# proj documentation\n"
    assert git(project, "rev-list", "--count", "HEAD") == "1"


@needs_git
def test_workspace_inside_another_repository_gets_its_own(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "--quiet")
    done = run("workspace.py", "outer/inner", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (outer / "inner/.git").is_dir()
    assert git(outer / "inner", "rev-list", "--count", "HEAD") == "1"
    with pytest.raises(subprocess.CalledProcessError):
        git(outer, "rev-parse", "--verify", "HEAD")


def test_workspace_dry_run_creates_nothing(tmp_path: Path) -> None:
    done = run("workspace.py", "proj", "-n", "-v", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[:2] == ["Settings.check: pass", "Directories.check: fail"]
    assert list(tmp_path.iterdir()) == []


# 2. The SQLite database

SQLITE_JOBS = [
    "DatabaseFile", "CreateTables", "AddIsbnAndYear", "AddLoans", "SeedAuthors",
    "SeedBooks", "AuthorIndex", "CatalogueWorks",
]


def test_sqlite_twice(tmp_path: Path) -> None:
    first = run("sqlite_db.py", "db", "-v", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        "db/library.sqlite3: schema version 3; books by author: "
        "Herman Melville: 1, Jane Austen: 2, Mary Shelley: 1\n")
    path = tmp_path / "db" / "library.sqlite3"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)
        assert db.execute("SELECT name FROM authors ORDER BY id").fetchall() == [
            ("Jane Austen",), ("Mary Shelley",), ("Herman Melville",)]
        assert db.execute(
            "SELECT title, year FROM books WHERE isbn = '978-0141439471'"
        ).fetchall() == [("Frankenstein", 1818)]
        assert db.execute("SELECT count(*) FROM books").fetchone() == (4,)
        indexes = {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"books_author", "books_isbn"} <= indexes
        assert db.execute("SELECT count(*) FROM loans").fetchone() == (0,)
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT title FROM books WHERE author_id = 2").fetchall()
        assert "books_author" in " ".join(row[3] for row in plan)
        # Rows a user adds later must survive later runs.
        db.execute("INSERT INTO books (isbn, title, author_id, year) "
                   "VALUES ('978-0199537150', 'Persuasion', 1, 1817)")

    second = run("sqlite_db.py", "db", "-v", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stderr.splitlines() == first_check_only(SQLITE_JOBS)
    assert "Jane Austen: 3" in second.stdout
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM books").fetchone() == (5,)


def test_sqlite_applies_only_the_missing_migrations(tmp_path: Path) -> None:
    module = load("sqlite_db.py")
    (tmp_path / "db").mkdir()
    with sqlite3.connect(tmp_path / "db" / "library.sqlite3") as db:
        db.executescript(module.CreateTables.SQL + "; PRAGMA user_version = 1;")
    done = run("sqlite_db.py", "db", "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ran(done.stderr) == [
        "AddIsbnAndYear.run: pass", "AddLoans.run: pass", "SeedAuthors.run: pass",
        "SeedBooks.run: pass", "AuthorIndex.run: pass"]


def test_sqlite_dry_run_creates_nothing(tmp_path: Path) -> None:
    done = run("sqlite_db.py", "db", "-n", cwd=tmp_path)
    assert done.returncode == 1
    assert "DatabaseFile: " in done.stderr and "does not exist" in done.stderr
    assert list(tmp_path.iterdir()) == []


# 3. The local HTTP service

SERVICE_JOBS = ["SiteFiles", "ServerStarted", "ServerAnswers", "SiteVerified"]


def port_is_closed(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_service_twice(tmp_path: Path) -> None:
    module = load("local_service.py")
    first = run("local_service.py", "site", "-v", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "site: site verified over HTTP\n"
    lines = first.stderr.splitlines()
    assert "ServerStarted.run: pass" in lines
    assert lines[-3:] == [
        "SiteVerified.check: fail", "SiteVerified.run: pass", "SiteVerified.recheck: pass"]
    site = tmp_path / "site"
    record = json.loads((site / "verified.json").read_text())
    for page, text in module.PAGES.items():
        assert (site / "site" / page).read_text() == text
        assert record["pages"][page] == hashlib.sha256(text.encode()).hexdigest()
    # The server answered on that port during the run; Cleanup stopped it.
    assert 1024 <= record["port"] <= 65535
    assert port_is_closed(record["port"])
    assert not (site / "server.port").exists()

    second = run("local_service.py", "site", "-v", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stderr.splitlines() == first_check_only(SERVICE_JOBS)


def test_service_verifies_again_when_the_record_is_gone(tmp_path: Path) -> None:
    assert run("local_service.py", "site", cwd=tmp_path).returncode == 0
    record = tmp_path / "site" / "verified.json"
    record.unlink()
    again = run("local_service.py", "site", "-v", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert ran(again.stderr)[0] == "ServerStarted.run: pass"
    assert port_is_closed(json.loads(record.read_text())["port"])


# 4. The data pipeline

PIPELINE_JOBS = ["Directories"] + [
    f"{step} {station}" for station in ("north", "south", "east", "west")
    for step in ("Generate", "Clean")] + ["Checksums"]


def test_pipeline_twice_and_dry_runs(tmp_path: Path) -> None:
    dry = run("data_pipeline.py", "out", "-n", cwd=tmp_path)
    assert dry.returncode == 1
    assert dry.stdout.splitlines() == [
        "would run: Directories",
        "then check (and run if needed): " + ", ".join(PIPELINE_JOBS[1:])]
    assert list(tmp_path.iterdir()) == []

    first = run("data_pipeline.py", "out", "-v", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "out: 4 files cleaned, SHA256SUMS up to date\n"
    out = tmp_path / "out"
    for station in ("north", "south", "east", "west"):
        raw = (out / "raw" / f"{station}.csv").read_text().splitlines()
        clean = (out / "clean" / f"{station}.csv").read_text().splitlines()
        assert raw[0] == "hour,celsius" and len(raw) == 25
        good = [row for row in raw[1:] if not row.endswith("n/a")]
        assert clean[0] == "hour,celsius,fahrenheit"
        assert [row.rsplit(",", 1)[0] for row in clean[1:]] == good
        for row in clean[1:]:
            celsius, fahrenheit = map(float, row.split(",")[1:])
            assert fahrenheit == pytest.approx(celsius * 9 / 5 + 32, abs=0.051)
    sums = [
        f"{hashlib.sha256((out / 'clean' / f'{s}.csv').read_bytes()).hexdigest()}"
        f"  clean/{s}.csv"
        for s in sorted(("north", "south", "east", "west"))]
    assert (out / "SHA256SUMS").read_text().splitlines() == sums
    # The checksums file is one sha256sum itself accepts.
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    second = run("data_pipeline.py", "out", "-v", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stderr.splitlines() == first_check_only(PIPELINE_JOBS)

    nothing = run("data_pipeline.py", "out", "-n", cwd=tmp_path)
    assert (nothing.returncode, nothing.stdout) == (0, "nothing to do: every job passes\n")


def files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("executor", ["forkserver", "spawn", "dask"])
def test_pipeline_on_an_executor_ends_as_in_one_process(tmp_path: Path, executor: str) -> None:
    """Its jobs are made at run time from classes of the script being run:
    they travel to the workers by value."""
    if executor == "dask":
        pytest.importorskip("distributed", reason="Dask's distributed is not installed "
                            "(pip install dojobber[dask])")
    elif executor not in multiprocessing.get_all_start_methods():
        pytest.skip(f"processes cannot start by {executor} here")
    (tmp_path / "here").mkdir()
    (tmp_path / "there").mkdir()
    here = run("data_pipeline.py", "out", "-v", cwd=tmp_path / "here")
    there = run("data_pipeline.py", "out", "-v", "--executor", executor,
                cwd=tmp_path / "there")
    assert there.returncode == here.returncode == 0, there.stderr
    assert there.stdout == here.stdout == "out: 4 files cleaned, SHA256SUMS up to date\n"
    # Tries end in another order: each try's lines stay together.
    assert sorted(there.stderr.splitlines()) == sorted(here.stderr.splitlines())
    assert files(tmp_path / "there" / "out") == files(tmp_path / "here" / "out")


def test_pipeline_dry_run_then_repair(tmp_path: Path) -> None:
    assert run("data_pipeline.py", "out", cwd=tmp_path).returncode == 0
    damaged = tmp_path / "out" / "clean" / "north.csv"
    good = damaged.read_bytes()
    damaged.write_bytes(good + b"junk\n")

    dry = run("data_pipeline.py", "out", "-n", cwd=tmp_path)
    assert dry.returncode == 1
    assert dry.stdout.splitlines() == [
        "would run: Clean north", "then check (and run if needed): Checksums"]
    assert damaged.read_bytes() == good + b"junk\n"

    fixed = run("data_pipeline.py", "out", "-v", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert ran(fixed.stderr) == ["Clean north.run: pass"]
    assert damaged.read_bytes() == good


def test_pipeline_makes_one_pair_of_jobs_per_input(tmp_path: Path) -> None:
    done = run("data_pipeline.py", "out", "--stations", "harbour", "airport", "-v",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checked = [line.split(".check")[0] for line in done.stderr.splitlines()
               if ".check: " in line]
    assert checked == ["Directories", "Generate harbour", "Clean harbour",
                       "Generate airport", "Clean airport", "Checksums"]
    assert sorted(p.name for p in (tmp_path / "out" / "clean").iterdir()) == [
        "airport.csv", "harbour.csv"]


# The docs link every example

def test_docs_link_every_example() -> None:
    page = (ROOT / "docs" / "examples.rst").read_text()
    for example in sorted(EXAMPLES.glob("*.py")):
        assert f"examples/{example.name}" in page, example.name
