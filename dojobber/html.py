"""The run report as one self-contained HTML page: summary, graph, timeline, failures."""

from __future__ import annotations

import heapq
import math
import os
import re
import site
import sysconfig
import time
import xml.etree.ElementTree as ElementTree
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol, Sequence

from pygraph.classes.digraph import digraph

from . import render
from .dot import JobState, colour, dot_text
from .errors import RenderError
from .explain import PASSING, explaining
from .pagekit import ABSENT, CELLS_CSS, Markup, head, html, join, outcome_cell, text, visible
from .reportparts import WOULD_RUN, CleanupError, JobError, JobReport, ObserverError, TryReport
from .results import Outcome
from .version import __version__

if TYPE_CHECKING:
    from .history.views import PastOutcomes

#: Above this many jobs the page leaves the graph out: laying it out takes
#: seconds and its SVG weighs megabytes, and nobody reads it at that size.
MAX_GRAPH = 500
#: Above this many jobs the timeline shows every failed job and the slowest
#: others, this many rows in all.
MAX_ROWS = 2000
#: The failures table details at most this many jobs.
MAX_FAILURES = 200
#: A message longer than this is cut (the JSON report has it whole).
MAX_MESSAGE = 2000
#: A traceback shows at most this many lines (a deep recursion has thousands).
MAX_TRACEBACK_LINES = 200

_TRACEBACK_FILE = re.compile(r'^(  File ")(.+?)(", line \d+)', re.MULTILINE)
_PHASE_CLASS = {"check": "c", "run": "r", "recheck": "k"}
_XLINK = "{http://www.w3.org/1999/xlink}"


class Report(Protocol):
    """What the page reads of a run report: a :class:`dojobber.report.RunReport`,
    which draws itself with this module (so this one does not import it)."""

    @property
    def success(self) -> bool: ...
    @property
    def jobs(self) -> Sequence[JobReport]: ...
    @property
    def interrupted(self) -> bool: ...
    @property
    def cleanup_errors(self) -> Sequence[CleanupError]: ...
    @property
    def observer_errors(self) -> Sequence[ObserverError]: ...
    @property
    def stopped_by(self) -> str | None: ...
    @property
    def not_tried(self) -> Sequence[str]: ...
    @property
    def seconds(self) -> float: ...
    @property
    def started_at(self) -> float: ...
    @property
    def no_act(self) -> bool: ...
    @property
    def deps(self) -> Mapping[str, Sequence[str]]: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...
    def label_counts(self) -> dict[str, int]: ...
    def traceback(self, name: str) -> str | None: ...


