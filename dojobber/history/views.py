"""Reading the history back: the runs, a job's story, and the drift, flaky,
slow and fleet views, each as JSON-ready dicts (docs/history.rst lists
their fields).

Each view reads the runs that ``Filters`` choose; the database does the
choosing, Python the counting, the same for SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple, Sequence

from .place import redacted, scrub
from .store import (
    JOB_COLUMNS,
    RUN_COLUMNS,
    HistoryError,
    RunRow,
    Store,
    column_list,
    storable,
    text_equals,
)

#: The job outcomes that count as passing (flaky: a change between those and failed).
PASSING = ("passed", "passed_after_run")

#: The columns of a run that ``counts`` holds, in the order the views list them.
_COUNTS = ("passed", "passed_after_run", "failed", "blocked", "not_tried", "interrupted")


class JobInRun(NamedTuple):
    """A job of a chosen run, as the views read it: its run's ``run_id``,
    ``started_at``, ``host`` and ``root``, then the job's columns. The SQL
    that reads it is made from these fields (``_JOB_IN_RUN``)."""

    run_id: int
    started_at: float
    host: str
    root: str
    name: str
    outcome: str
    tries: int
    seconds: float
    error: str | None


def _job_in_run_columns() -> str:
    """``JobInRun``'s fields as SQL over ``jobs j JOIN runs r``: ``run_id``
    is the run's id; a field the jobs table has is the job's, the others
    the run's."""
    return ", ".join(
        "r.id" if field == "run_id" else f"j.{field}" if field in JOB_COLUMNS else f"r.{field}"
        for field in JobInRun._fields)


_JOB_IN_RUN = _job_in_run_columns()


class RunWall(NamedTuple):
    """What ``slow`` reads of each chosen run."""

    id: int
    started_at: float
    wall_seconds: float


class FleetRun(NamedTuple):
    """What ``fleet`` reads of each chosen run."""

    id: int
    started_at: float
    host: str
    root: str
    outcome: str
    passed_after_run: int
    failed: int


class Filters:
    """Which runs a view reads: of ``root`` and ``host`` (None: any), started
    at or after ``since`` (Unix time), only failed ones (``failed``: not
    succeeded), the ``last`` newest (None: all). ``root`` and ``host`` are
    looked for as the history stores them (:func:`~.store.storable`)."""

    def __init__(
        self,
        root: str | None = None,
        host: str | None = None,
        since: float | None = None,
        failed: bool = False,
        last: int | None = None,
    ):
        self.root, self.host, self.since = root, host, since
        self.failed, self.last = failed, last

    def select(self, columns: str, encoding: str = "utf-8") -> tuple[str, list[Any]]:
        """``SELECT columns FROM runs`` of the chosen runs, newest first, in a
        history whose text is in ``encoding`` (``Store.encoding``)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("root", self.root), ("host", self.host)):
            if value is not None:
                where.append(text_equals(column))
                params += [storable(value, encoding)] * 2
        if self.since is not None:
            where.append("started_at >= ?")
            params.append(self.since)
        if self.failed:
            where.append("outcome <> 'succeeded'")
        sql = f"SELECT {columns} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, id DESC"
        if self.last is not None:
            sql += " LIMIT ?"
            params.append(self.last)
        return sql, params


def when(stamp: float) -> str:
    """A Unix time as ISO 8601 in UTC, to the second: ``2025-05-01T12:00:00Z``."""
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def runs(store: Store, filters: Filters) -> list[dict[str, Any]]:
    """The chosen runs, newest first: ``id``, ``started_at`` (ISO 8601 UTC),
    ``host``, ``user``, ``directory``, ``root``, ``outcome`` (succeeded,
    failed, interrupted), ``no_act``, ``wall_seconds``, ``jobs`` (how many)
    and ``counts`` (jobs per outcome), ``settings``."""
    sql, params = filters.select(f"id, {column_list(RUN_COLUMNS)}", store.encoding)
    found = []
    for run_id, *values in store.rows(sql, params):
        run = RunRow(*values)
        found.append({
            "id": run_id, "started_at": when(run.started_at), "host": run.host,
            "user": run.user_name, "directory": run.directory, "root": run.root,
            "outcome": run.outcome, "no_act": bool(run.no_act),
            "wall_seconds": run.wall_seconds, "jobs": run.jobs,
            "counts": {count: getattr(run, count) for count in _COUNTS},
            "settings": json.loads(run.settings),
        })
    return found


def _job_rows(store: Store, filters: Filters, name: str | None = None) -> list[JobInRun]:
    """The chosen runs' jobs (of job ``name`` only, if given), oldest run first."""
    chosen, params = filters.select("id", store.encoding)
    sql = (f"SELECT {_JOB_IN_RUN} FROM jobs j JOIN runs r ON r.id = j.run_id "
           f"WHERE j.run_id IN ({chosen})")
    if name is not None:
        sql += f" AND {text_equals('j.name')}"
        params = [*params, *[storable(name, store.encoding)] * 2]
    make = JobInRun._make
    return [make(row) for row in store.rows(sql + " ORDER BY r.started_at, r.id, j.seq", params)]


