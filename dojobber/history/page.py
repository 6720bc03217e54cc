"""The run history as one self-contained HTML page: the runs over time, the
drift, flaky and slow tables, and each job's outcomes as a strip across runs.

Like the run report's page: no script, nothing fetched, every text escaped,
and a Content-Security-Policy that allows only inline styles.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..reportparts import duration
from .store import Store
from .views import Filters, drift, flaky, runs, slow

#: The most runs drawn (the newest) and the most jobs given a strip.
MAX_RUNS = 200
MAX_JOBS = 500

_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
# Interrupted is hatched, as the run report draws a try cut short: it must
# not read as blocked, nor as a failure of the job's own.
_COLOURS = {"passed": "#53b86a", "passed_after_run": "#1b6b2c", "failed": "#d62828",
            "blocked": "#bbb", "not_tried": "#ddd",
            "interrupted": "repeating-linear-gradient(45deg,#555 0 2px,#ddd 2px 4px)"}
#: The style of a strip's cells (see ``outcome_cell``), for any page that draws strips.
CELLS_CSS = (
    ".cells{display:flex;gap:1px}"
    ".cells i{display:inline-block;flex:0 0 10px;width:10px;height:12px;background:#eee}"
    + "".join(f".cells i.{name}{{background:{colour}}}" for name, colour in _COLOURS.items())
    + ".cells i.absent{background:#fff;outline:1px solid #eee}\n"
)


def page(store: Store, filters: Filters, *, title: str = "Run history") -> str:
    """The page for the runs ``filters`` choose (at most MAX_RUNS, the newest)."""
    last = filters.last if filters.last is not None else MAX_RUNS
    chosen = Filters(filters.root, filters.host, filters.since, filters.failed,
                     min(last, MAX_RUNS))
    listed = list(reversed(runs(store, chosen)))  # oldest first, left to right
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_POLICY}\">",
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='note'>{len(listed)} run{'' if len(listed) == 1 else 's'}"
        + (f", from {escape(listed[0]['started_at'])} to {escape(listed[-1]['started_at'])}"
           if listed else "") + "</p>",
        _runs_section(listed),
        _strips(store, chosen, listed),
        _drift_section(drift(store, chosen)),
        _flaky_section(flaky(store, chosen)),
        _slow_section(slow(store, chosen)),
        "<footer>Written by dojobber history.</footer></body></html>",
    ]
    return "\n".join(parts)


def _runs_section(listed: list[dict[str, Any]]) -> str:
    """Each run as a bar (its height the wall time, its colour the outcome)."""
    if not listed:
        return "<section id='runs'><h2>Runs</h2><p>No runs recorded.</p></section>"
    longest = max(run["wall_seconds"] for run in listed) or 1.0
    bars = []
    for run in listed:
        height = max(2, round(100 * run["wall_seconds"] / longest))
        tip = (f"run {run['id']} {run['started_at']} on {run['host']}: {run['outcome']}, "
               f"{duration(run['wall_seconds'])}")
        bars.append(f"<b class='run {escape(run['outcome'])}' style='height:{height}px' "
                    f"title='{escape(tip)}'></b>")
    rows = "".join(
        f"<tr class='{escape(run['outcome'])}'><td>{run['id']}</td>"
        f"<td>{escape(run['started_at'])}</td><td>{escape(run['host'])}</td>"
        f"<td>{escape(run['root'])}</td><td class='outcome'>{escape(run['outcome'])}</td>"
        f"<td>{escape(_counts(run['counts']))}</td><td>{duration(run['wall_seconds'])}</td></tr>"
        for run in reversed(listed[-50:]))
    return (
        "<section id='runs'><h2>Runs over time</h2>"
        f"<div class='chart' title='wall time per run, oldest on the left'>{''.join(bars)}</div>"
        "<table><tr><th>Run</th><th>When</th><th>Host</th><th>Root</th><th>Outcome</th>"
        f"<th>Jobs</th><th>Wall</th></tr>{rows}</table></section>"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "no jobs"


def _strips(store: Store, filters: Filters, listed: list[dict[str, Any]]) -> str:
    """Per job, a cell per run (oldest first) coloured by its outcome there."""
    from .views import job_outcomes

    column = {run["id"]: k for k, run in enumerate(listed)}
    outcomes = job_outcomes(store, filters)
    rows = []
    for name in list(outcomes)[:MAX_JOBS]:
        cells = [ABSENT] * len(listed)
        for run_id, outcome, tries in outcomes[name]:
            if run_id in column:
                cells[column[run_id]] = outcome_cell(run_id, outcome, tries)
        strip = "".join(cells)
        rows.append(f"<div class='strip'><span class='name' title='{escape(name)}'>"
                    f"{escape(name)}</span><span class='cells'>{strip}</span></div>")
    more = len(outcomes) - MAX_JOBS
    note = f"<p class='note'>... and {more} more jobs.</p>" if more > 0 else ""
    legend = " ".join(f"<i class='key {name}'></i> {name.replace('_', ' ')}"
                      for name in _COLOURS)
    return (f"<section id='strips'><h2>Each job across runs</h2>"
            f"<p class='legend'>Oldest run on the left. {legend}</p>{''.join(rows)}{note}"
            "</section>")


#: The cell of a run that did not have the job.
ABSENT = "<i class='absent'></i>"


def outcome_cell(run_id: int, outcome: str, tries: int) -> str:
    """A job's outcome in run ``run_id`` as a cell of a strip (inside an
    element of class ``cells``, styled by CELLS_CSS): coloured by the
    outcome, the run, outcome and tries in its tooltip."""
    tip = f"run {run_id}: {outcome.replace('_', ' ')}, {tries} tr{'y' if tries == 1 else 'ies'}"
    return f"<i class='{escape(outcome)}' title='{escape(tip)}'></i>"


def _table(ident: str, heading: str, headers: tuple[str, ...],
           rows: list[tuple[Any, ...]], empty: str) -> str:
    if not rows:
        return f"<section id='{ident}'><h2>{heading}</h2><p>{escape(empty)}</p></section>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<section id='{ident}'><h2>{heading}</h2><table><tr>{head}</tr>{body}</table></section>"


def _drift_section(data: list[dict[str, Any]]) -> str:
    rows = [(e["job"], f"{e['ran']} of {e['runs']}", e["last_ran"], e["last_host"])
            for e in data]
    return _table("drift", "Drift: jobs that needed Run",
                  ("Job", "Needed Run", "Last time", "Host"), rows, "No job needed Run.")


def _flaky_section(data: list[dict[str, Any]]) -> str:
    rows = [(e["job"], e["changes"], e["retried_passes"], e["runs"]) for e in data]
    return _table("flaky", "Flaky jobs", ("Job", "Outcome changes", "Passed after retry", "Runs"),
                  rows, "No flaky job.")


def _slow_section(data: dict[str, Any]) -> str:
    rows = [(e["job"], e["runs"], duration(e["mean"]), duration(e["max"]),
             duration(e["first"]), duration(e["last"])) for e in data["jobs"][:50]]
    return _table("slow", "Slowest jobs (by mean duration)",
                  ("Job", "Runs", "Mean", "Max", "First", "Last"), rows, "No jobs recorded.")


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em;margin:0 0 .4em}
h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd}
.note,.legend{color:#555}
table{border-collapse:collapse}
th,td{text-align:left;padding:.15em .8em;border-bottom:1px solid #eee}
tr.failed .outcome,tr.interrupted .outcome{color:#b00}tr.succeeded .outcome{color:#17692a}
.chart{display:flex;align-items:flex-end;gap:2px;height:104px;border-bottom:1px solid #bbb;
margin-bottom:1em;overflow-x:auto}
.run{display:block;flex:0 0 8px;background:#53b86a}
.run.failed{background:#d62828}.run.interrupted{background:#999}
.strip{display:flex;align-items:center;height:16px;font-size:12px}
.name{flex:0 0 16em;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;padding:0 .4em}
.key{display:inline-block;width:10px;height:12px;background:#eee;vertical-align:middle}
""" + "".join(f".key.{name}{{background:{colour}}}" for name, colour in _COLOURS.items()) + """
footer{margin-top:2em;color:#888;font-size:12px}
""" + CELLS_CSS