def check_limit(name: str, value: object) -> None:
    """Raise ValueError unless ``value`` (the limit called ``name``) is a
    whole number of 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of 0 or more, got {value!r}")


def page(
    report: Report,
    *,
    max_graph: int = MAX_GRAPH,
    max_rows: int = MAX_ROWS,
    max_failures: int = MAX_FAILURES,
    past: PastOutcomes | None = None,
) -> str:
    """``report`` as an HTML page that needs nothing else: no network, no
    script. The whole graph is drawn when the run has at most ``max_graph``
    jobs, else the part of it that explains the outcome, at most
    ``max_graph`` jobs; the timeline has at most ``max_rows`` rows and the
    failures table at most ``max_failures`` jobs (the page says what it left
    out). A limit that is not a whole number of 0 or more raises ValueError.

    ``past`` (from :func:`dojobber.history.views.past_outcomes`) puts each
    job's outcomes in the last runs of a run history beside its row of the
    timeline; when its ``error`` is set, the page says it in one line
    instead. None: no such column."""
    for limit, value in (("max_graph", max_graph), ("max_rows", max_rows),
                         ("max_failures", max_failures)):
        check_limit(limit, value)
    rows = {job.name: number for number, job in enumerate(report.jobs)}
    end = _end(report)
    root = str(report.settings.get("root") or (report.jobs[-1].name if report.jobs else ""))
    verdict = _verdict(report)
    kind = "dry run" if report.no_act else "run"
    title = f"DoJobber {kind} of {_name(root)}: {verdict.replace('_', ' ')}"
    parts = [
        head(title, _CSS + _past_css(past)),
        html("<h1>{}</h1>", title),
        _summary(report, verdict),
        _graph(report, rows, root, max_graph),
        _timeline(report, rows, end, max_rows, past),
        _lanes(report, rows, end),
        _failures(report, rows, max_failures),
        _settings(report),
        html("<footer>Made by DoJobber {}.</footer></body></html>\n", __version__),
    ]
    return str(join((part for part in parts if part), "\n"))


# Text


def _name(name: str) -> str:
    """A job name on one line: line breaks and tabs shown as escapes too."""
    return visible(name).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _message(error: JobError) -> str:
    return _cut(str(error))


def _cut(text: str) -> str:
    if len(text) > MAX_MESSAGE:
        text = f"{text[:MAX_MESSAGE]}... ({len(text) - MAX_MESSAGE} more characters)"
    return text


def _cut_traceback(text: str) -> str:
    """A traceback as the page shows it: each line cut like a message (the
    last holds the message), and at most MAX_TRACEBACK_LINES lines, the
    first and the last half of them, which say where it began and ended."""
    lines = [_cut(line) for line in text.splitlines()]
    if len(lines) > MAX_TRACEBACK_LINES:
        half = MAX_TRACEBACK_LINES // 2
        lines = lines[:half] + [f"... ({len(lines) - 2 * half} more lines)"] + lines[-half:]
    return "\n".join(lines)


def _seconds(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 0.1:
        return f"{seconds:.2f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.3f}%"


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


# Sections


def _verdict(report: Report) -> str:
    """How the run ended, in a word (also the headline's CSS class)."""
    if report.interrupted:
        return "interrupted"
    if report.success:
        return "passed"
    labels = report.label_counts()
    if report.no_act and not labels.get(Outcome.FAILED.value) and labels.get(WOULD_RUN):
        return WOULD_RUN
    return "failed"


def _jobs(count: int) -> str:
    return "1 job" if count == 1 else f"{count} jobs"


def _headline(report: Report) -> str:
    """The page's first line, which cannot be misread: ``Run failed: 2 of
    18 jobs failed, 2 blocked``, ``Run passed: 18 jobs``, ``Run interrupted:
    5 of 18 jobs passed, 13 blocked``, ``Dry run: 3 of 18 jobs would run,
    4 not checked``."""
    labels = report.label_counts()
    total = len(report.jobs)
    passing = sum(labels.get(label, 0) for label in PASSING)
    others = {label: count for label, count in labels.items()
              if count and label not in PASSING}
    if report.no_act and not report.interrupted:
        if not others:
            return f"Dry run: nothing would run, {_jobs(total)} passed their Check"
        lead = WOULD_RUN if WOULD_RUN in others else next(iter(others))
        head = "Dry run"
    elif report.interrupted:
        lead, head = "", "Run interrupted"
    elif report.success or not others:
        after = labels.get(Outcome.PASSED_AFTER_RUN.value, 0)
        word = "passed" if report.success else "failed"
        return f"Run {word}: {_jobs(total)}" + (f" ({after} passed after Run)" if after else "")
    else:
        lead = Outcome.FAILED.value if Outcome.FAILED.value in others else next(iter(others))
        head = "Run failed"
    if lead:
        first = f"{others.pop(lead)} of {_jobs(total)} {lead.replace('_', ' ')}"
    else:  # interrupted: how far it got
        first = f"{passing} of {_jobs(total)} passed"
    rest = "".join(f", {count} {label.replace('_', ' ')}" for label, count in others.items())
    return f"{head}: {first}{rest}"


def _summary(report: Report, verdict: str) -> Markup:
    counts = join(
        html("<li class='count {}'><b>{}</b> {}</li>", label, count, label.replace("_", " "))
        for label, count in report.label_counts().items()
    )
    facts = [f"took {_seconds(report.seconds)}"]
    if report.started_at:
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report.started_at))
        facts.append(f"started {started}")
    facts_text = ", ".join(facts)
    if report.no_act:
        facts_text += "; a dry run (no_act): nothing was Run"
    alerts = join(html("<p class=alert>{}</p>", alert) for alert in _alerts(report))
    return html(
        "<section id=summary><p class='verdict {}'>{}.</p><p class=facts>{}.</p>"
        "{}<ul class=counts>{}</ul></section>",
        verdict, _name(_headline(report)), facts_text[:1].upper() + facts_text[1:],
        alerts, counts,
    )


