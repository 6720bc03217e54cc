"""The run history on SQLite (issue 27): what a run records, what
``dojobber history`` shows of it, and that a history that cannot be written
changes nothing of the run."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import history_graph
from dojobber import ConfigurationError, DoJobber, DoJobberWarning, Job, JobTypeError
from dojobber.errors import HistoryWarning
from dojobber.history import store as history_store

TESTS = Path(__file__).resolve().parent
GRAPH = f"{TESTS / 'history_graph.py'}:Root"


def dojobber(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command in a subprocess, with ``env`` added to this process's environment."""
    whole = {**os.environ, **env}
    whole.pop("DOJOBBER_HISTORY", None)
    whole.update(env)
    return subprocess.run([sys.executable, "-m", "dojobber", *args], cwd=cwd,
                          capture_output=True, text=True, env=whole, timeout=300)


def three_runs(tmp_path: Path, place: str,
               *last: str) -> list[subprocess.CompletedProcess[str]]:
    """Drifty needs Run; then Shaky fails; then Drifty needs Run again and
    Shaky passes (the third run with the options ``last`` too)."""
    mark = str(tmp_path / "mark")
    done = [dojobber("run", GRAPH, "--history", place, cwd=tmp_path, MARK=mark)]
    done.append(dojobber("run", GRAPH, "--history", place, cwd=tmp_path, MARK=mark, FAIL="1"))
    os.remove(mark)
    done.append(dojobber("run", GRAPH, "--history", place, *last, cwd=tmp_path, MARK=mark))
    return done


