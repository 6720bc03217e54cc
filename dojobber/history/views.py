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
from typing import Any, Mapping, Sequence

from .place import redacted, scrub
from .store import HistoryError, Store, storable, text_equals

#: The job outcomes that count as passing (flaky: a change between those and failed).
PASSING = ("passed", "passed_after_run")

_RUN_COLUMNS = (
    "id, started_at, wall_seconds, host, user_name, directory, root, outcome, no_act, "
    "jobs, passed, passed_after_run, failed, blocked, not_tried, interrupted, settings"
)
_COUNTS = ("passed", "passed_after_run", "failed", "blocked", "not_tried", "interrupted")


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
    sql, params = filters.select(_RUN_COLUMNS, store.encoding)
    found = []
    for row in store.rows(sql, params):
        (run_id, started, wall, host, user, directory, root, outcome, no_act, jobs,
         *counts, settings) = row
        found.append({
            "id": run_id, "started_at": when(started), "host": host, "user": user,
            "directory": directory, "root": root, "outcome": outcome,
            "no_act": bool(no_act), "wall_seconds": wall, "jobs": jobs,
            "counts": dict(zip(_COUNTS, counts, strict=True)),
            "settings": json.loads(settings),
        })
    return found


def _job_rows(store: Store, filters: Filters, name: str | None = None) -> list[tuple[Any, ...]]:
    """``(run_id, started_at, host, root, job, outcome, tries, seconds,
    error)`` of the chosen runs' jobs (of job ``name`` only, if given),
    oldest run first."""
    chosen, params = filters.select("id", store.encoding)
    sql = (
        "SELECT r.id, r.started_at, r.host, r.root, j.name, j.outcome, j.tries, "
        "j.seconds, j.error FROM jobs j JOIN runs r ON r.id = j.run_id "
        f"WHERE j.run_id IN ({chosen})"
    )
    if name is not None:
        sql += f" AND {text_equals('j.name')}"
        params = [*params, *[storable(name, store.encoding)] * 2]
    return store.rows(sql + " ORDER BY r.started_at, r.id, j.seq", params)


def job_story(store: Store, filters: Filters, name: str) -> list[dict[str, Any]]:
    """Job ``name`` in each chosen run that has it, newest first: ``run_id``,
    ``started_at``, ``host``, ``root``, ``outcome``, ``tries``, ``seconds``,
    ``error`` (its last error's text, or null)."""
    return [
        {"run_id": run_id, "started_at": when(started), "host": host, "root": root,
         "outcome": outcome, "tries": tries, "seconds": seconds, "error": error}
        for run_id, started, host, root, _, outcome, tries, seconds, error
        in reversed(_job_rows(store, filters, name))
    ]


def drift(store: Store, filters: Filters) -> list[dict[str, Any]]:
    """The jobs that needed Run (passed after Run) in the chosen runs, most
    often first: ``job``, ``runs`` (chosen runs that had it), ``ran``
    (how many needed Run), ``last_ran`` (when, ISO 8601), ``last_host``."""
    seen: dict[str, dict[str, Any]] = {}
    for _, started, host, _, name, outcome, *_ in _job_rows(store, filters):
        entry = seen.setdefault(name, {"job": name, "runs": 0, "ran": 0,
                                       "last_ran": None, "last_host": None})
        entry["runs"] += 1
        if outcome == "passed_after_run":
            entry["ran"] += 1
            entry["last_ran"], entry["last_host"] = when(started), host
    drifted = [entry for entry in seen.values() if entry["ran"]]
    return sorted(drifted, key=lambda entry: (-entry["ran"], entry["job"]))


def flaky(store: Store, filters: Filters) -> list[dict[str, Any]]:
    """The jobs whose outcome changes between runs (passing to failed or
    back, per host and root, oldest run first) or that passed only after a
    retry: ``job``, ``runs``, ``changes``, ``retried_passes`` (runs where
    it passed after more than one try), ``outcomes`` (oldest first)."""
    seen: dict[str, dict[str, Any]] = {}
    last: dict[tuple[str, str, str], bool] = {}  # (job, host, root) -> passed last time
    for _, _, host, root, name, outcome, tries, _, _ in _job_rows(store, filters):
        entry = seen.setdefault(name, {"job": name, "runs": 0, "changes": 0,
                                       "retried_passes": 0, "outcomes": []})
        entry["runs"] += 1
        entry["outcomes"].append(outcome)
        if outcome in PASSING and tries > 1:
            entry["retried_passes"] += 1
        if outcome in PASSING or outcome == "failed":  # blocked etc. are not its doing
            passed = outcome in PASSING
            before = last.get((name, host, root))
            if before is not None and before != passed:
                entry["changes"] += 1
            last[(name, host, root)] = passed
    shaky = [entry for entry in seen.values() if entry["changes"] or entry["retried_passes"]]
    return sorted(shaky, key=lambda e: (-int(e["changes"]) - int(e["retried_passes"]), e["job"]))