def _alerts(report: Report) -> list[str]:
    """What went wrong beside the jobs: a stop, fail-fast, Cleanups, observers."""
    alerts = []
    if report.interrupted:
        alerts.append("Interrupted (Ctrl-C or SIGTERM) before the run was over.")
    if report.stopped_by is not None:
        count = len(report.not_tried)
        jobs = "1 job was" if count == 1 else f"{count} jobs were"
        alerts.append(
            f"Fail-fast: the run stopped when {_name(report.stopped_by)} failed; "
            f"{jobs} not tried because of it."
        )
    alerts += [
        f"Cleanup of {_name(failure.job)} raised {_message(failure.error)}"
        for failure in report.cleanup_errors
    ]
    alerts += [
        f"Observer {failure.observer} raised {_message(failure.error)} in {failure.event}; "
        "it got no more events."
        for failure in report.observer_errors
    ]
    return alerts


def _graph(report: Report, rows: dict[str, int], root: str, max_graph: int) -> Markup:
    start = "<section id=graph><h2>Graph</h2>"
    if not report.deps:
        return Markup(start + "<p class=note>The graph is not in this report (an event log "
                      "has no DEPS).</p></section>")
    whole = Markup("Draw the whole graph with <code>dojobber run --graph run.svg</code> "
                   "or <code>write_graph()</code>.")
    note = Markup()
    names: Sequence[str] = list(report.deps)
    if len(report.jobs) > max_graph:
        names = explaining({job.name: job.outcome.value for job in report.jobs},
                           report.deps, root, max_graph)
        too_big = (f"The graph has {len(report.jobs)} jobs, more than the {max_graph} "
                   "this page draws")
        if not names:
            why = (", and every job passed: nothing to explain" if max_graph
                   else "")
            return html(start + "<p class=note>{}{}. {}</p></section>", too_big, why, whole)
        note = html("<p class=note>{}. {} {}</p>", too_big, _left_out(report, names), whole)
    try:
        picture = _inline(render.render(_dot(report, rows, names), "svg"))
    except RenderError as error:
        return html(start + "<p class=note>No picture of the graph: {}</p></section>", error)
    except ElementTree.ParseError as error:
        why = f"its SVG is not XML ({error})."
        return html(start + "<p class=note>No picture of the graph: {}</p></section>", why)
    return html(start + "{}<div class=picture>{}</div></section>", note, picture)


def _left_out(report: Report, names: Sequence[str]) -> str:
    """What the part of the graph drawn holds, and by outcome what it leaves out."""
    drawn = set(names)
    left: dict[str, int] = {}
    for job in report.jobs:
        if job.name not in drawn:
            left[job.label] = left.get(job.label, 0) + 1
    shown = (f"Drawn here: the {len(drawn)} jobs that explain the outcome (the jobs that "
             "did not pass, failures first, each with its way to the root, and what the "
             "failures depend on directly).")
    listed = ", ".join(f"{count} {label.replace('_', ' ')}" for label, count in left.items())
    return f"{shown} Left out: {_jobs(sum(left.values()))} ({listed})."


def _dot(report: Report, rows: dict[str, int], names: Sequence[str]) -> str:
    """The coloured graph of the jobs ``names`` of ``report`` (and the
    dependencies between them) as DOT, each node linking to its row."""
    graph = digraph()
    graph.add_nodes(list(names))
    drawn = set(names)
    for job in names:
        for dep in report.deps.get(job, ()):
            if dep in drawn:
                graph.add_edge((job, dep))
    colour(graph, {job.name: job.outcome for job in report.jobs if job.name in drawn})
    for name in names:
        if name in rows:
            graph.add_node_attribute(name, ("href", f"#job-{rows[name]}"))
    states = {
        job.name: JobState(job.outcome, job.tries, _last_error(job.history))
        for job in report.jobs if job.name in drawn
    }
    return dot_text(graph, states)


def _last_error(history: Sequence[TryReport]) -> JobError | None:
    for one in reversed(history):
        if one.error is not None:
            return one.error
    return None


