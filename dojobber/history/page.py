"""The run history as one self-contained HTML page: the runs over time, the
drift, flaky and slow tables, and each job's outcomes as a strip across runs.

Like the run report's page, it is built with :mod:`dojobber.pagekit`: no
script, nothing fetched, every text escaped, and the same
Content-Security-Policy, which allows only inline styles.
"""

from __future__ import annotations

from typing import Any

from ..errortext import duration
from ..pagekit import ABSENT, CELLS_CSS, OUTCOME_COLOURS, Markup, head, html, join, outcome_cell
from .store import Store
from .views import Filters, drift, flaky, runs, slow

#: The most runs drawn (the newest) and the most jobs given a strip.
MAX_RUNS = 200
MAX_JOBS = 500


def page(store: Store, filters: Filters, *, title: str = "Run history") -> str:
    """The page for the runs ``filters`` choose (at most MAX_RUNS, the newest)."""
    last = filters.last if filters.last is not None else MAX_RUNS
    chosen = Filters(filters.root, filters.host, filters.since, filters.failed,
                     min(last, MAX_RUNS))
    listed = list(reversed(runs(store, chosen)))  # oldest first, left to right
    span = (html(", from {} to {}", listed[0]["started_at"], listed[-1]["started_at"])
            if listed else "")
    parts = [
        head(title, _CSS),
        html("<h1>{}</h1>", title),
        html("<p class='note'>{} run{}{}</p>", len(listed), "" if len(listed) == 1 else "s",
             span),
        _runs_section(listed),
        _strips(store, chosen, listed),
        _drift_section(drift(store, chosen)),
        _flaky_section(flaky(store, chosen)),
        _slow_section(slow(store, chosen)),
        Markup("<footer>Written by dojobber history.</footer></body></html>"),
    ]
    return str(join(parts, "\n"))


def _runs_section(listed: list[dict[str, Any]]) -> Markup:
    """Each run as a bar (its height the wall time, its colour the outcome)."""
    if not listed:
        return Markup("<section id='runs'><h2>Runs</h2><p>No runs recorded.</p></section>")
    longest = max(run["wall_seconds"] for run in listed) or 1.0
    bars = []
    for run in listed:
        height = max(2, round(100 * run["wall_seconds"] / longest))
        tip = (f"run {run['id']} {run['started_at']} on {run['host']}: {run['outcome']}, "
               f"{duration(run['wall_seconds'])}")
        bars.append(html("<b class='run {}' style='height:{}px' title='{}'></b>",
                         run["outcome"], height, tip))
    rows = join(
        html("<tr class='{}'><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
             "<td class='outcome'>{}</td><td>{}</td><td>{}</td></tr>",
             run["outcome"], run["id"], run["started_at"], run["host"], run["root"],
             run["outcome"], _counts(run["counts"]), duration(run["wall_seconds"]))
        for run in reversed(listed[-50:]))
    return html(
        "<section id='runs'><h2>Runs over time</h2>"
        "<div class='chart' title='wall time per run, oldest on the left'>{}</div>"
        "<table><tr><th>Run</th><th>When</th><th>Host</th><th>Root</th><th>Outcome</th>"
        "<th>Jobs</th><th>Wall</th></tr>{}</table></section>", join(bars), rows)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "no jobs"


def _strips(store: Store, filters: Filters, listed: list[dict[str, Any]]) -> Markup:
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
        rows.append(html("<div class='strip'><span class='name' title='{}'>{}</span>"
                         "<span class='cells'>{}</span></div>", name, name, join(cells)))
    more = len(outcomes) - MAX_JOBS
    note = html("<p class='note'>... and {} more jobs.</p>", more) if more > 0 else ""
    legend = join((html("<i class='key {}'></i> {}", name, name.replace("_", " "))
                   for name in OUTCOME_COLOURS), " ")
    return html("<section id='strips'><h2>Each job across runs</h2>"
                "<p class='legend'>Oldest run on the left. {}</p>{}{}</section>",
                legend, join(rows), note)


def _table(ident: str, heading: str, headers: tuple[str, ...],
           rows: list[tuple[Any, ...]], empty: str) -> Markup:
    if not rows:
        return html("<section id='{}'><h2>{}</h2><p>{}</p></section>", ident, heading, empty)
    top = join(html("<th>{}</th>", header) for header in headers)
    body = join(html("<tr>{}</tr>", join(html("<td>{}</td>", cell) for cell in row))
                for row in rows)
    return html("<section id='{}'><h2>{}</h2><table><tr>{}</tr>{}</table></section>",
                ident, heading, top, body)


def _drift_section(data: list[dict[str, Any]]) -> Markup:
    rows = [(e["job"], f"{e['ran']} of {e['runs']}", e["last_ran"], e["last_host"])
            for e in data]
    return _table("drift", "Drift: jobs that needed Run",
                  ("Job", "Needed Run", "Last time", "Host"), rows, "No job needed Run.")


def _flaky_section(data: list[dict[str, Any]]) -> Markup:
    rows = [(e["job"], e["changes"], e["retried_passes"], e["runs"]) for e in data]
    return _table("flaky", "Flaky jobs", ("Job", "Outcome changes", "Passed after retry", "Runs"),
                  rows, "No flaky job.")


def _slow_section(data: dict[str, Any]) -> Markup:
    rows = [(e["job"], e["runs"], duration(e["mean"]), duration(e["max"]),
             duration(e["first"]), duration(e["last"])) for e in data["jobs"][:50]]
    return _table("slow", "Slowest jobs (by mean duration)",
                  ("Job", "Runs", "Mean", "Max", "First", "Last"), rows, "No jobs recorded.")


# The page's own style; the kit's CSS comes first.
_CSS = """\
tr.failed .outcome,tr.interrupted .outcome{color:#b00}tr.succeeded .outcome{color:#17692a}
.chart{display:flex;align-items:flex-end;gap:2px;height:104px;border-bottom:1px solid #bbb;
margin-bottom:1em;overflow-x:auto}
.run{display:block;flex:0 0 8px;background:#53b86a}
.run.failed{background:#d62828}.run.interrupted{background:#999}
.strip{display:flex;align-items:center;height:16px;font-size:12px}
.key{display:inline-block;width:10px;height:12px;background:#eee;vertical-align:middle}
""" + "".join(f".key.{name}{{background:{colour}}}" for name, colour in OUTCOME_COLOURS.items()) + (
    "\n" + CELLS_CSS)
