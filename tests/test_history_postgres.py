"""The run history on a real PostgreSQL server (issue 27), started for these
tests as an unprivileged user (the server refuses root), by the programs'
real paths (a folder of links on root's PATH may be closed to that user);
skipped, with one reason, where PostgreSQL's programs or psycopg are absent
or that user may not run the programs."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from dojobber.history.store import LATEST
from test_history import past_cells

TESTS = Path(__file__).resolve().parent
GRAPH = f"{TESTS / 'history_graph.py'}:Root"
PASSWORD = "s3cret-Pa55"


def postgres_programs() -> tuple[str, str] | None:
    """initdb and pg_ctl: on PATH, in /usr/local/bin, or Debian's folder;
    by their real paths, links resolved, since nobody (who runs them) may
    not enter a folder of links that root put on PATH."""
    found = shutil.which("initdb")
    candidates = [os.path.dirname(found)] if found else []
    candidates += ["/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        initdb, pg_ctl = (os.path.join(folder, name) for name in ("initdb", "pg_ctl"))
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            return os.path.realpath(initdb), os.path.realpath(pg_ctl)
    return None


try:
    import psycopg
except ImportError:  # pragma: no cover - the test extra installs it
    psycopg = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(
    postgres_programs() is None or psycopg is None,
    reason="PostgreSQL's initdb and pg_ctl, or psycopg, are not installed")


def unprivileged() -> None:
    """preexec_fn: the server refuses to run as root, so run it as nobody."""
    if os.getuid() == 0:
        import pwd

        nobody = pwd.getpwnam("nobody")
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A PostgreSQL server started for the tests: ``url`` names its
    database with the password of its user; ``stop()`` ends it and removes
    its folder."""

    url: str
    folder: str
    pg_ctl: str
    env: dict[str, str]

    def stop(self) -> None:
        try:
            subprocess.run([self.pg_ctl, "-D", os.path.join(self.folder, "data"), "-m",
                            "immediate", "stop"], capture_output=True, preexec_fn=unprivileged,
                           env=self.env, cwd=self.folder, timeout=300)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_server() -> Server:
    """A fresh server on a free localhost port, run by nobody when this is
    root; the test skips, saying why, where nobody may not run the programs."""
    programs = postgres_programs()
    assert programs is not None
    initdb, pg_ctl = programs
    for program in programs:
        try:
            subprocess.run([program, "--version"], check=True, capture_output=True,
                           preexec_fn=unprivileged, timeout=300)
        except (OSError, subprocess.CalledProcessError) as error:
            pytest.skip(f"the user that runs the PostgreSQL server cannot run {program}: {error}")
    folder = tempfile.mkdtemp(prefix="dojobber-postgres-")
    os.chmod(folder, 0o755)
    if os.getuid() == 0:
        import pwd

        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    data = os.path.join(folder, "data")
    secret = os.path.join(folder, "password")
    with open(secret, "w") as out:
        out.write(PASSWORD)
    os.chmod(secret, 0o644)
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": folder}
    server = Server(f"postgresql://dojobber:{PASSWORD}@127.0.0.1:{port}/postgres", folder,
                    pg_ctl, env)
    try:
        subprocess.run([initdb, "-D", data, "-U", "dojobber", "-E", "UTF8", "-A",
                        "scram-sha-256", "--pwfile", secret], check=True, capture_output=True,
                       preexec_fn=unprivileged, env=env, cwd=folder, timeout=300)
        subprocess.run([pg_ctl, "-D", data, "-w", "-l", os.path.join(folder, "log"), "-o",
                        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"],
                       check=True, capture_output=True, preexec_fn=unprivileged, env=env,
                       cwd=folder, timeout=300)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A fresh server for the module; the URL of its database."""
    started = start_server()
    try:
        yield started.url
    finally:
        started.stop()


@pytest.fixture
def database(server: str) -> str:
    """An empty database of its own for each test."""
    name = "h" + os.urandom(6).hex()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server.rpartition("/")[0] + "/" + name


def without_password(url: str) -> str:
    return url.replace(f":{PASSWORD}@", "@")


def dojobber(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    whole = {**os.environ, **env}
    if "DOJOBBER_HISTORY" not in env:
        whole.pop("DOJOBBER_HISTORY", None)
    return subprocess.run([sys.executable, "-m", "dojobber", *args], cwd=cwd,
                          capture_output=True, text=True, env=whole, timeout=300)


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(sql).fetchall()


def test_three_runs_on_postgresql_with_the_views(tmp_path: Path, database: str) -> None:
    mark = str(tmp_path / "mark")
    outputs = [dojobber("run", GRAPH, "--history", database, cwd=tmp_path, MARK=mark)]
    outputs.append(dojobber("run", GRAPH, "--history", database, cwd=tmp_path, MARK=mark,
                            FAIL="1"))
    os.remove(mark)
    outputs.append(dojobber("run", GRAPH, "--html", "report.html", cwd=tmp_path, MARK=mark,
                            DOJOBBER_HISTORY=database))
    assert [done.returncode for done in outputs] == [0, 1, 0], outputs[-1].stderr
    # The run report's page, read back from the server: each job's last outcomes.
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert past_cells(page)["Shaky"] == [("passed", "run 1: passed, 1 try"),
                                         ("failed", "run 2: failed, 1 try"),
                                         ("passed", "run 3: passed, 1 try")]
    assert PASSWORD not in page
    assert rows(database, "SELECT outcome FROM runs ORDER BY id") == [
        ("succeeded",), ("failed",), ("succeeded",)]
    assert rows(database, "SELECT COUNT(*) FROM jobs") == [(15,)]

    def view(*args: str) -> object:
        done = dojobber("history", database, "--json", *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert [run["outcome"] for run in view()] == ["succeeded", "failed", "succeeded"]  # type: ignore[attr-defined, index]
    assert [(d["job"], d["ran"]) for d in view("--drift")] == [("Drifty", 2)]  # type: ignore[attr-defined, index]
    assert [(f["job"], f["changes"]) for f in view("--flaky")] == [("Shaky", 2)]  # type: ignore[attr-defined, index]
    story = view("--job", "Shaky")
    assert [s["error"] for s in story] == [None, "ValueError: shaky today", None]  # type: ignore[attr-defined, index]
    assert [f["converged"] for f in view("--fleet")] == [True]  # type: ignore[attr-defined, index]
    text = dojobber("history", database, cwd=tmp_path)
    assert PASSWORD not in text.stdout + text.stderr


def test_four_processes_recording_at_once_on_postgresql(tmp_path: Path, database: str) -> None:
    whole = {**os.environ, "MARK": str(tmp_path / "mark"), "SLEEPY": "0.2"}
    whole.pop("DOJOBBER_HISTORY", None)
    runs = [subprocess.Popen([sys.executable, "-m", "dojobber", "run", GRAPH, "--history",
                              database], cwd=tmp_path, env=whole, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(4)]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert "history" not in err
    assert rows(database, "SELECT COUNT(*), SUM(jobs) FROM runs") == [(4, 20)]
    assert rows(database, "SELECT COUNT(*) FROM jobs GROUP BY run_id") == [(5,)] * 4
    assert rows(database, "SELECT version FROM schema_version") == [(LATEST,)]


def test_pgpassword_and_pgpass_work_and_no_password_is_recorded(
        tmp_path: Path, database: str) -> None:
    bare = without_password(database)
    mark = str(tmp_path / "mark")
    by_variable = dojobber("run", GRAPH, "--history", bare, cwd=tmp_path, MARK=mark,
                           PGPASSWORD=PASSWORD)
    assert by_variable.returncode == 0 and "history" not in by_variable.stderr
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:*:*:dojobber:{PASSWORD}\n")
    os.chmod(pgpass, 0o600)
    by_file = dojobber("run", GRAPH, "--history", bare, cwd=tmp_path, MARK=mark,
                       PGPASSFILE=str(pgpass))
    assert by_file.returncode == 0 and "history" not in by_file.stderr
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(2,)]
    dump = json.dumps(rows(database, "SELECT * FROM runs")) + json.dumps(
        rows(database, "SELECT * FROM jobs"))
    assert PASSWORD not in dump


def test_a_wrong_password_is_reported_redacted_and_the_run_keeps_its_status(
        tmp_path: Path, database: str) -> None:
    wrong = database.replace(PASSWORD, "not-the-Pa55word")
    done = dojobber("run", GRAPH, "--history", wrong, "--json", "-", cwd=tmp_path,
                    MARK=str(tmp_path / "mark"), FAIL="1")
    assert done.returncode == 1  # Shaky failed: the history changes nothing
    assert "not-the-Pa55word" not in done.stdout + done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "history" in line]
    shown = wrong.replace("not-the-Pa55word", "***")
    assert line.startswith(f"dojobber: run history not recorded in {shown}: ")
    assert "password authentication failed" in line
    assert json.loads(done.stdout)["history_error"] == line[len("dojobber: "):]


def test_a_server_that_is_down_is_reported_once_in_the_library(tmp_path: Path) -> None:
    from dojobber import DoJobber, Job
    from dojobber.errors import HistoryWarning

    class Leaf(Job):
        def Check(self) -> None:
            pass

    down = f"postgresql://dojobber:{PASSWORD}@127.0.0.1:{free_port()}/postgres"
    dojob = DoJobber()
    dojob.configure(Leaf, history=down)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dojob.checknrun()
    assert dojob.success()
    assert [w.category for w in caught] == [HistoryWarning]
    message = str(caught[0].message)
    assert PASSWORD not in message
    assert message.startswith(f"run history not recorded in {without_password(down).replace('dojobber@', 'dojobber:***@')}: ")
    assert dojob.report().summary()[-1] == message


# --- issue 33, item 1: a password is never shown, however the URL spells it --

def _spellings(password: str) -> set[str]:
    from urllib.parse import quote

    return {password, quote(password, safe=""), quote(password)}


URL_FORMS = {
    # libpq ends a password at the '@', not at '#' or '?' as urllib does.
    "hash-and-question": ("s3cr#t?pw", lambda user, pw, at: f"postgresql://{user}:{pw}@{at}"),
    "slash-encoded": ("s3cr/t:x", lambda user, pw, at: f"postgresql://{user}:{quote(pw, safe='')}@{at}"),
    "percent-encoded": ("pct@word7", lambda user, pw, at: f"postgresql://{user}:{quote(pw, safe='')}@{at}"),
    "query-key-encoded": ("qu#ry?pw", lambda user, pw, at: f"postgresql://{user}@{at}?pass%77ord={quote(pw, safe='')}"),
    "query-plain": ("pl&in=pw", lambda user, pw, at: f"postgresql://{user}@{at}?password={quote(pw, safe='')}"),
}


def quote(text: str, safe: str = "/") -> str:
    from urllib.parse import quote as url_quote

    return url_quote(text, safe=safe)


@pytest.mark.parametrize("form", sorted(URL_FORMS))
def test_no_spelling_of_a_password_reaches_any_output_or_file(
        tmp_path: Path, server: str, form: str) -> None:
    from psycopg import sql

    password, spell = URL_FORMS[form]
    wrong = password + "-not"
    user = "u" + os.urandom(4).hex()
    at = server.split("@")[1].rpartition("/")[0] + "/" + user
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(user), sql.Literal(password)))
        connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(user), sql.Identifier(user)))
    url, bad_url = spell(user, password, at), spell(user, wrong, at)
    shown = f"postgresql://{user}:***@{at}"
    mark = str(tmp_path / "mark")
    outputs = tmp_path / "out"
    outputs.mkdir()

    def run(place: str, name: str) -> subprocess.CompletedProcess[str]:
        return dojobber("run", GRAPH, "--history", place, "--json", f"{name}.json", "--html",
                        f"{name}.html", "--log-file", f"{name}.log", "--events",
                        f"{name}.events", cwd=outputs, MARK=mark)

    recorded, refused = run(url, "good"), run(bad_url, "bad")
    assert recorded.returncode == 0 and "history" not in recorded.stderr, recorded.stderr
    assert refused.returncode == 0  # the history changes nothing of the run
    (line,) = [line for line in refused.stderr.splitlines() if "history" in line]
    assert line.startswith(f"dojobber: run history not recorded in {shown}: ")
    assert "password authentication failed" in line
    report = json.loads((outputs / "bad.json").read_text())
    assert report["history_error"] == line[len("dojobber: "):]
    assert shown in (outputs / "bad.html").read_text(encoding="utf-8")
    assert shown in (outputs / "bad.log").read_text(encoding="utf-8")
    listing = dojobber("history", url, cwd=outputs)
    as_json = dojobber("history", url, "--json", "--html", "history.html", cwd=outputs)
    assert listing.returncode == as_json.returncode == 0, listing.stderr + as_json.stderr
    assert [run["outcome"] for run in json.loads(as_json.stdout)] == ["succeeded"]
    assert f"Run history: {shown}" in (outputs / "history.html").read_text(encoding="utf-8")
    cannot = dojobber("history", bad_url, cwd=outputs)
    assert cannot.returncode == 2
    assert cannot.stderr.startswith(f"dojobber: error: cannot read {shown}: ")
    everything = "".join(done.stdout + done.stderr
                         for done in (recorded, refused, listing, as_json, cannot))
    for written in sorted(outputs.iterdir()):
        everything += written.read_text(encoding="utf-8", errors="replace")
    everything += json.dumps(rows(url, "SELECT * FROM runs")) + json.dumps(
        rows(url, "SELECT * FROM jobs"))
    for secret in _spellings(password) | _spellings(wrong):
        assert secret not in everything, f"{secret!r} was shown"


def test_a_password_holding_an_unencoded_slash_is_refused_before_any_job_runs(
        tmp_path: Path, server: str) -> None:
    at = server.split("@")[1]
    done = dojobber("run", GRAPH, "--history", f"postgresql://dojobber:s3cr/t@{at}",
                    "--json", "out.json", cwd=tmp_path, MARK=str(tmp_path / "mark"))
    assert done.returncode == 2
    assert done.stderr == (
        "dojobber: error: history 'postgresql://***' is not a PostgreSQL URL libpq can read: "
        "an '@' after the user part: write '@' and '/' in a user name or password as %40 "
        "and %2F\n")
    assert not (tmp_path / "mark").exists() and not (tmp_path / "out.json").exists()
def test_odd_text_in_every_column_is_kept_escaped_and_found(database: str) -> None:
    from odd_text import assert_odd_runs_kept_and_found, write_odd_runs

    ids = write_odd_runs(database)
    stored = rows(database, "SELECT r.id, r.host, r.user_name, r.directory, r.root, "
                            "r.dojobber_version, j.name, j.error "
                            "FROM runs r JOIN jobs j ON j.run_id = r.id")
    assert_odd_runs_kept_and_found(database, ids, stored)


def test_a_latin1_database_keeps_what_latin1_lacks_escaped(server: str) -> None:
    from odd_text import ODD_TEXTS_LATIN1, assert_odd_runs_kept_and_found, write_odd_runs

    name = "latin" + os.urandom(6).hex()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' "
                           "LC_CTYPE 'C' TEMPLATE template0")
    database = server.rpartition("/")[0] + "/" + name
    ids = write_odd_runs(database, ODD_TEXTS_LATIN1)
    stored = rows(database, "SELECT r.id, r.host, r.user_name, r.directory, r.root, "
                            "r.dojobber_version, j.name, j.error "
                            "FROM runs r JOIN jobs j ON j.run_id = r.id")
    assert_odd_runs_kept_and_found(database, ids, stored, ODD_TEXTS_LATIN1)


def test_a_job_with_odd_text_costs_no_row_of_its_run(tmp_path: Path, database: str) -> None:
    from odd_text import assert_the_odd_run_kept_and_found, run_the_odd_graph

    folder = run_the_odd_graph(tmp_path, database)
    (run,) = rows(database, "SELECT directory, root, passed, failed, blocked FROM runs")
    jobs = rows(database, "SELECT name, outcome, error FROM jobs ORDER BY seq")
    assert_the_odd_run_kept_and_found(tmp_path, database, folder, run, jobs)


def test_a_bad_last_or_a_dropped_table_exits_2_with_one_line(
        tmp_path: Path, database: str) -> None:
    done = dojobber("run", GRAPH, "--history", database, cwd=tmp_path, MARK=str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    done = dojobber("history", database, "--last", "9223372036854775808", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", (
        "dojobber: error: --last must be at most 9223372036854775807, "
        "got 9223372036854775808\n"))
    done = dojobber("history", database, "--json", "--last", "9223372036854775807", cwd=tmp_path)
    assert (done.returncode, len(json.loads(done.stdout))) == (0, 1)
    with psycopg.connect(database) as connection:
        connection.execute("DROP TABLE jobs")
    shown = database.replace(PASSWORD, "***")
    for view in ((), ("--drift",)):
        done = dojobber("history", database, *view, cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", (
            f"dojobber: error: {shown} is a damaged DoJobber run history: it has no jobs table\n"))


def test_a_private_folder_of_links_on_path_still_starts_the_server(
        monkeypatch: pytest.MonkeyPatch) -> None:
    programs = postgres_programs()
    assert programs is not None
    # Root's folder of links, first on PATH, which nobody (who runs the
    # server) may not enter.
    private = tempfile.mkdtemp(prefix="dojobber-private-bin-")
    os.chmod(private, 0o700)
    try:
        for program in programs:
            os.symlink(os.path.realpath(program),
                       os.path.join(private, os.path.basename(program)))
        monkeypatch.setenv("PATH", f"{private}{os.pathsep}{os.environ['PATH']}")
        assert shutil.which("initdb") == os.path.join(private, "initdb")
        started = start_server()
        try:
            assert rows(started.url, "SELECT 1") == [(1,)]
        finally:
            started.stop()
    finally:
        shutil.rmtree(private)


@pytest.mark.skipif(os.getuid() != 0, reason="only root runs the server as another user")
def test_programs_nobody_may_not_run_skip_the_tests_saying_why(
        monkeypatch: pytest.MonkeyPatch) -> None:
    programs = postgres_programs()
    assert programs is not None
    private = tempfile.mkdtemp(prefix="dojobber-private-bin-")  # 0700: root's alone
    try:
        for program in programs:  # the programs themselves, not links
            shutil.copy(program, private)
        monkeypatch.setenv("PATH", f"{private}{os.pathsep}{os.environ['PATH']}")
        with pytest.raises(pytest.skip.Exception) as skipped:
            start_server()
        assert str(skipped.value) == (
            f"the user that runs the PostgreSQL server cannot run {private}/initdb: "
            f"[Errno 13] Permission denied: '{private}/initdb'")
    finally:
        shutil.rmtree(private)


def test_a_version_2_history_migrates_and_then_takes_a_megabyte_name(database: str) -> None:
    from odd_text import MEGABYTE

    from dojobber.history.store import JOB_COLUMNS, MIGRATIONS, RUN_COLUMNS, Store

    with psycopg.connect(database) as connection:  # a history as version 2 left it
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version VALUES (2)")
        for statement in (*MIGRATIONS[0], *MIGRATIONS[1]):
            connection.execute(statement.format(
                id="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", ref="BIGINT"))
    run = dict.fromkeys(RUN_COLUMNS, 0) | {
        "host": "h", "user_name": "u", "directory": "/", "root": MEGABYTE,
        "outcome": "succeeded", "settings": "{}", "dojobber_version": "1"}
    job = dict.fromkeys(JOB_COLUMNS, 0) | {"name": MEGABYTE, "outcome": "passed"}
    with Store(database).open_for_writing() as store:
        store.write([run[c] for c in RUN_COLUMNS], [[job[c] for c in JOB_COLUMNS]])
    assert rows(database, "SELECT version FROM schema_version") == [(LATEST,)]
    assert rows(database, "SELECT root = name FROM runs JOIN jobs ON run_id = id") == [(True,)]