def _inline(svg: bytes) -> Markup:
    """Graphviz's SVG as an element to put in HTML: no XML prolog or
    comments, links as plain ``href``, scaled to the page's width."""
    root = ElementTree.fromstring(svg)
    for element in root.iter():
        # Inside HTML, <svg> and what it holds are SVG without a namespace.
        element.tag = element.tag.rpartition("}")[2]
        # Graphviz keeps bidirectional overrides and zero-width characters.
        if element.text:
            element.text = visible(element.text)
        for key, value in element.attrib.items():
            element.set(key, visible(value))
        link = element.attrib.pop(_XLINK + "href", None)
        if link is not None:
            element.set("href", link)
        element.attrib.pop(_XLINK + "title", None)  # the <title> inside says it
    for size in ("width", "height"):
        root.attrib.pop(size, None)
    # Markup as it is: ElementTree escapes each text and attribute value it writes.
    return Markup(ElementTree.tostring(root, encoding="unicode"))


def _end(report: Report) -> float:
    """Where the time axis ends: the run's end, or its last try's end."""
    ends = [one.start + one.seconds for job in report.jobs for one in job.history]
    return max([report.seconds, *ends]) or 1.0


_FIRST_ROWS = frozenset({Outcome.FAILED, Outcome.INTERRUPTED})


def _shown(report: Report, max_rows: int) -> tuple[Sequence[JobReport], Markup]:
    """The jobs the timeline shows, in run order, and what it left out."""
    jobs = report.jobs
    if len(jobs) <= max_rows:
        return jobs, Markup()
    # What went wrong first: the failed jobs, and those a Ctrl-C cut short.
    first = [job for job in jobs if job.outcome in _FIRST_ROWS][:max_rows]
    others = sorted((job for job in jobs if job.outcome not in _FIRST_ROWS),
                    key=lambda job: -job.seconds)
    kept = {job.name for job in first + others[: max_rows - len(first)]}
    which = ("failed or interrupted job"
             if any(job.outcome is Outcome.INTERRUPTED for job in first) else "failed job")
    note = html(
        "<p class=note>This run has {} jobs: the timeline shows {} of them, in run order: "
        "every {}, then the slowest others. The JSON report (<code>--json</code>) has "
        "every job.</p>", len(jobs), len(kept), which,
    )
    return [job for job in jobs if job.name in kept], note


def _timeline(report: Report, rows: dict[str, int], end: float, max_rows: int,
              past: PastOutcomes | None) -> Markup:
    jobs, note = _shown(report, max_rows)
    failed = {job.name for job in report.jobs if _failed_tries(job)}
    not_tried = set(report.not_tried)
    strips = _past_strips(past)
    lines = [
        Markup("<section id=timeline><h2>Timeline</h2>"), note,
        Markup("<p class=legend>Each try is a bar, split into its phases: "
               "<span class='key c'></span> check <span class='key r'></span> run "
               "<span class='key k'></span> recheck; <span class='key bad'></span> a failed try, "
               "<span class='key wait'></span> the wait before a retry. "
               "Hover over a bar for its times and errors.</p>"),
        _past_legend(past),
        html("<div class=rows>{}", _axis(end, strips is not None)),
    ]
    for job in jobs:
        row = rows[job.name]
        name = text(_name(job.name))
        if job.name in failed:
            name = html("<a href='#fail-{}'>{}</a>", row, name)
        lines.append(html(
            "<div class='row {}' id=job-{}><span class=name title='{}'>{}</span>"
            "<span class=out>{}</span>{}<div class=track>{}</div></div>",
            job.label, row, _name(job.name), name,
            _outcome_text(job, job.name in not_tried),
            Markup() if strips is None else strips(job.name), join(_bars(job.history, end)),
        ))
    lines.append(Markup("</div></section>"))
    return join((line for line in lines if line), "\n")


def _past_strips(past: PastOutcomes | None) -> Callable[[str], Markup] | None:
    """What draws a job's strip of past outcomes; None when there is no column."""
    if past is None or past.error is not None or not past.runs:
        return None
    column = {run: number for number, run in enumerate(past.runs)}

    def strip(name: str) -> Markup:
        cells = [ABSENT] * len(column)
        for run, outcome, tries in past.jobs.get(name, ()):
            if run in column:
                cells[column[run]] = outcome_cell(run, outcome, tries)
        return html("<span class='past cells'>{}</span>", join(cells))

    return strip