def table(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


# --- Recording -----------------------------------------------------------------


def test_configure_history_records_the_run_and_each_job(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    place = tmp_path / "history.db"
    monkeypatch.setenv("MARK", str(tmp_path / "mark"))
    monkeypatch.chdir(tmp_path)
    dojob = DoJobber()
    dojob.configure(history_graph.Root, history=place, default_tries=2)
    dojob.checknrun()
    assert dojob.success()
    assert dojob.report().history_error is None
    (run,) = table(place, "SELECT host, directory, root, outcome, no_act, jobs, passed, "
                          "passed_after_run, failed, blocked, settings, wall_seconds FROM runs")
    host, directory, root, outcome, no_act, jobs, passed, ran, failed, blocked, settings, wall = run
    assert (directory, root, outcome, no_act, jobs, passed, ran, failed, blocked) == (
        str(tmp_path), "Root", "succeeded", 0, 5, 4, 1, 0, 0)
    assert host and wall > 0
    assert json.loads(settings)["default_tries"] == 2
    rows = table(place, "SELECT seq, name, outcome, tries, error FROM jobs ORDER BY seq")
    assert [row[1:4] for row in rows] == [
        ("Drifty", "passed_after_run", 1), ("Leaf", "passed", 1), ("Shaky", "passed", 1),
        ("Sleepy", "passed", 1), ("Root", "passed", 1)]
    assert table(place, "SELECT version FROM schema_version") == [(history_store.LATEST,)]
    assert table(place, "PRAGMA journal_mode") == [("wal",)]


def test_a_failed_jobs_error_and_tries_are_recorded(tmp_path: Path) -> None:
    place = tmp_path / "history.db"

    class Broken(Job):
        TRIES = 2
        RETRY_DELAY = 0

        def Check(self) -> None:
            raise OSError("disk on fire")

        def Run(self) -> None:
            pass

    dojob = DoJobber()
    dojob.configure(Broken, history=str(place))
    dojob.checknrun()
    assert table(place, "SELECT outcome, failed FROM runs") == [("failed", 1)]
    assert table(place, "SELECT name, outcome, tries, error FROM jobs") == [
        ("Broken", "failed", 2, "OSError: disk on fire")]


def test_fail_fast_jobs_never_tried_are_recorded_as_not_tried(tmp_path: Path) -> None:
    place = tmp_path / "history.db"

    class First(Job):
        TRIES = 1

        def Check(self) -> None:
            raise ValueError("no")

        def Run(self) -> None:
            pass

    class Second(Job):
        def Check(self) -> None:
            pass

    class Both(Job):
        DEPS = (First, Second)

        def Check(self) -> None:
            pass

    dojob = DoJobber()
    dojob.configure(Both, history=str(place), fail_fast=True)
    dojob.checknrun()
    assert dict(table(place, "SELECT name, outcome FROM jobs")) == {
        "First": "failed", "Second": "not_tried", "Both": "blocked"}
    assert table(place, "SELECT not_tried, blocked FROM runs") == [(1, 1)]


@pytest.mark.parametrize("bad, error, text", [
    (42, JobTypeError, "history must be a file path or a postgresql:// URL, got 42"),
    ("mysql://db/x", ConfigurationError, "got 'mysql://***'"),
    ("/no/such/dir/h.db", ConfigurationError, "no such directory '/no/such/dir'"),
])
def test_a_bad_history_fails_configure_naming_it(bad: Any, error: type, text: str) -> None:
    class Leaf(Job):
        def Check(self) -> None:
            pass

    with pytest.raises(error, match=re.escape(text)):
        DoJobber().configure(Leaf, history=bad)


def test_a_directory_as_history_fails_configure(tmp_path: Path) -> None:
    class Leaf(Job):
        def Check(self) -> None:
            pass

    with pytest.raises(ConfigurationError, match="is a directory"):
        DoJobber().configure(Leaf, history=str(tmp_path))


def test_dojobber_history_variable_records_and_a_bad_one_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Leaf(Job):
        def Check(self) -> None:
            pass

    place = tmp_path / "env.db"
    monkeypatch.setenv("DOJOBBER_HISTORY", str(place))
    dojob = DoJobber()
    dojob.configure(Leaf)
    dojob.checknrun()
    assert table(place, "SELECT root FROM runs") == [("Leaf",)]
    dojob.configure(Leaf, history="")  # "": nowhere, whatever the variable says
    dojob.checknrun()
    assert table(place, "SELECT COUNT(*) FROM runs") == [(1,)]
    monkeypatch.setenv("DOJOBBER_HISTORY", str(tmp_path / "missing" / "h.db"))
    with pytest.raises(ConfigurationError, match="DOJOBBER_HISTORY"):
        DoJobber().configure(Leaf)


def test_the_schema_migrates_forward_keeping_old_runs(tmp_path: Path) -> None:
    place = tmp_path / "old.db"
    with sqlite3.connect(place) as connection:  # a history as version 1 left it
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (1)")
        for statement in history_store.MIGRATIONS[0]:
            connection.execute(statement.format(id="INTEGER PRIMARY KEY", ref="INTEGER"))
        connection.execute(
            "INSERT INTO runs VALUES (7, 1.0, 2.0, 'old', 'u', '/', 'Leaf', 'succeeded', 0, "
            "1, 1, 0, 0, 0, 0, 0, '{}', '0.9')")

    class Leaf(Job):
        def Check(self) -> None:
            pass

    dojob = DoJobber()
    dojob.configure(Leaf, history=str(place))
    dojob.checknrun()
    assert table(place, "SELECT id, host FROM runs ORDER BY id") == [(7, "old"), (8, os.uname()[1])]
    assert table(place, "SELECT version FROM schema_version") == [(history_store.LATEST,)]
    indexes = {row[0] for row in table(place, "SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"runs_by_root_host", "jobs_by_name"} <= indexes


# --- Never at the run's expense ------------------------------------------------


def leaf_run(place: str) -> tuple[DoJobber, list[warnings.WarningMessage]]:
    class Leaf(Job):
        def Check(self) -> None:
            pass

    dojob = DoJobber()
    dojob.configure(Leaf, history=place)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dojob.checknrun()
    return dojob, [w for w in caught if issubclass(w.category, DoJobberWarning)]


def assert_reported_once(dojob: DoJobber, caught: list[warnings.WarningMessage],
                         reason: str) -> None:
    assert dojob.success()
    assert len(caught) == 1 and caught[0].category is HistoryWarning
    message = str(caught[0].message)
    assert message.startswith("run history not recorded in ") and reason in message
    report = dojob.report()
    assert report.history_error == message
    assert report.summary()[-1] == message
    assert report.to_dict()["history_error"] == message


def test_a_corrupt_file_is_reported_once_and_the_run_passes(tmp_path: Path) -> None:
    place = tmp_path / "corrupt.db"
    place.write_bytes(b"this is no database" * 100)
    dojob, caught = leaf_run(str(place))
    assert_reported_once(dojob, caught, "file is not a database")


def test_a_read_only_history_is_reported_once(tmp_path: Path) -> None:
    import tempfile

    # Not under pytest's folder, which only root may enter.
    folder = Path(tempfile.mkdtemp(prefix="dojobber-read-only-"))
    try:
        read_only_history(folder)
    finally:
        os.chmod(folder, 0o755)
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


def read_only_history(tmp_path: Path) -> None:
    place = tmp_path / "history.db"
    leaf_run(str(place))
    os.chmod(place, 0o444)
    os.chmod(tmp_path, 0o555)  # nor may the WAL's files be made beside it
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # a process that is not root, to which a read-only file is read-only
        try:
            import pwd

            if os.getuid() == 0:
                nobody = pwd.getpwnam("nobody")
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            dojob, caught = leaf_run(str(place))
            said = json.dumps([dojob.success(), dojob.report().history_error,
                               [str(w.message) for w in caught]])
        except BaseException as error:
            said = json.dumps(repr(error))
        os.write(writing, said.encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as answer:
        said = json.loads(answer.read())
    os.waitpid(child, 0)
    os.chmod(tmp_path, 0o755)
    assert isinstance(said, list), said
    success, error, messages = said
    assert success is True
    assert messages == [error]
    assert error.startswith(f"run history not recorded in {place}: OperationalError: ")
    assert "readonly" in error or "unable to open" in error


def test_a_history_locked_past_the_retries_is_reported_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    place = tmp_path / "history.db"
    leaf_run(str(place))
    monkeypatch.setattr(history_store, "BUSY_SECONDS", 0.05)
    holder = sqlite3.connect(place, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer that never lets go
    try:
        dojob, caught = leaf_run(str(place))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_reported_once(dojob, caught, "database is locked")
    assert table(place, "SELECT COUNT(*) FROM runs") == [(1,)]


def test_a_full_disk_keeps_the_commands_outcome_and_says_so_once(tmp_path: Path) -> None:
    place = tmp_path / "history.db"
    mark = str(tmp_path / "mark")
    assert dojobber("run", GRAPH, "--history", str(place), cwd=tmp_path, MARK=mark).returncode == 0
    size = place.stat().st_size

    def small_files() -> None:  # no file may grow: the disk is full
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    whole = {**os.environ, "MARK": mark, "FAIL": "1"}
    whole.pop("DOJOBBER_HISTORY", None)
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "run", GRAPH, "--history", str(place)],
        cwd=tmp_path, capture_output=True, text=True, env=whole, preexec_fn=small_files,
        timeout=300)
    assert done.returncode == 1  # Shaky failed, as without a history
    lines = [line for line in done.stderr.splitlines() if "history" in line]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"dojobber: run history not recorded in {place}: ")
    assert "Warning" not in done.stderr
    assert table(place, "SELECT COUNT(*) FROM runs") == [(1,)]


def test_a_failing_history_leaves_the_commands_exit_status_alone(tmp_path: Path) -> None:
    place = tmp_path / "corrupt.db"
    place.write_bytes(b"x" * 4096)
    mark = str(tmp_path / "mark")
    ok = dojobber("run", GRAPH, "--history", str(place), cwd=tmp_path, MARK=mark)
    assert ok.returncode == 0
    assert ok.stderr.splitlines()[-1] == (
        f"dojobber: run history not recorded in {place}: DatabaseError: file is not a database")
    failed = dojobber("run", GRAPH, "--history", str(place), cwd=tmp_path, MARK=mark, FAIL="1")
    assert failed.returncode == 1
    assert "dojobber: run history not recorded in" in failed.stderr


def test_four_processes_recording_at_once_leave_four_whole_runs(tmp_path: Path) -> None:
    place = tmp_path / "history.db"
    whole = {**os.environ, "MARK": str(tmp_path / "mark"), "SLEEPY": "0.2"}
    whole.pop("DOJOBBER_HISTORY", None)
    runs = [subprocess.Popen([sys.executable, "-m", "dojobber", "run", GRAPH, "--history",
                              str(place)], cwd=tmp_path, env=whole, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(4)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert "history" not in err
    assert table(place, "SELECT COUNT(*), SUM(jobs) FROM runs") == [(4, 20)]
    assert table(place, "SELECT run_id, COUNT(*) FROM jobs GROUP BY run_id") == [
        (1, 5), (2, 5), (3, 5), (4, 5)]


# --- Reading it back -----------------------------------------------------------


def history(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return dojobber("history", *args, cwd=tmp_path)


def test_three_runs_show_their_runs_drift_flaky_job_and_stories(tmp_path: Path) -> None:
    place = str(tmp_path / "history.db")
    assert [done.returncode for done in three_runs(tmp_path, place)] == [0, 1, 0]

    listed = history(tmp_path, place)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["RUN", "WHEN", "HOST", "ROOT", "OUTCOME", "JOBS", "WALL"]
    assert [line.split()[0] for line in lines[1:]] == ["3", "2", "1"]
    assert "failed" in lines[2] and "1 blocked" in lines[2]

    runs = json.loads(history(tmp_path, place, "--json").stdout)
    assert [(run["id"], run["outcome"]) for run in runs] == [
        (3, "succeeded"), (2, "failed"), (1, "succeeded")]
    assert runs[1]["counts"] == {"passed": 3, "passed_after_run": 0, "failed": 1,
                                 "blocked": 1, "not_tried": 0, "interrupted": 0}
    assert set(runs[0]) == {"id", "started_at", "host", "user", "directory", "root",
                            "outcome", "no_act", "wall_seconds", "jobs", "counts", "settings"}

    drift = json.loads(history(tmp_path, place, "--drift", "--json").stdout)
    assert [(d["job"], d["ran"], d["runs"]) for d in drift] == [("Drifty", 2, 3)]
    assert drift[0]["last_ran"] == runs[0]["started_at"]
    assert "Drifty  2 of 3" in history(tmp_path, place, "--drift").stdout

    flaky = json.loads(history(tmp_path, place, "--flaky", "--json").stdout)
    assert [(f["job"], f["changes"], f["outcomes"]) for f in flaky] == [
        ("Shaky", 2, ["passed", "failed", "passed"])]
    assert history(tmp_path, place, "--flaky").stdout.splitlines()[1].split() == [
        "Shaky", "2", "0", "3", "P", "F", "P"]

    story = json.loads(history(tmp_path, place, "--job", "Shaky", "--json").stdout)
    assert [(s["run_id"], s["outcome"], s["error"]) for s in story] == [
        (3, "passed", None), (2, "failed", "ValueError: shaky today"), (1, "passed", None)]
    assert "ValueError: shaky today" in history(tmp_path, place, "--job", "Shaky").stdout

    slow = json.loads(history(tmp_path, place, "--slow", "--json").stdout)
    assert [run["id"] for run in slow["runs"]] == [1, 2, 3]
    assert {job["job"]: job["runs"] for job in slow["jobs"]} == {
        "Drifty": 3, "Leaf": 3, "Shaky": 3, "Sleepy": 3, "Root": 2}

    fleet = json.loads(history(tmp_path, place, "--fleet", "--json").stdout)
    assert [(f["root"], f["run_id"], f["converged"], f["ran"]) for f in fleet] == [
        ("Root", 3, True, 1)]
    assert history(tmp_path, place, "--fleet").stdout.splitlines()[-1] == "1 of 1 converged"


def test_an_interrupted_run_records_the_job_whose_try_was_cut_short(tmp_path: Path) -> None:
    import interrupt_jobs

    place = str(tmp_path / "history.db")
    leaf_run(place)  # a whole run before: Leaf's time is a trend
    dojob = DoJobber()
    dojob.configure(interrupt_jobs.Root, history=place)
    with pytest.raises(KeyboardInterrupt):
        dojob.checknrun()
    assert dojob.report().history_error is None
    assert table(Path(place), "SELECT j.name, j.outcome, j.tries, j.error FROM jobs j "
                              "WHERE j.run_id = 2 ORDER BY j.seq") == [
        ("Ready", "passed", 1, None), ("Stops", "interrupted", 1, None),
        ("After", "blocked", 0, None), ("Root", "blocked", 0, None)]

    runs = json.loads(history(tmp_path, place, "--json").stdout)
    assert (runs[0]["outcome"], runs[0]["counts"]) == ("interrupted", {
        "passed": 1, "passed_after_run": 0, "failed": 0, "blocked": 2, "not_tried": 0,
        "interrupted": 1})
    listed = history(tmp_path, place).stdout.splitlines()
    assert "interrupted  1 passed, 2 blocked, 1 interrupted" in listed[1]
    story = json.loads(history(tmp_path, place, "--job", "Stops", "--json").stdout)
    assert [(s["run_id"], s["outcome"], s["tries"]) for s in story] == [(2, "interrupted", 1)]
    # Where the interrupt came is not how long the job takes.
    slow = json.loads(history(tmp_path, place, "--slow", "--json").stdout)
    assert {job["job"]: job["runs"] for job in slow["jobs"]} == {"Leaf": 1, "Ready": 1}

    out = tmp_path / "history.html"
    assert history(tmp_path, place, "--html", str(out)).returncode == 0
    from test_html import Page

    page = Page(out.read_text(encoding="utf-8"))
    assert [bar.classes[1] for bar in page.by_id("runs").find("b", "run")] == [
        "succeeded", "interrupted"]
    strips = {row.find("span", "name")[0].text(): [cell.classes[0] for cell in row.find("i")]
              for row in page.by_id("strips").find("div", "strip")}
    assert strips["Stops"] == ["absent", "interrupted"]
    assert strips["After"] == ["absent", "blocked"]
    assert "key interrupted" in out.read_text(encoding="utf-8")


def test_the_filters_choose_the_runs(tmp_path: Path) -> None:
    place = str(tmp_path / "history.db")
    three_runs(tmp_path, place)
    ids = lambda *args: [run["id"] for run in json.loads(  # noqa: E731
        history(tmp_path, place, "--json", *args).stdout)]
    assert ids("--failed") == [2]
    assert ids("--last", "2") == [3, 2]
    assert ids("--root", "Nothing") == []
    assert ids("--host", os.uname()[1], "--since", "1d") == [3, 2, 1]
    assert ids("--since", "2999-01-01") == []
    assert ids("--since", "2000-01-01T00:00:00+00:00") == [3, 2, 1]
    assert history(tmp_path, place, "--root", "Nothing").stdout == (
        "no runs recorded (or none that match)\n")


@pytest.mark.parametrize("args, error", [
    (("--since", "yesterday"), "--since 'yesterday' is neither an ISO 8601 date or time "
                               "nor a span such as 7d, 12h, 30m"),
    (("--last", "0"), "--last must be 1 or more, got 0"),
    (("--last", "9223372036854775808"),
     "--last must be at most 9223372036854775807, got 9223372036854775808"),
    (("--since", "9" * 400 + "d"), f"--since '{'9' * 400}d' reaches back before the year 1"),
    (("--since", "99999999999s"), "--since '99999999999s' reaches back before the year 1"),
    (("--last", "many"), "argument --last: invalid int value: 'many'"),
    (("--drift", "--slow"), "argument --slow: not allowed with argument --drift"),
])
def test_bad_history_options_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...],
                                                   error: str) -> None:
    place = str(tmp_path / "history.db")
    leaf_run(place)
    done = history(tmp_path, place, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [line for line in done.stderr.splitlines() if line]
    assert len(done.stderr.splitlines()) == 1 and error in done.stderr


def test_a_missing_or_foreign_history_exits_2(tmp_path: Path) -> None:
    done = history(tmp_path, str(tmp_path / "none.db"))
    assert (done.returncode, done.stderr) == (
        2, f"dojobber: error: no run history at {tmp_path / 'none.db'}\n")
    assert not (tmp_path / "none.db").exists()
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    done = history(tmp_path, str(foreign))
    assert done.returncode == 2
    assert "is not a DoJobber run history" in done.stderr


def test_a_newer_schema_is_refused_by_name(tmp_path: Path) -> None:
    place = tmp_path / "history.db"
    leaf_run(str(place))
    with sqlite3.connect(place) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    done = history(tmp_path, str(place))
    assert done.returncode == 2
    assert "schema version 99, newer than this DoJobber's" in done.stderr
    dojob, caught = leaf_run(str(place))
    assert_reported_once(dojob, caught, "schema version 99")


def test_the_html_page_shows_runs_views_and_strips_in_chromium(tmp_path: Path) -> None:
    from test_html import CHROMIUM, Page, browser_dom

    place = str(tmp_path / "history.db")
    three_runs(tmp_path, place)
    out = tmp_path / "history.html"
    done = history(tmp_path, place, "--html", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text and "https://" not in text
    pages = [text]
    if CHROMIUM is not None:  # the page as a browser builds it, too
        pages.append(browser_dom(out, tmp_path))
    for shown in pages:
        page = Page(shown)
        bars = page.by_id("runs").find("b", "run")
        assert [bar.classes[1] for bar in bars] == ["succeeded", "failed", "succeeded"]
        strips = {row.find("span", "name")[0].text(): [cell.classes[0] for cell in
                  row.find("i")] for row in page.by_id("strips").find("div", "strip")}
        assert strips["Shaky"] == ["passed", "failed", "passed"]
        assert strips["Drifty"] == ["passed_after_run", "passed", "passed_after_run"]
        assert strips["Root"] == ["passed", "blocked", "passed"]
        drift_rows = page.by_id("drift").find("tr")
        assert [cell.text() for cell in drift_rows[1].find("td")][:2] == ["Drifty", "2 of 3"]
        assert page.by_id("flaky").find("td")[0].text() == "Shaky"
        assert {row.find("td")[0].text() for row in page.by_id("slow").find("tr")[1:]} == {
            "Drifty", "Leaf", "Shaky", "Sleepy", "Root"}


# --- Each job's last outcomes in the run report's page ---------------------------


def past_cells(text: str) -> dict[str, list[tuple[str, str]]]:
    """Job name -> the (outcome, tooltip) of each cell beside its row of the timeline."""
    from test_html import Page

    return {name: [(cell.classes[0], cell.attrs.get("title", ""))
                   for span in row.find("span", "past") for cell in span.find("i")]
            for name, row in Page(text).timeline_rows().items()}


def test_the_run_report_shows_each_jobs_last_outcomes_beside_its_row(tmp_path: Path) -> None:
    from test_html import CHROMIUM, Page, browser_dom

    place = str(tmp_path / "history.db")
    out = tmp_path / "report.html"
    assert [done.returncode for done in three_runs(tmp_path, place, "--html", str(out))] == [
        0, 1, 0]
    text = out.read_text(encoding="utf-8")
    pages = [text]
    if CHROMIUM is not None:  # the page as a browser builds it, too
        pages.append(browser_dom(out, tmp_path))
    for shown in pages:
        cells = past_cells(shown)
        assert {name: [outcome for outcome, _ in row] for name, row in cells.items()} == {
            "Drifty": ["passed_after_run", "passed", "passed_after_run"],
            "Leaf": ["passed", "passed", "passed"],
            "Shaky": ["passed", "failed", "passed"],
            "Sleepy": ["passed", "passed", "passed"],
            "Root": ["passed", "blocked", "passed"],
        }
        assert [tip for _, tip in cells["Shaky"]] == [
            "run 1: passed, 1 try", "run 2: failed, 1 try", "run 3: passed, 1 try"]
        legend = Page(shown).by_id("timeline").find("p", "legend")[1].text()
        assert legend.startswith("Beside each job, its outcome in the last 3 runs of this "
                                 "root on this host, from the run history, oldest first "
                                 "and this run last:")
    # Without a history, no column and no word of one.
    plain = tmp_path / "plain.html"
    done = dojobber("run", GRAPH, "--html", str(plain), cwd=tmp_path, MARK=str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    assert set(map(len, past_cells(plain.read_text(encoding="utf-8")).values())) == {0}
    assert "past outcomes" not in plain.read_text(encoding="utf-8")


def test_the_column_shows_the_last_runs_of_this_root_and_kind(tmp_path: Path) -> None:
    place = str(tmp_path / "history.db")

    class Alone(Job):
        def Check(self) -> None:
            pass

    def run(root: type[Job], **options: Any) -> DoJobber:
        dojob = DoJobber()
        dojob.configure(root, history=place, **options)
        dojob.checknrun()
        return dojob

    for _ in range(6):
        run(Alone)
        run(history_graph.Leaf)  # another root: not in Alone's column
    report = run(Alone).report()
    assert report.history_run == 13
    assert [tip for _, tip in past_cells(report.to_html())["Alone"]] == [
        f"run {n}: passed, 1 try" for n in (1, 3, 5, 7, 9, 11, 13)]
    assert [tip for _, tip in past_cells(report.to_html(past_runs=2))["Alone"]] == [
        "run 11: passed, 1 try", "run 13: passed, 1 try"]
    assert past_cells(report.to_html(past_runs=0))["Alone"] == []
    with pytest.raises(ValueError, match="past_runs must be a whole number of 0 or more"):
        report.to_html(past_runs=-1)
    for _ in range(10):
        run(Alone)
    assert len(past_cells(run(Alone).report().to_html())["Alone"]) == 10
    # A dry run beside the dry runs only.
    assert [tip for _, tip in past_cells(run(Alone, no_act=True).report().to_html())[
        "Alone"]] == ["run 25: passed, 1 try"]


def test_a_history_that_cannot_be_read_leaves_the_column_out_and_says_why(
        tmp_path: Path) -> None:
    from test_html import Page

    place = tmp_path / "history.db"
    dojob, _ = leaf_run(str(place))
    report = dojob.report()
    for name in os.listdir(tmp_path):
        os.remove(tmp_path / name)
    place.write_bytes(b"this is no database" * 100)
    text = report.to_html()
    assert past_cells(text) == {"Leaf": []}
    [note] = Page(text).by_id("timeline").find("p", "note")
    assert note.text() == (f"No past outcomes beside the jobs: run history not read: "
                           f"{place} is not a DoJobber run history: DatabaseError: file is "
                           "not a database")

    # A run the history could not record: the reason it gave.
    dojob, _ = leaf_run(str(place))
    text = dojob.report().to_html()
    assert past_cells(text) == {"Leaf": []}
    [note] = Page(text).by_id("timeline").find("p", "note")
    assert note.text() == (f"No past outcomes beside the jobs: run history not recorded in "
                           f"{place}: DatabaseError: file is not a database")


# --- Odd text (issue 33, item 3) -------------------------------------------------


def test_odd_text_in_every_column_is_kept_escaped_and_found(tmp_path: Path) -> None:
    from odd_text import assert_odd_runs_kept_and_found, write_odd_runs

    place = str(tmp_path / "history.db")
    ids = write_odd_runs(place)
    stored = table(Path(place), "SELECT r.id, r.host, r.user_name, r.directory, r.root, "
                                "r.dojobber_version, j.name, j.error "
                                "FROM runs r JOIN jobs j ON j.run_id = r.id")
    assert_odd_runs_kept_and_found(place, ids, stored)


def test_a_job_with_odd_text_costs_no_row_of_its_run(tmp_path: Path) -> None:
    from odd_text import assert_the_odd_run_kept_and_found, run_the_odd_graph

    place = str(tmp_path / "history.db")
    folder = run_the_odd_graph(tmp_path, place)
    (run,) = table(Path(place), "SELECT directory, root, passed, failed, blocked FROM runs")
    jobs = table(Path(place), "SELECT name, outcome, error FROM jobs ORDER BY seq")
    assert_the_odd_run_kept_and_found(tmp_path, place, folder, run, jobs)


# --- Reading what cannot be written, and what is damaged (issue 33, items 4, 6) ----


def damage_data_pages(place: Path) -> None:
    """Overwrite every page after the schema's (page 1) and the version's
    (page 2) with bytes no page holds."""
    with sqlite3.connect(place) as connection:
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(place.read_bytes())
    data[2 * size:] = b"\xff" * (len(data) - 2 * size)
    place.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, line", [
    (damage_data_pages, "cannot read {place}: DatabaseError: database disk image is malformed"),
    (lambda place: table(place, "DROP TABLE jobs"),
     "{place} is a damaged DoJobber run history: it has no jobs table"),
])
@pytest.mark.parametrize("view", [(), ("--drift",), ("--job", "Leaf"), ("--html", "h.html")])
def test_a_damaged_history_exits_2_with_one_line(tmp_path: Path, damage: Any, line: str,
                                                 view: tuple[str, ...]) -> None:
    place = tmp_path / "history.db"
    for _ in range(3):
        leaf_run(str(place))
    assert os.path.getsize(place) > 4 * 4096 and not Path(f"{place}-wal").exists()
    damage(place)
    done = history(tmp_path, str(place), *view)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", f"dojobber: error: {line.format(place=place)}\n")
    assert not (tmp_path / "h.html").exists()


def as_another_user(*args: str) -> tuple[int, str, str]:
    """``dojobber ARGS`` as a user to whom permission bits apply (root:
    nobody): its exit status, stdout and stderr. Forked from this process
    with what the command imports already imported, since nobody may not
    enter the folder that holds root's Python."""
    import pwd
    import tempfile
    import traceback
    import urllib.parse  # noqa: F401 - what reading read-only takes

    import dojobber.command.history  # noqa: F401
    import dojobber.errortext  # noqa: F401
    from dojobber import cli

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = os.fork()
        if child == 0:
            status = 99
            try:
                sys.stdout = open(out.fileno(), "w", encoding="utf-8", closefd=False)
                sys.stderr = open(err.fileno(), "w", encoding="utf-8", closefd=False)
                if os.getuid() == 0:
                    nobody = pwd.getpwnam("nobody")
                    os.setgid(nobody.pw_gid)
                    os.setuid(nobody.pw_uid)
                status = cli.main(list(args))
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        _, status = os.waitpid(child, 0)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode()


@pytest.fixture
def shared_folder() -> Any:
    """A folder outside pytest's (which only root may enter), removed after."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="dojobber-history-"))
    os.chmod(folder, 0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        if path.is_dir():
            os.chmod(path, 0o755)
    shutil.rmtree(folder)


def listed(output: str) -> list[int]:
    return [run["id"] for run in json.loads(output)]


def test_a_history_in_a_folder_the_reader_may_not_write_is_read(shared_folder: Path) -> None:
    import shutil

    place = shared_folder / "closed" / "history.db"
    place.parent.mkdir()
    for _ in range(2):
        leaf_run(str(place))
    os.chmod(place, 0o444)
    os.chmod(place.parent, 0o555)
    # Closed cleanly (no -wal file): read as it is.
    assert sorted(os.listdir(place.parent)) == ["history.db"]
    status, out, err = as_another_user("history", str(place), "--json")
    assert (status, err) == (0, "")
    assert listed(out) == [2, 1]
    assert sorted(os.listdir(place.parent)) == ["history.db"]
    Path(f"{place}-wal").touch()  # an empty one holds no runs: the same
    status, out, err = as_another_user("history", str(place), "--json")
    assert (status, err, listed(out)) == (0, "", [2, 1])

    # A writer still at work: its newest run is in the -wal file, and shown.
    place = shared_folder / "open" / "history.db"
    place.parent.mkdir()
    leaf_run(str(place))
    holder = sqlite3.connect(place)  # keeps the -wal file from being folded in
    holder.execute("SELECT COUNT(*) FROM runs").fetchall()
    try:
        leaf_run(str(place))
        assert sorted(os.listdir(place.parent)) == [
            "history.db", "history.db-shm", "history.db-wal"]
        os.chmod(place.parent, 0o555)
        status, out, err = as_another_user("history", str(place), "--json")
        assert (status, err) == (0, "")
        assert listed(out) == [2, 1]
        # The same without its -shm file, which the reader may not make:
        # the newest runs cannot be read, and it says so (no older view).
        copy = shared_folder / "copy" / "history.db"
        copy.parent.mkdir()
        shutil.copy(place, copy)
        shutil.copy(f"{place}-wal", f"{copy}-wal")
    finally:
        holder.close()
    os.chmod(copy.parent, 0o555)
    status, out, err = as_another_user("history", str(copy), "--json")
    assert (status, out) == (2, "")
    assert err == (f"dojobber: error: cannot read {copy}: OperationalError: unable to open "
                   f"database file: its newest runs are in {copy}-wal, which SQLite reads "
                   "only beside a -shm file it may make or open\n")