def job_story(store: Store, filters: Filters, name: str) -> list[dict[str, Any]]:
    """Job ``name`` in each chosen run that has it, newest first: ``run_id``,
    ``started_at``, ``host``, ``root``, ``outcome``, ``tries``, ``seconds``,
    ``error`` (its last error's text, or null)."""
    return [
        {"run_id": job.run_id, "started_at": when(job.started_at), "host": job.host,
         "root": job.root, "outcome": job.outcome, "tries": job.tries,
         "seconds": job.seconds, "error": job.error}
        for job in reversed(_job_rows(store, filters, name))
    ]


def drift(store: Store, filters: Filters) -> list[dict[str, Any]]:
    """The jobs that needed Run (passed after Run) in the chosen runs, most
    often first: ``job``, ``runs`` (chosen runs that had it), ``ran``
    (how many needed Run), ``last_ran`` (when, ISO 8601), ``last_host``."""
    seen: dict[str, dict[str, Any]] = {}
    for job in _job_rows(store, filters):
        entry = seen.setdefault(job.name, {"job": job.name, "runs": 0, "ran": 0,
                                           "last_ran": None, "last_host": None})
        entry["runs"] += 1
        if job.outcome == "passed_after_run":
            entry["ran"] += 1
            entry["last_ran"], entry["last_host"] = when(job.started_at), job.host
    drifted = [entry for entry in seen.values() if entry["ran"]]
    return sorted(drifted, key=lambda entry: (-entry["ran"], entry["job"]))


def flaky(store: Store, filters: Filters) -> list[dict[str, Any]]:
    """The jobs whose outcome changes between runs (passing to failed or
    back, per host and root, oldest run first) or that passed only after a
    retry: ``job``, ``runs``, ``changes``, ``retried_passes`` (runs where
    it passed after more than one try), ``outcomes`` (oldest first)."""
    seen: dict[str, dict[str, Any]] = {}
    last: dict[tuple[str, str, str], bool] = {}  # (job, host, root) -> passed last time
    for job in _job_rows(store, filters):
        name, outcome = job.name, job.outcome
        entry = seen.setdefault(name, {"job": name, "runs": 0, "changes": 0,
                                       "retried_passes": 0, "outcomes": []})
        entry["runs"] += 1
        entry["outcomes"].append(outcome)
        if outcome in PASSING and job.tries > 1:
            entry["retried_passes"] += 1
        if outcome in PASSING or outcome == "failed":  # blocked etc. are not its doing
            passed = outcome in PASSING
            key = (name, job.host, job.root)
            before = last.get(key)
            if before is not None and before != passed:
                entry["changes"] += 1
            last[key] = passed
    shaky = [entry for entry in seen.values() if entry["changes"] or entry["retried_passes"]]
    return sorted(shaky, key=lambda e: (-int(e["changes"]) - int(e["retried_passes"]), e["job"]))


def slow(store: Store, filters: Filters) -> dict[str, Any]:
    """Durations over the chosen runs, oldest first. ``jobs``: per job (the
    slowest on average first), over the runs that tried it to the end (not
    those an interrupt cut short), ``job``, ``runs``, ``first``, ``last``,
    ``mean``, ``max`` (seconds) and ``change`` (last minus first);
    ``runs``: each run's ``id``, ``started_at`` and ``wall_seconds``."""
    times: dict[str, list[float]] = {}
    for job in _job_rows(store, filters):
        # A blocked job took no time worth a trend; an interrupted one's time
        # is where the interrupt came, not what the job takes.
        if job.tries and job.outcome != "interrupted":
            times.setdefault(job.name, []).append(job.seconds)
    jobs: list[dict[str, Any]] = [
        {"job": name, "runs": len(spent), "first": spent[0], "last": spent[-1],
         "mean": sum(spent) / len(spent), "max": max(spent), "change": spent[-1] - spent[0]}
        for name, spent in times.items()
    ]
    jobs.sort(key=lambda entry: (-entry["mean"], entry["job"]))
    sql, params = filters.select(column_list(RunWall._fields), store.encoding)
    walls = [{"id": run.id, "started_at": when(run.started_at), "wall_seconds": run.wall_seconds}
             for run in map(RunWall._make, reversed(store.rows(sql, params)))]
    return {"jobs": jobs, "runs": walls}


def fleet(store: Store, filters: Filters) -> list[dict[str, Any]]:
    """The latest chosen run of each host (per root), by root and host:
    ``root``, ``host``, ``run_id``, ``started_at``, ``outcome``,
    ``converged`` (it succeeded), ``ran`` (jobs it had to Run), ``failed``."""
    sql, params = filters.select(column_list(FleetRun._fields), store.encoding)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for run in map(FleetRun._make, store.rows(sql, params)):
        latest.setdefault((run.root, run.host), {  # newest first: the first seen is the latest
            "root": run.root, "host": run.host, "run_id": run.id,
            "started_at": when(run.started_at), "outcome": run.outcome,
            "converged": run.outcome == "succeeded", "ran": run.passed_after_run,
            "failed": run.failed,
        })
    return [latest[key] for key in sorted(latest)]