def _past_legend(past: PastOutcomes | None) -> Markup:
    """The line that tells what the column of past outcomes is, or why it is missing."""
    if past is None:
        return Markup()
    if past.error is not None:
        return html("<p class=note>No past outcomes beside the jobs: {}</p>", _cut(past.error))
    if not past.runs:
        return Markup()
    count = len(past.runs)
    runs = "this run" if count == 1 else f"the last {count} runs"
    keys = join((
        html("<span class='cells inline'><i class='{}'></i></span> {}",
             outcome, outcome.replace("_", " "))
        for outcome in sorted({one[1] for jobs in past.jobs.values() for one in jobs},
                              key=_outcome_order)
    ), ", ")
    return html(
        "<p class=legend>Beside each job, its outcome in {} of this root on this "
        "host, from the run history, oldest first and this run last: {}. Hover over "
        "a cell for its run.</p>", runs, keys,
    )


def _outcome_order(outcome: str) -> tuple[int, str]:
    order = [one.value for one in Outcome]
    return (order.index(outcome) if outcome in order else len(order), outcome)


def _past_css(past: PastOutcomes | None) -> str:
    """The style of the column of past outcomes, as wide as its runs."""
    if past is None or past.error is not None or not past.runs:
        return ""
    width = 11 * len(past.runs) + 6
    return (f"{CELLS_CSS}.row .past{{flex:0 0 {width}px;align-items:center}}"
            ".cells.inline{display:inline-flex;vertical-align:middle}\n")


def _outcome_text(job: JobReport, fail_fast: bool) -> str:
    label = "not tried (fail-fast)" if fail_fast else job.label.replace("_", " ")
    if not job.tries:
        return label
    return f"{label}, {_tries(job.tries)}, {_seconds(job.seconds)}"


def _axis(end: float, past: bool = False) -> Markup:
    """The row of time ticks; with ``past``, a place for the column of past outcomes."""
    step = _step(end)
    ticks = []
    count = int(end / step + 1e-9)
    for number in range(count + 1):
        at = number * step
        ticks.append(html("<span style='left:{}'>{}</span>", _percent(at, end), _tick(at, step)))
    column = Markup("<span class=past>runs</span>" if past else "")
    return html(
        "<div class='row axis'><span class=name></span><span class=out></span>{}"
        "<div class=track>{}</div></div>", column, join(ticks),
    )


def _step(end: float) -> float:
    """A round step (1, 2 or 5 times a power of ten, of seconds or of
    minutes in a long run) for about eight ticks."""
    rough = end / 8
    if rough >= 60:
        return 60 * _step(end / 60)
    power = 10.0 ** math.floor(math.log10(rough))
    return next(factor * power for factor in (1, 2, 5, 10) if factor * power >= rough)


def _tick(at: float, step: float) -> str:
    if step >= 60:
        return f"{at / 60:g} min"
    if step >= 1:
        return f"{at:g} s"
    return f"{round(at * 1000, 6):g} ms" if step < 0.1 else f"{round(at, 6):g} s"


def _bars(history: Sequence[TryReport], end: float) -> Iterable[Markup]:
    """A bar per try, its phases inside, and a dashed line for each wait."""
    previous_end = None
    for one in history:
        if previous_end is not None and one.start > previous_end:
            yield html("<i class=wait style='left:{};width:{}'></i>",
                       _percent(previous_end, end), _percent(one.start - previous_end, end))
        outcome = "cut" if one.outcome is None else (
            "bad" if one.outcome is Outcome.FAILED else "ok")
        phases = join(
            html("<i class={} style='width:{}'></i>", _PHASE_CLASS[phase.phase],
                 _percent(phase.seconds, one.seconds or 1.0))
            for phase in one.phases
        )
        yield html("<b class={} style='left:{};width:{}' title='{}'>{}</b>", outcome,
                   _percent(one.start, end), _percent(one.seconds, end), _try_text(one), phases)
        previous_end = one.start + one.seconds


def _try_text(one: TryReport) -> str:
    """The hover text of a try: when, how it ended, each phase."""
    ended = "interrupted" if one.outcome is None else one.outcome.value.replace("_", " ")
    lines = [f"try {one.number}: {ended}, {_seconds(one.seconds)} from {_seconds(one.start)}"]
    for phase in one.phases:
        line = f"{phase.phase} {_seconds(phase.seconds)}"
        if phase.error is not None:
            line += f": {_message(phase.error)}"
        lines.append(line)
    if not one.phases and one.error is not None:
        lines.append(f"not created: {_message(one.error)}")
    return "\n".join(lines)


