"""The history's named records (issue 34, item 1): each is its table's
columns, in the table's order, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dojobber import DoJobber, Job
from dojobber.history.store import JOB_COLUMNS, RUN_COLUMNS, JobRow, RunRow
from dojobber.history.views import FleetRun, JobInRun, PastOutcome, RunWall
from test_history_postgres import database, postgres_programs, psycopg, server

__all__ = ["database", "server"]  # fixtures of the PostgreSQL tests, used here


class Leaf(Job):
    def Check(self) -> None:
        pass


class Root(Job):
    DEPS = [Leaf]

    def Check(self) -> None:
        pass


def place_of(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return str(tmp_path / "history.db")
    if postgres_programs() is None or psycopg is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl, or psycopg, are not installed")
    return str(request.getfixturevalue("database"))


def read(place: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if place.startswith("postgresql:"):
        with psycopg.connect(place) as connection:
            return connection.execute(sql.replace("?", "%s"), params).fetchall()
    with sqlite3.connect(place) as connection:
        return connection.execute(sql, params).fetchall()


def columns(place: str, table: str) -> tuple[str, ...]:
    """The table's columns in their order, as the database lists them."""
    if place.startswith("postgresql:"):
        found = read(place, "SELECT column_name FROM information_schema.columns "
                            "WHERE table_name = ? ORDER BY ordinal_position", (table,))
    else:
        found = [(row[1],) for row in read(place, f"PRAGMA table_info({table})")]
    return tuple(row[0] for row in found)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_records_are_the_tables_columns_in_order(
        kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    place = place_of(kind, request, tmp_path)
    dojob = DoJobber()
    dojob.configure(Root, history=place)
    dojob.checknrun()
    assert dojob.report().history_error is None
    assert columns(place, "runs") == ("id", *RunRow._fields) == ("id", *RUN_COLUMNS)
    assert columns(place, "jobs") == ("run_id", *JobRow._fields) == ("run_id", *JOB_COLUMNS)
    # What the views read is named after columns the tables have.
    either = set(RUN_COLUMNS) | set(JOB_COLUMNS) | {"id", "run_id"}
    for record in (JobInRun, FleetRun, RunWall, PastOutcome):
        assert set(record._fields) <= either, record
    # Read back whole, by the tables' order, each row is what the run wrote.
    ((run_id, *values),) = read(place, "SELECT * FROM runs")
    run = RunRow(*values)
    assert (run.root, run.outcome, run.no_act, run.jobs) == ("Root", "succeeded", 0, 2)
    assert (run.passed, run.failed, run.not_tried) == (2, 0, 0)
    jobs = [JobRow(*row[1:]) for row in read(place, "SELECT * FROM jobs ORDER BY seq")]
    assert [(job.seq, job.name, job.outcome, job.tries, job.error) for job in jobs] == [
        (0, "Leaf", "passed", 1, None), (1, "Root", "passed", 1, None)]
    assert {row[0] for row in read(place, "SELECT run_id FROM jobs")} == {run_id}