def slow(store: Store, filters: Filters) -> dict[str, Any]:
    """Durations over the chosen runs, oldest first. ``jobs``: per job (the
    slowest on average first), over the runs that tried it to the end (not
    those an interrupt cut short), ``job``, ``runs``, ``first``, ``last``,
    ``mean``, ``max`` (seconds) and ``change`` (last minus first);
    ``runs``: each run's ``id``, ``started_at`` and ``wall_seconds``."""
    times: dict[str, list[float]] = {}
    for row in _job_rows(store, filters):
        # A blocked job took no time worth a trend; an interrupted one's time
        # is where the interrupt came, not what the job takes.
        if row[6] and row[5] != "interrupted":
            times.setdefault(row[4], []).append(row[7])
    jobs: list[dict[str, Any]] = [
        {"job": name, "runs": len(spent), "first": spent[0], "last": spent[-1],
         "mean": sum(spent) / len(spent), "max": max(spent), "change": spent[-1] - spent[0]}
        for name, spent in times.items()
    ]
    jobs.sort(key=lambda entry: (-entry["mean"], entry["job"]))
    sql, params = filters.select("id, started_at, wall_seconds", store.encoding)
    walls = [{"id": run_id, "started_at": when(started), "wall_seconds": wall}
             for run_id, started, wall in reversed(store.rows(sql, params))]
    return {"jobs": jobs, "runs": walls}


def fleet(store: Store, filters: Filters) -> list[dict[str, Any]]:
    """The latest chosen run of each host (per root), by root and host:
    ``root``, ``host``, ``run_id``, ``started_at``, ``outcome``,
    ``converged`` (it succeeded), ``ran`` (jobs it had to Run), ``failed``."""
    sql, params = filters.select(
        "id, started_at, host, root, outcome, passed_after_run, failed", store.encoding)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for run_id, started, host, root, outcome, ran, failed in store.rows(sql, params):
        latest.setdefault((root, host), {  # newest first: the first seen is the latest
            "root": root, "host": host, "run_id": run_id, "started_at": when(started),
            "outcome": outcome, "converged": outcome == "succeeded", "ran": ran,
            "failed": failed,
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


def job_outcomes(store: Store, filters: Filters) -> dict[str, list[tuple[int, str, int]]]:
    """Job name -> ``(run_id, outcome, tries)`` in each chosen run, oldest
    first; the jobs in the order they first appear."""
    found: dict[str, list[tuple[int, str, int]]] = {}
    for run_id, _, _, _, name, outcome, tries, _, _ in _job_rows(store, filters):
        found.setdefault(name, []).append((run_id, outcome, tries))
    return found


#: How many runs the run report's page shows beside each job, by default.
PAST_RUNS = 10


@dataclass(frozen=True)
class PastOutcomes:
    """Each job's outcomes in the last runs of a run history, which the run
    report's page shows beside its row.

    ``runs``: the ids of those runs, oldest first, the run reported on last;
    ``jobs``: job name -> its ``(run_id, outcome, tries)`` in those of the
    runs that had it, oldest first; ``error``: why the history could not be
    read (``runs`` and ``jobs`` are then empty), else None.
    """

    runs: tuple[int, ...] = ()
    jobs: Mapping[str, Sequence[tuple[int, str, int]]] = field(default_factory=dict)
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
    found = store.rows("SELECT root, host, no_act, started_at FROM runs WHERE id = ?", [run_id])
    if not found:
        raise HistoryError(f"{store.shown} has no run {run_id}")
    root, host, no_act, started = found[0]
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
        f"SELECT run_id, name, outcome, tries FROM jobs WHERE run_id IN "
        f"({', '.join('?' * len(ids))}) ORDER BY run_id, seq", list(ids))
    jobs: dict[str, list[tuple[int, str, int]]] = {}
    for one, name, outcome, tries in sorted(rows, key=lambda row: column[row[0]]):
        jobs.setdefault(name, []).append((one, outcome, tries))
    return PastOutcomes(ids, jobs)
