"""``dojobber history``: the recorded runs, a job's story and the drift,
flaky, slow and fleet views, as text, JSON or an HTML page."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

from ..history.store import HistoryError, Store
from ..history.views import (
    Filters,
    drift,
    flaky,
    fleet,
    job_story,
    parse_since,
    runs,
    slow,
    trend,
)
from ..report import duration
from ..terminal import escape
from .exits import OK, UsageError
from .historyoptions import add_arguments as add_arguments  # defined there for the parser: light
from .writing import check_can_write, emit, write_file

#: How many runs the plain listing shows without --last.
LISTED = 20
#: How many rows a text view shows (the JSON has them all).
ROWS = 30
#: The largest --last: the largest integer SQLite and PostgreSQL take.
MOST = 2**63 - 1


def main(options: argparse.Namespace) -> int:
    """Show the history the parsed ``options`` name; return the exit status."""
    place = options.place or os.environ.get("DOJOBBER_HISTORY")
    if not place:
        raise UsageError("name the history: dojobber history PLACE (or set DOJOBBER_HISTORY)")
    if options.last is not None and options.last < 1:
        raise UsageError(f"--last must be 1 or more, got {options.last}")
    if options.last is not None and options.last > MOST:
        raise UsageError(f"--last must be at most {MOST}, got {options.last}")
    try:
        since = None if options.since is None else parse_since(options.since)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if options.html:
        check_can_write(options.html)
    filters = Filters(options.root, options.host, since, options.failed, options.last)
    try:
        with Store(place).open_for_reading() as store:
            text, data = _view(options, store, filters)
            page = None
            if options.html:
                from ..history.page import page as history_page

                page = history_page(store, filters, title=f"Run history: {store.shown}")
    except HistoryError as error:
        raise UsageError(str(error)) from None
    if page is not None:
        write_file(options.html, page)
    if options.json:
        import json

        emit(sys.stdout, json.dumps(data, indent=2) + "\n", "stdout")
    else:
        emit(sys.stdout, "".join(escape(line) + "\n" for line in text), "stdout")
    return OK


def _view(
    options: argparse.Namespace, store: Store, filters: Filters
) -> tuple[list[str], Any]:
    """The chosen view's text lines and its JSON-ready data."""
    if options.job is not None:
        story = job_story(store, filters, options.job)
        return _story_text(options.job, story), story
    views: dict[str, Callable[[Store, Filters], Any]] = {
        "drift": drift, "flaky": flaky, "slow": slow, "fleet": fleet}
    for name, view in views.items():
        if getattr(options, name):
            data = view(store, filters)
            return _TEXT[name](data), data
    if filters.last is None:
        filters.last = LISTED
    listed = runs(store, filters)
    return _runs_text(listed), listed


def table(headers: tuple[str, ...], rows: list[tuple[Any, ...]], empty: str) -> list[str]:
    """Aligned columns under ``headers``; ``empty`` when there are no rows."""
    if not rows:
        return [empty]
    cells = [headers, *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(row[k]) for row in cells) for k in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in cells[:ROWS + 1]]
    if len(rows) > ROWS:
        lines.append(f"... and {len(rows) - ROWS} more (--json lists them all)")
    return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "no jobs"


def _runs_text(listed: list[dict[str, Any]]) -> list[str]:
    rows = [(run["id"], run["started_at"], run["host"], run["root"],
             run["outcome"] + (" (dry run)" if run["no_act"] else ""),
             _counts(run["counts"]), duration(run["wall_seconds"])) for run in listed]
    return table(("RUN", "WHEN", "HOST", "ROOT", "OUTCOME", "JOBS", "WALL"), rows,
                 "no runs recorded (or none that match)")


def _story_text(name: str, story: list[dict[str, Any]]) -> list[str]:
    rows = [(entry["run_id"], entry["started_at"], entry["host"], entry["outcome"],
             entry["tries"], duration(entry["seconds"]), entry["error"] or "")
            for entry in story]
    return table(("RUN", "WHEN", "HOST", "OUTCOME", "TRIES", "TOOK", "LAST ERROR"), rows,
                 f"no run has a job named {name!r}")


def _drift_text(data: list[dict[str, Any]]) -> list[str]:
    rows = [(entry["job"], f"{entry['ran']} of {entry['runs']}", entry["last_ran"],
             entry["last_host"]) for entry in data]
    return table(("JOB", "NEEDED RUN", "LAST TIME", "HOST"), rows,
                 "no drift: no job needed Run")


def _flaky_text(data: list[dict[str, Any]]) -> list[str]:
    rows = [(entry["job"], entry["changes"], entry["retried_passes"], entry["runs"],
             " ".join(_short(outcome) for outcome in entry["outcomes"][-12:]))
            for entry in data]
    return table(("JOB", "CHANGES", "PASSED AFTER RETRY", "RUNS", "LATEST OUTCOMES"), rows,
                 "no flaky job")


def _short(outcome: str) -> str:
    return {"passed": "P", "passed_after_run": "R", "failed": "F", "blocked": "b",
            "not_tried": "-", "interrupted": "I"}.get(outcome, "?")


def _slow_text(data: dict[str, Any]) -> list[str]:
    walls = [run["wall_seconds"] for run in data["runs"]]
    lines = []
    if walls:
        lines.append(f"wall time over {len(walls)} runs: {trend(walls[-40:])} "
                     f"first {duration(walls[0])}, last {duration(walls[-1])}, "
                     f"max {duration(max(walls))}")
    rows = [(entry["job"], entry["runs"], duration(entry["mean"]), duration(entry["max"]),
             duration(entry["first"]), duration(entry["last"]),
             ("+" if entry["change"] >= 0 else "-") + duration(abs(entry["change"])))
            for entry in data["jobs"]]
    return lines + table(("JOB", "RUNS", "MEAN", "MAX", "FIRST", "LAST", "CHANGE"), rows,
                         "no jobs recorded")


def _fleet_text(data: list[dict[str, Any]]) -> list[str]:
    rows = [(entry["root"], entry["host"], entry["started_at"],
             "converged" if entry["converged"] else entry["outcome"], entry["ran"],
             entry["failed"]) for entry in data]
    lines = table(("ROOT", "HOST", "LATEST RUN", "STATE", "HAD TO RUN", "FAILED"), rows,
                  "no runs recorded (or none that match)")
    if data:
        converged = sum(entry["converged"] for entry in data)
        lines.append(f"{converged} of {len(data)} converged")
    return lines


_TEXT: dict[str, Callable[[Any], list[str]]] = {
    "drift": _drift_text, "flaky": _flaky_text, "slow": _slow_text, "fleet": _fleet_text}