def parse_since(text: str, now: float | None = None) -> float:
    """``--since``: an ISO 8601 date or date and time (local time unless it
    says otherwise), or a span back from now: ``90s``, ``30m``, ``12h``,
    ``7d``, ``2w``, reaching back no further than the year 1. Raises
    ValueError for anything else."""
    spans = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = text.strip()
    number, unit = text[:-1], text[-1:]
    if unit in spans and number.isascii() and number.isdigit():
        now = time.time() if now is None else now
        # Compared as whole numbers: a span of 400 digits is no float.
        furthest = now - datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()
        if len(number.lstrip("0")) > 20 or int(number) * spans[unit] > furthest:
            raise ValueError(f"--since {text!r} reaches back before the year 1")
        return now - int(number) * spans[unit]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither an ISO 8601 date or time nor a span "
            "such as 7d, 12h, 30m") from None
    try:
        return moment.timestamp()  # a naive time is local
    except (OverflowError, OSError, ValueError):  # local time before the year 1
        raise ValueError(f"--since {text!r} is out of range") from None


def trend(values: Sequence[float]) -> str:
    """A few characters that draw ``values`` (oldest first) as a sparkline."""
    bars = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low or 1.0
    return "".join(bars[int((value - low) / span * (len(bars) - 1))] for value in values)


class PastOutcome(NamedTuple):
    """How a job ended in one run of the history (a tuple, as it was)."""

    run_id: int  #: the run's id in the history
    outcome: str  #: passed, passed_after_run, failed, blocked, not_tried or interrupted
    tries: int  #: the tries it was given in that run


def job_outcomes(store: Store, filters: Filters) -> dict[str, list[PastOutcome]]:
    """Job name -> its :class:`PastOutcome` in each chosen run, oldest
    first; the jobs in the order they first appear."""
    found: dict[str, list[PastOutcome]] = {}
    for job in _job_rows(store, filters):
        # By position, each value by its name: one record per job per run,
        # and keywords cost each about as much again.
        found.setdefault(job.name, []).append(PastOutcome(job.run_id, job.outcome, job.tries))
    return found


#: How many runs the run report's page shows beside each job, by default.
PAST_RUNS = 10


@dataclass(frozen=True)
class PastOutcomes:
    """Each job's outcomes in the last runs of a run history, which the run
    report's page shows beside its row.

    ``runs``: the ids of those runs, oldest first, the run reported on last;
    ``jobs``: job name -> its :class:`PastOutcome` in those of the
    runs that had it, oldest first; ``error``: why the history could not be
    read (``runs`` and ``jobs`` are then empty), else None.
    """

    runs: tuple[int, ...] = ()
    jobs: Mapping[str, Sequence[PastOutcome]] = field(default_factory=dict)
    error: str | None = None


def past_outcomes(place: str, run_id: int, last: int = PAST_RUNS) -> PastOutcomes:
    """Run ``run_id`` of the history at ``place`` and the runs before it
    of the same root on the same host (dry runs beside dry runs only),
    ``last`` runs in all, as :class:`PastOutcomes`. Never raises: a history
    that cannot be read gives its ``error``."""
    try:
        with Store(place).open_for_reading() as store:
            return _past(store, run_id, last)
    except HistoryError as error:  # it names the history
        return PastOutcomes(error=f"run history not read: {scrub(str(error), place)}")
    except Exception as error:  # whatever the database says: the page goes on without
        from ..errortext import one_line

        return PastOutcomes(error=f"run history not read from {redacted(place)}: "
                                  f"{scrub(one_line(error), place)}")


def _past(store: Store, run_id: int, last: int) -> PastOutcomes:
    found = store.rows(f"SELECT {column_list(RUN_COLUMNS)} FROM runs WHERE id = ?", [run_id])
    if not found:
        raise HistoryError(f"{store.shown} has no run {run_id}")
    run = RunRow(*found[0])
    root, host, no_act, started = run.root, run.host, run.no_act, run.started_at
    chosen = store.rows(
        f"SELECT id FROM runs WHERE {text_equals('root')} AND {text_equals('host')} "
        "AND no_act = ? AND (started_at < ? OR (started_at = ? AND id <= ?)) "
        "ORDER BY started_at DESC, id DESC LIMIT ?",
        [root, root, host, host, no_act, started, started, run_id, last])
    ids = tuple(reversed([row[0] for row in chosen]))
    if not ids:
        return PastOutcomes()
    column = {one: number for number, one in enumerate(ids)}
    rows = store.rows(
        f"SELECT name, {column_list(PastOutcome._fields)} FROM jobs WHERE run_id IN "
        f"({', '.join('?' * len(ids))}) ORDER BY run_id, seq", list(ids))
    found = [(name, PastOutcome(*past)) for name, *past in rows]
    jobs: dict[str, list[PastOutcome]] = {}
    for name, past in sorted(found, key=lambda one: column[one[1].run_id]):
        jobs.setdefault(name, []).append(past)
    return PastOutcomes(ids, jobs)