def _lanes(report: Report, rows: dict[str, int], end: float) -> Markup:
    """Tries packed into as few lanes as ran at once: in a parallel run,
    one lane per busy worker. Nothing when at most one try ran at a time."""
    tries = sorted(
        ((one.start, one.start + one.seconds, job) for job in report.jobs for one in job.history),
        key=lambda entry: entry[0],
    )
    lanes: list[list[Markup]] = []
    busy: list[tuple[float, int]] = []  # (end, lane) of the tries running
    free: list[int] = []
    for start, stop, job in tries:
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        lane = heapq.heappop(free) if free else len(lanes)
        if lane == len(lanes):
            lanes.append([])
        heapq.heappush(busy, (stop, lane))
        lanes[lane].append(html(
            "<a class={} href='#job-{}' title='{}' style='left:{};width:{}'></a>", job.label,
            rows[job.name], _name(job.name), _percent(start, end), _percent(stop - start, end),
        ))
    if len(lanes) < 2:
        return Markup()
    body = join((
        html("<div class='row lane'><span class=name>lane {}</span><span class=out>{}</span>"
             "<div class=track>{}</div></div>", number, _tries(len(bars)), join(bars))
        for number, bars in enumerate(lanes, 1)
    ), "\n")
    return html(
        "<section id=lanes><h2>Lanes</h2><p class=legend>At most {} tries ran at "
        "once. Each lane is a row of tries that did not overlap, coloured by how their job "
        "ended; click one to find its job.</p><div class=rows>{}\n{}</div></section>",
        len(lanes), _axis(end), body,
    )


def _failed_tries(job: JobReport) -> list[TryReport]:
    return [one for one in job.history if one.outcome is Outcome.FAILED]


def _failures(report: Report, rows: dict[str, int], max_failures: int) -> Markup:
    jobs = [job for job in report.jobs if _failed_tries(job)]
    # Jobs that failed for good first, then those a later try saved.
    jobs.sort(key=lambda job: job.outcome is not Outcome.FAILED)
    if not jobs:
        return Markup("<section id=failures><h2>Failures</h2><p>No try failed.</p></section>")
    lines = [Markup(
        "<section id=failures><h2>Failures</h2><p class=legend>Every job with a failed try, "
        "each try's errors by phase, and the traceback of each failed job's last error "
        "(click to unfold; file paths are shortened, see the docs).</p>"
    )]
    for job in jobs[:max_failures]:
        lines.append(_failure(report, job, rows[job.name]))
    if len(jobs) > max_failures:
        lines.append(html(
            "<p class=note>... and {} more jobs with a failed try; "
            "the JSON report (<code>--json</code>) has them all.</p>", len(jobs) - max_failures,
        ))
    lines.append(Markup("</section>"))
    return join(lines, "\n")


def _failure(report: Report, job: JobReport, row: int) -> Markup:
    items = []
    for one in job.history:
        ended = "interrupted" if one.outcome is None else one.outcome.value.replace("_", " ")
        errors = [
            html("<li><span class=phase>{}</span> {}</li>", phase.phase, _message(phase.error))
            for phase in one.phases if phase.error is not None
        ]
        if not one.phases and one.error is not None:
            errors.append(html("<li><span class=phase>not created</span> {}</li>",
                               _message(one.error)))
        items.append(html("<li>try {}: {} after {}<ul class=errors>{}</ul></li>",
                          one.number, ended, _seconds(one.seconds), join(errors)))
    trace = report.traceback(job.name)
    folded = html(
        "<details><summary>traceback</summary><pre>{}</pre></details>",
        _cut_traceback(shorten_paths(trace)),
    ) if trace else Markup()
    return html(
        "<div class='failure {}' id=fail-{}><h3><a href='#job-{}'>{}</a> <span class=out>"
        "{} after {}</span></h3><ol class=tries>{}</ol>{}</div>",
        job.label, row, row, _name(job.name), job.label.replace("_", " "), _tries(job.tries),
        join(items), folded,
    )


def _settings(report: Report) -> Markup:
    values: dict[str, Any] = dict(report.settings)
    values["no_act"] = report.no_act
    values["interrupted"] = report.interrupted
    rows = join(
        html("<tr><th>{}</th><td>{}</td></tr>", str(key), _name(str(value)))
        for key, value in values.items()
    )
    return html("<section id=settings><h2>Settings</h2><table>{}</table></section>", rows)


# Paths in tracebacks


def shorten_paths(text: str) -> str:
    """``text`` (a traceback) with each ``File "..."`` path made short:
    relative to the working directory, ``<python>/`` or ``<site-packages>/``
    for Python's own files and installed packages, ``~/`` under the home
    directory, else ``.../`` and the file's last two path parts."""
    places = _places()
    return _TRACEBACK_FILE.sub(
        lambda match: match[1] + _short(match[2], places) + match[3], text
    )


def _short(path: str, places: list[tuple[str, str]]) -> str:
    if not os.path.isabs(path):
        return path
    for prefix, shown in places:
        if prefix and path.startswith(prefix + os.sep):
            return shown + path[len(prefix):]
    parts = path.split(os.sep)
    return ".../" + "/".join(parts[-2:])


def _places() -> list[tuple[str, str]]:
    """Known folders, longest first, and how a short path starts inside them."""
    places = [(os.getcwd(), "."), (os.path.expanduser("~"), "~")]
    packages = [*site.getsitepackages(), site.getusersitepackages()]
    places += [(folder, "<site-packages>") for folder in packages]
    places += [(sysconfig.get_paths()[key], "<python>") for key in ("stdlib", "platstdlib")]
    return sorted(
        {(os.path.normpath(folder), shown) for folder, shown in places if folder != os.sep},
        key=lambda place: -len(place[0]),
    )


# The page's own style; the kit's CSS comes first.
_CSS = """\
h3{font-size:1em;margin:.2em 0}code,pre{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f6f6f6;padding:.6em;overflow:auto;white-space:pre-wrap}
.alert{color:#a40000;font-weight:bold}
.verdict{font-size:1.1em;font-weight:bold}.verdict.passed{color:#17692a}
.verdict.failed,.verdict.interrupted{color:#b00}.verdict.would_run{color:#8a5a00}
.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5em}
.count{padding:.2em .7em;border-radius:1em;background:#eee}
.count.passed{background:#c8f0cf}.count.passed_after_run{background:#1b6b2c;color:#fff}
.count.failed{background:#d62828;color:#fff}.count.would_run{background:#f2c14e}
.picture svg{max-width:100%;height:auto}
.rows{border:1px solid #ddd}
.row{display:flex;align-items:center;height:16px;border-top:1px solid #f0f0f0;font-size:12px}
.row:target{background:#fff3b0}
.out{flex:0 0 17em;color:#555;white-space:nowrap;overflow:hidden;padding-right:.4em}
.row.failed .out{color:#b00}.row.blocked .name,.row.not_checked .name{color:#888}
.track{position:relative;flex:1;height:100%;min-width:200px;margin-right:2.5em}
.track b,.track a,.track .wait{position:absolute;top:2px;height:11px;min-width:1px}
.track b{display:flex;outline:1px solid #0004;background:#9bb}
.track b.bad{outline:2px solid #d62828}
.track b.cut{background:repeating-linear-gradient(45deg,#999 0 3px,#ddd 3px 6px)}
.track b i{height:100%;display:block}
.c,.key.c{background:#6c9bd2}.r,.key.r{background:#e9a23b}.k,.key.k{background:#8a6bbd}
.track .wait{top:7px;height:0;border-top:1px dashed #d62828}
.key{display:inline-block;width:1.6em;height:.8em;vertical-align:middle;margin-left:.4em}
.key.bad{outline:2px solid #d62828;background:#9bb}.key.wait{height:0;border-top:1px dashed #d62828}
.axis{position:sticky;top:0;background:#fafafa;z-index:1;height:18px}
.axis .track span{position:absolute;top:1px;border-left:1px solid #bbb;padding-left:2px;
color:#555;font-size:11px;white-space:nowrap}
.lane .track a{background:#9bb}
.track a.passed{background:#53b86a}.track a.passed_after_run{background:#1b6b2c}
.track a.failed{background:#d62828}.track a.would_run{background:#f2c14e}
.count.interrupted,.track a.interrupted{background:#666;color:#fff}.row.interrupted .out{color:#b00}
.failure{border-left:4px solid #d62828;padding:.2em .8em;margin:.6em 0}
.failure.passed_after_run,.failure.passed{border-color:#1b6b2c}
.errors{margin:.1em 0;white-space:pre-wrap}.phase{font-weight:bold}
"""
