"""The HTML run report: report().to_html() and `dojobber run --html`, in headless Chromium."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import dojobber_example as doex
import pytest

from dojobber import DoJobber, Job, Observer, Outcome, RenderError, render
from dojobber import html as report_html
from dojobber.history import page as history_page
from dojobber.history.store import Store
from dojobber.history.views import Filters
from dojobber.pagekit import POLICY, Markup, html, join, text
from dojobber.report import JobError, JobReport, PhaseReport, RunReport, TryReport

TESTS = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
needs_renderer = pytest.mark.skipif(
    shutil.which("dot") is None and not render.wasm_available(),
    reason="neither Graphviz's dot nor DoJobber's in-process renderer (the pictures extra) "
    "is installed")

HOSTILE = "<script>document.title='pwned'</script>"
HOSTILE_MESSAGE = "</pre><script>document.title='pwned too'</script>\x1b[31m red"


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.content: list[str | Element] = []  # text and children, in order

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def text(self) -> str:
        return "".join(part if isinstance(part, str) else part.text() for part in self.content)

    def find(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                found.append(child)
            found += child.find(tag, cls)
        return found


class Page(HTMLParser):
    """The element tree of a page, as a browser's parser would see its tags."""

    VOID = {"meta", "br", "img", "link", "input", "hr", "path", "polygon", "ellipse",
            "polyline"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.at = self.root
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.at)
        self.at.children.append(element)
        self.at.content.append(element)
        if tag not in self.VOID:
            self.at = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        at: Element | None = self.at
        while at is not None and at.tag != tag:
            at = at.parent
        if at is not None and at.parent is not None:
            self.at = at.parent

    def handle_data(self, data: str) -> None:
        self.at.content.append(data)

    def by_id(self, ident: str) -> Element:
        found = [e for e in self.root.find() if e.attrs.get("id") == ident]
        assert len(found) == 1, f"{len(found)} elements with id {ident!r}"
        return found[0]

    def timeline_rows(self) -> dict[str, Element]:
        """Job name -> its row of the timeline."""
        section = self.by_id("timeline")
        rows = [row for row in section.find("div", "row") if "axis" not in row.classes]
        return {row.find("span", "name")[0].attrs["title"]: row for row in rows}


def browser_dom(page: Path, tmp_path: Path) -> str:
    """The page's DOM after headless Chromium loaded it, serialised."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "<body" in done.stdout, done.stderr
    return done.stdout


def example_report(**settings: Any) -> RunReport:
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, default_retry_delay=0, **settings)
    dojob.set_args("arg1", movie="Noises Off", battery_state="dead")
    dojob.checknrun()
    return dojob.report()


def raising(message: str) -> Any:
    def method(self: Job, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(message)
    return method


def passing(self: Job, *args: Any, **kwargs: Any) -> None:
    pass


def hostile_report(**settings: Any) -> RunReport:
    evil = type(HOSTILE, (Job,), {"Check": raising(HOSTILE_MESSAGE), "Run": passing,
                                  "TRIES": 2})
    hidden = type("tab\there\u202eevil\x1b", (Job,), {"Check": passing})
    root = type("Root", (Job,), {"DEPS": (evil, hidden), "Check": passing})
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0, **settings)
    dojob.checknrun()
    return dojob.report()


def made_report(jobs: list[JobReport], seconds: float, **extra: Any) -> RunReport:
    """A report written by hand, with times chosen by the test."""
    deps = extra.pop("deps", {job.name: () for job in jobs})
    return RunReport(all(job.outcome is not Outcome.FAILED for job in jobs), jobs,
                     seconds=seconds, deps=deps, **extra)


def one_try(start: float, check: float, run: float = 0.0, recheck: float = 0.0, *,
            number: int = 1, failed: bool = False) -> TryReport:
    error = JobError("RuntimeError", "broken") if failed else None
    phases = [PhaseReport("check", start, check, JobError("RuntimeError", "not yet")
                          if run else None)]
    if run:
        phases += [PhaseReport("run", start + check, run, None),
                   PhaseReport("recheck", start + check + run, recheck, error)]
    outcome = Outcome.FAILED if failed else (
        Outcome.PASSED_AFTER_RUN if run else Outcome.PASSED)
    return TryReport(number, outcome, start, check + run + recheck, tuple(phases), error)


# In the browser


@needs_chromium
def test_example_page_in_chromium_has_every_job_its_tries_and_errors(tmp_path: Path) -> None:
    report = example_report()
    page = tmp_path / "report.html"
    page.write_text(report.to_html(), encoding="utf-8")
    dom = Page(browser_dom(page, tmp_path))

    assert dom.root.find("title")[0].text() == "DoJobber run of WatchMovie: failed"
    rows = dom.timeline_rows()
    assert sorted(rows) == sorted(job.name for job in report.jobs)
    for job in report.jobs:
        bars = rows[job.name].find("b")
        assert len(bars) == job.tries, job.name
        assert len([b for b in bars if "bad" in b.classes]) == sum(
            one.outcome is Outcome.FAILED for one in job.history)
    # Popcorn's first four tries failed: each bar holds check, run and recheck.
    popcorn = rows["Popcorn"].find("b")
    assert [[i.attrs["class"] for i in bar.find("i")] for bar in popcorn] == [["c", "r", "k"]] * 5
    assert rows["StartMovie"].find("span", "out")[0].text() == "blocked"

    summary = dom.by_id("summary").text()
    assert "8 passed" in summary and "2 failed" in summary and "2 blocked" in summary
    failures = dom.by_id("failures")
    turn_on = dom.by_id(f"fail-{[j.name for j in report.jobs].index('TurnOnTV')}")
    assert turn_on.find("a")[0].text() == "TurnOnTV"
    tries = turn_on.find("ol", "tries")[0]
    assert tries.text().count("RuntimeError: Remote batteries are dead.") == 6
    traceback = turn_on.find("details")[0]
    assert traceback.find("summary")[0].text() == "traceback"
    assert 'in Check\n    raise RuntimeError("Remote batteries are dead.")' in traceback.text()
    assert "dojobber_example.py" in failures.text()
    settings = dom.by_id("settings").text()
    assert "enginesequential" in settings and "default_tries3" in settings


@needs_chromium
@needs_renderer
def test_graph_in_chromium_links_every_job_to_its_row(tmp_path: Path) -> None:
    report = example_report()
    page = tmp_path / "report.html"
    page.write_text(report.to_html(), encoding="utf-8")
    dom = Page(browser_dom(page, tmp_path))
    svg = dom.by_id("graph").find("svg")[0]
    nodes = {g.find("title")[0].text(): g for g in svg.find("g", "node")}
    for number, job in enumerate(report.jobs):
        [link] = [a for a in nodes[job.name].find("a") if a.attrs.get("href")]
        assert link.attrs["href"] == f"#job-{number}"
        assert dom.by_id(f"job-{number}").find("span", "name")[0].text() == job.name
    assert nodes["TurnOnTV"].find("ellipse")[0].attrs["fill"] == "red"


@needs_chromium
def test_hostile_names_and_messages_stay_text_in_chromium(tmp_path: Path) -> None:
    report = hostile_report()
    page = tmp_path / "report.html"
    page.write_text(report.to_html(), encoding="utf-8")
    served = browser_dom(page, tmp_path)
    dom = Page(served)

    # No script ran (the title is the page's own) and none is in the DOM.
    assert dom.root.find("title")[0].text() == "DoJobber run of Root: failed"
    assert dom.root.find("script") == []
    rows = dom.timeline_rows()
    assert HOSTILE in rows
    assert rows[HOSTILE].find("span", "name")[0].text() == HOSTILE
    # Control and bidi characters shown as escapes, not acted on.
    assert "tab\\there\\u202eevil\\x1b" in rows
    assert "\x1b" not in served and "\u202e" not in served
    failure = dom.by_id("failures")
    assert "RuntimeError: </pre><script>document.title='pwned too'</script>\\x1b[31m red" in (
        failure.text())


@needs_chromium
def test_a_2000_job_parallel_run_gives_a_light_page_chromium_renders_whole(
        tmp_path: Path) -> None:
    def failing(number: int) -> bool:
        return number % 97 == 50

    # Chains of jobs, 21 of which fail (with nothing behind them but the root).
    classes: list[type[Job]] = []
    for number in range(1999):
        deps = tuple(classes[d] for d in range(max(0, number - 3), number)
                     if (number + d) % 3 == 0 and not failing(d))
        check = raising(f"job {number} is broken") if failing(number) else passing
        classes.append(type(f"Job {number}", (Job,), {
            "DEPS": deps, "Check": check, "Run": passing, "TRIES": 2}))
    root = type("Root", (Job,), {"DEPS": tuple(classes), "Check": passing})
    dojob = DoJobber()
    dojob.configure(root, default_retry_delay=0, workers=4)
    dojob.checknrun()
    report = dojob.report()
    page = tmp_path / "report.html"
    page.write_text(report.to_html(), encoding="utf-8")
    assert page.stat().st_size < 2_000_000

    dom = Page(browser_dom(page, tmp_path))
    rows = dom.timeline_rows()
    assert len(rows) == 2000
    assert sorted(rows) == sorted(job.name for job in report.jobs)
    bars = sum(len(row.find("b")) for row in rows.values())
    assert bars == sum(job.tries for job in report.jobs) > 2000
    failed = [job.name for job in report.jobs if job.outcome is Outcome.FAILED]
    assert len(failed) == 21
    failures = dom.by_id("failures").find("div", "failure")
    assert {f.find("a")[0].text() for f in failures} == set(failed)
    assert "The graph has 2000 jobs, more than the 500 this page draws" in (
        dom.by_id("graph").text())


# The page itself


def test_page_needs_no_network_and_runs_no_script() -> None:
    text = example_report().to_html()
    lowered = text.lower()
    assert "<script" not in lowered
    for fetching in ("src=", "<link", "url(", "@import", "http://", "https://"):
        assert fetching not in lowered.replace('xmlns="http://www.w3.org/2000/svg"', ""), fetching
    assert "default-src 'none'" in text


def test_hostile_text_is_escaped_in_the_page() -> None:
    text = hostile_report().to_html()
    assert "<script" not in text
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in text
    assert "\x1b" not in text and "\u202e" not in text and "\t" not in text.split("<style>")[0]


def test_the_kit_escapes_every_text_not_marked_as_markup() -> None:
    odd = "<script>alert('x')</script> \"&\" \u202e\x1b " + os.fsdecode(b"caf\xe9")
    made = html("<p title='{}'>{}</p>", odd, odd)
    shown = ("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &quot;&amp;&quot; "
             "\\u202e\\x1b caf\\udce9")
    assert made == f"<p title='{shown}'>{shown}</p>"
    made.encode("utf-8")  # the lone surrogate is an escape: the page can be written
    [paragraph] = Page(made).root.find("p")
    assert paragraph.attrs["title"] == paragraph.text() == (
        "<script>alert('x')</script> \"&\" \\u202e\\x1b caf\\udce9")
    # Only what is marked as Markup goes in as it is, and a str method drops the mark.
    assert html("<div>{}{}</div>", Markup("<br>"), "<br>") == "<div><br>&lt;br&gt;</div>"
    assert html("{}", Markup("<b>") + "</b>") == "&lt;b&gt;&lt;/b&gt;"
    assert join(["<i>", Markup("<i>"), 3], "\n") == "&lt;i&gt;\n<i>\n3"
    assert text(RuntimeError("<x>")) == "&lt;x&gt;"
    assert isinstance(join([]), Markup) and isinstance(text("x"), Markup)


def hostile_pages(tmp_path: Path) -> tuple[str, str]:
    """The run report's page and the history page of a run of hostile names."""
    place = str(tmp_path / "history.db")
    report = hostile_report(history=place)
    with Store(place).open_for_reading() as store:
        history = history_page.page(store, Filters(), title=f"History of {HOSTILE}")
    return report.to_html(), history


def test_both_pages_carry_the_same_policy(tmp_path: Path) -> None:
    pages = hostile_pages(tmp_path)
    policies = [meta.attrs["content"] for text in pages for meta in Page(text).root.find("meta")
                if meta.attrs.get("http-equiv") == "Content-Security-Policy"]
    # No script, no fetch, not even of an image: only the page's own styles.
    assert policies == [POLICY, POLICY] == ["default-src 'none'; style-src 'unsafe-inline'"] * 2


def test_the_history_page_shows_hostile_names_as_text_as_the_report_does(
        tmp_path: Path) -> None:
    report, history = hostile_pages(tmp_path)
    for shown in (report, history):
        assert "<script" not in shown and "\x1b" not in shown and "\u202e" not in shown
    page = Page(history)
    assert page.root.find("title")[0].text() == f"History of {HOSTILE}"
    names = {strip.find("span", "name")[0].text()
             for strip in page.by_id("strips").find("div", "strip")}
    assert names == {HOSTILE, "tab\there\\u202eevil\\x1b", "Root"}
    assert "RuntimeError: </pre><script>document.title='pwned too'</script>\\x1b[31m red" in (
        Page(report).by_id("failures").text())


def test_page_holds_no_path_of_this_machine() -> None:
    report = example_report()
    text = report.to_html()
    trace = report.traceback("TurnOnTV")
    assert trace is not None and str(TESTS) in trace
    assert os.getcwd() not in text and sys.prefix not in text
    assert os.path.expanduser("~") + os.sep not in text


def test_shorten_paths_in_a_traceback() -> None:
    site_packages = report_html.site.getsitepackages()[0]
    home = os.path.expanduser("~")
    text = (
        f'  File "{os.getcwd()}/jobs/build.py", line 3, in Check\n'
        f'  File "{site_packages}/lib/x.py", line 30, in go\n'
        f'  File "{home}/work/y.py", line 4, in f\n'
        f'  File "/opt/elsewhere/deep/z.py", line 5, in g\n'
        f'  File "<string>", line 1, in <module>\n'
        f"OSError: cannot open /etc/passwd\n"
    )
    assert report_html.shorten_paths(text).splitlines() == [
        '  File "./jobs/build.py", line 3, in Check',
        '  File "<site-packages>/lib/x.py", line 30, in go',
        '  File "~/work/y.py", line 4, in f',
        '  File ".../deep/z.py", line 5, in g',
        '  File "<string>", line 1, in <module>',
        "OSError: cannot open /etc/passwd",
    ]


def test_bars_are_placed_on_the_time_axis() -> None:
    jobs = [
        JobReport("Slow", Outcome.PASSED_AFTER_RUN, 1, 6.0, None,
                  (one_try(2.0, 1.0, 4.0, 1.0),)),
        JobReport("Flaky", Outcome.FAILED, 2, 2.0, JobError("RuntimeError", "broken"),
                  (one_try(0.0, 0.5, failed=True, run=0.25, recheck=0.25),
                   one_try(8.0, 0.5, 0.25, 0.25, number=2, failed=True))),
    ]
    page = Page(made_report(jobs, 10.0).to_html())
    slow = page.timeline_rows()["Slow"]
    [bar] = slow.find("b")
    assert bar.attrs["style"] == "left:20.000%;width:60.000%"
    assert [i.attrs["style"] for i in bar.find("i")] == [
        "width:16.667%", "width:66.667%", "width:16.667%"]
    assert "try 1: passed after run, 6.00 s from 2.00 s" in bar.attrs["title"]
    flaky = page.timeline_rows()["Flaky"]
    [wait] = flaky.find("i", "wait")  # between the end of try 1 (1 s) and try 2 (8 s)
    assert wait.attrs["style"] == "left:10.000%;width:70.000%"
    axis = page.by_id("timeline").find("div", "axis")[0]
    assert [span.text() for span in axis.find("span")][2:] == [
        "0 s", "2 s", "4 s", "6 s", "8 s", "10 s"]
    assert page.by_id("failures").find("div", "failure")[0].attrs["id"] == "fail-1"


@pytest.mark.parametrize(("seconds", "ticks"), [
    (3000.0, ["0 min", "10 min", "20 min", "30 min", "40 min", "50 min"]),
    (300.0, ["0 s", "50 s", "100 s", "150 s", "200 s", "250 s", "300 s"]),
    (0.5, ["0 s", "0.1 s", "0.2 s", "0.3 s", "0.4 s", "0.5 s"]),
    (0.004, ["0 ms", "0.5 ms", "1 ms", "1.5 ms", "2 ms", "2.5 ms", "3 ms", "3.5 ms", "4 ms"]),
])
def test_axis_ticks_are_round(seconds: float, ticks: list[str]) -> None:
    job = JobReport("Only", Outcome.PASSED, 1, seconds, None, (one_try(0.0, seconds),))
    page = Page(made_report([job], seconds).to_html())
    axis = page.by_id("timeline").find("div", "axis")[0]
    assert [span.text() for span in axis.find("span")][2:] == ticks


def test_lanes_show_tries_that_ran_at_once() -> None:
    jobs = [
        JobReport("A", Outcome.PASSED, 1, 4.0, None, (one_try(0.0, 4.0),)),
        JobReport("B", Outcome.PASSED, 1, 2.0, None, (one_try(1.0, 2.0),)),
        JobReport("C", Outcome.PASSED, 1, 1.0, None, (one_try(3.0, 1.0),)),
        JobReport("D", Outcome.PASSED, 1, 1.0, None, (one_try(4.0, 1.0),)),
    ]
    page = Page(made_report(jobs, 5.0).to_html())
    lanes = page.by_id("lanes")
    assert "At most 2 tries ran at once." in lanes.text()
    rows = [row for row in lanes.find("div", "lane")]
    assert [[a.attrs["title"] for a in row.find("a")] for row in rows] == [["A", "D"], ["B", "C"]]
    assert rows[0].find("a")[1].attrs["href"] == "#job-3"
    # One at a time: no lanes.
    alone = Page(made_report(jobs[2:], 5.0).to_html())
    assert not [e for e in alone.root.find() if e.attrs.get("id") == "lanes"]


def test_a_big_run_shows_its_interrupted_job_in_the_timeline() -> None:
    jobs = [JobReport(f"J{n}", Outcome.PASSED, 1, n / 10, None, (one_try(0.0, n / 10),))
            for n in range(10)]
    cut = TryReport(1, None, 0.0, 0.01, (PhaseReport("check", 0.0, 0.01, None),), None)
    jobs[0] = JobReport("J0", Outcome.INTERRUPTED, 1, 0.01, None, (cut,))
    page = Page(made_report(jobs, 1.0, interrupted=True).to_html(max_rows=3))
    assert sorted(page.timeline_rows()) == ["J0", "J8", "J9"]
    assert ("the timeline shows 3 of them, in run order: every failed or interrupted "
            "job, then the slowest others.") in page.by_id("timeline").text()


def test_big_runs_are_summarised_and_say_so() -> None:
    jobs = [JobReport(f"J{n}", Outcome.PASSED, 1, n / 10, None, (one_try(0.0, n / 10),))
            for n in range(10)]
    jobs[2] = JobReport("J2", Outcome.FAILED, 1, 0.2, JobError("E", "m"),
                        (one_try(0.0, 0.1, 0.05, 0.05, failed=True),))
    jobs[3] = JobReport("J3", Outcome.FAILED, 1, 0.3, JobError("E", "m"),
                        (one_try(0.0, 0.1, 0.1, 0.1, failed=True),))
    text = made_report(jobs, 1.0).to_html(max_rows=4, max_graph=3, max_failures=1)
    page = Page(text)
    assert sorted(page.timeline_rows()) == ["J2", "J3", "J8", "J9"]
    assert ("This run has 10 jobs: the timeline shows 4 of them, in run order: every "
            "failed job, then the slowest others.") in page.by_id("timeline").text()
    assert "The graph has 10 jobs, more than the 3 this page draws" in page.by_id("graph").text()
    failures = page.by_id("failures")
    assert len(failures.find("div", "failure")) == 1
    assert "... and 1 more jobs with a failed try" in failures.text()


@pytest.mark.parametrize(("limit", "value"), [
    ("max_rows", -1), ("max_graph", 2.5), ("max_failures", "10"), ("max_rows", True)])
def test_bad_limits_are_refused(limit: str, value: Any) -> None:
    report = example_report()
    with pytest.raises(ValueError) as caught:
        report.to_html(**{limit: value})
    assert str(caught.value) == f"{limit} must be a whole number of 0 or more, got {value!r}"


def test_long_messages_are_cut() -> None:
    error = JobError("ValueError", "x" * 5000)
    job = JobReport("Big", Outcome.FAILED, 1, 0.1, error,
                    (TryReport(1, Outcome.FAILED, 0.0, 0.1, (), error),))
    text = Page(made_report([job], 0.1).to_html()).by_id("failures").text()
    assert "not created ValueError: " + "x" * (2000 - 12) + "... (3012 more characters)" in text


def test_without_a_renderer_the_page_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_renderer(dot: str, fmt: str, renderer: str = "auto") -> bytes:
        raise RenderError("cannot write the graph as 'svg': install Graphviz")
    monkeypatch.setattr(report_html.render, "render", no_renderer)
    page = Page(example_report().to_html())
    assert page.by_id("graph").text() == (
        "GraphNo picture of the graph: cannot write the graph as 'svg': install Graphviz")
    assert len(page.timeline_rows()) == 18


def test_svg_that_is_not_xml_leaves_the_graph_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_html.render, "render", lambda *args, **kwargs: b"<svg><g></svg>")
    page = Page(example_report().to_html())
    assert "No picture of the graph: its SVG is not XML (mismatched tag" in (
        page.by_id("graph").text())


def test_a_report_without_deps_has_no_graph() -> None:
    job = JobReport("Only", Outcome.PASSED, 1, 0.1, None, (one_try(0.0, 0.1),))
    page = Page(made_report([job], 0.1, deps={}).to_html())
    assert "The graph is not in this report" in page.by_id("graph").text()
    assert page.by_id("failures").text() == "FailuresNo try failed."


def test_dry_run_and_interrupted_runs_say_so() -> None:
    dojob = DoJobber()
    dojob.configure(doex.WatchMovie, no_act=True)
    dojob.set_args(movie="Noises Off")
    dojob.checknrun()
    page = Page(dojob.report().to_html())
    assert "a dry run (no_act): nothing was Run" in page.by_id("summary").text()
    assert page.timeline_rows()["CleanCouch"].attrs["class"] == "row would_run"
    assert page.timeline_rows()["StartMovie"].attrs["class"] == "row not_checked"

    cut = TryReport(1, None, 0.0, 0.5, (PhaseReport("check", 0.0, 0.5, None),), None)
    job = JobReport("Stopped", Outcome.BLOCKED, 1, 0.5, None, (cut,))
    page = Page(made_report([job], 0.5, interrupted=True).to_html())
    assert page.root.find("title")[0].text() == "DoJobber run of Stopped: interrupted"
    assert "Interrupted (Ctrl-C or SIGTERM) before the run was over." in page.by_id("summary").text()
    assert page.timeline_rows()["Stopped"].find("b")[0].attrs["class"] == "cut"


def headline(report: RunReport) -> tuple[str, str]:
    """The page's headline: its verdict class and its text."""
    [line] = Page(report.to_html(max_graph=0)).by_id("summary").find("p", "verdict")
    return line.classes[1], line.text()


def test_the_headline_counts_jobs_by_outcome_and_cannot_be_misread() -> None:
    assert headline(example_report()) == ("failed", "Run failed: 2 of 18 jobs failed, 2 blocked.")
    dry = example_report(no_act=True)
    assert headline(dry) == ("would_run", "Dry run: 6 of 18 jobs would run, 9 not checked.")
    title = Page(dry.to_html(max_graph=0)).root.find("title")[0].text()
    assert title == "DoJobber dry run of WatchMovie: would run"

    leaf = type("Leaf", (Job,), {"Check": passing})
    root = type("Root", (Job,), {"DEPS": (leaf,), "Check": passing})
    for no_act, expected in ((False, ("passed", "Run passed: 2 jobs.")), (True, (
            "passed", "Dry run: nothing would run, 2 jobs passed their Check."))):
        dojob = DoJobber()
        dojob.configure(root, no_act=no_act)
        dojob.checknrun()
        assert headline(dojob.report()) == expected

    ran = JobReport("Fixed", Outcome.PASSED_AFTER_RUN, 1, 0.3, None, (one_try(0.0, 0.1, 0.2),))
    done = JobReport("Fine", Outcome.PASSED, 1, 0.1, None, (one_try(0.3, 0.1),))
    assert headline(made_report([ran, done], 0.4)) == (
        "passed", "Run passed: 2 jobs (1 passed after Run).")

    cut = TryReport(2, None, 0.1, 0.5, (PhaseReport("check", 0.1, 0.5, None),), None)
    stopped = JobReport("Stopped", Outcome.BLOCKED, 1, 0.5, None, (cut,))
    never = JobReport("Root", Outcome.BLOCKED, 0, 0.0, None)
    report = made_report([done, stopped, never], 0.6, interrupted=True)
    assert headline(report) == (
        "interrupted", "Run interrupted: 1 of 3 jobs passed, 2 blocked.")
    summary = Page(report.to_html(max_graph=0)).by_id("summary")
    assert summary.find("p", "facts")[0].text() == "Took 0.60 s."


def graph_report(outcomes: dict[str, Outcome], deps: dict[str, tuple[str, ...]]) -> RunReport:
    """A report of jobs that ended as ``outcomes`` say, the last one the root."""
    jobs = []
    for name, outcome in outcomes.items():
        if outcome is Outcome.BLOCKED:
            jobs.append(JobReport(name, outcome, 0, 0.0, None))
        else:
            failed = outcome is Outcome.FAILED
            jobs.append(JobReport(name, outcome, 1, 0.1, JobError("E", "m") if failed else None,
                                  (one_try(0.0, 0.1, failed=failed),)))
    return made_report(jobs, 0.1, deps=deps)


def drawn_jobs(text: str, report: RunReport) -> set[str]:
    """The jobs the page's picture of the graph shows (not the legend's boxes)."""
    svg = Page(text).by_id("graph").find("svg")[0]
    titles = {g.find("title")[0].text() for g in svg.find("g", "node")}
    return titles & {job.name for job in report.jobs}


@needs_renderer
def test_a_graph_over_the_limit_draws_the_part_that_explains_the_outcome() -> None:
    # Root needs Mid, Side, Leaf1, Leaf2 and Other; Mid needs Broken, which
    # failed and needs Base; Side needs Far, which failed; Other needs Leaf0
    # and Leaf3.
    P, F, B = Outcome.PASSED, Outcome.FAILED, Outcome.BLOCKED
    outcomes = {"Base": P, "Broken": F, "Mid": B, "Far": F, "Side": B,
                **{f"Leaf{n}": P for n in range(4)}, "Other": P, "Root": B}
    deps: dict[str, tuple[str, ...]] = {name: () for name in outcomes}
    deps.update(Broken=("Base",), Mid=("Broken",), Side=("Far",), Other=("Leaf0", "Leaf3"),
                Root=("Mid", "Side", "Leaf1", "Leaf2", "Other"))
    report = graph_report(outcomes, deps)
    text = report.to_html(max_graph=10)
    # Base: what Broken ran after; Root's own dependencies that passed
    # (Leaf1, Leaf2, Other) explain nothing.
    assert drawn_jobs(text, report) == {"Root", "Broken", "Mid", "Far", "Side", "Base"}
    assert Page(text).by_id("graph").find("p", "note")[0].text() == (
        "The graph has 11 jobs, more than the 10 this page draws. Drawn here: the 6 jobs "
        "that explain the outcome (the jobs that did not pass, failures first, each with "
        "its way to the root, and what the failures depend on directly). Left out: 5 jobs "
        "(5 passed). Draw the whole graph with dojobber run --graph run.svg or "
        "write_graph().")
    # Within a tighter limit: the failures and their way to the root first,
    # then a failure whose way does not fit, alone.
    assert drawn_jobs(report.to_html(max_graph=5), report) == {
        "Root", "Broken", "Mid", "Far", "Side"}
    assert drawn_jobs(report.to_html(max_graph=4), report) == {"Root", "Broken", "Mid", "Far"}
    tight = report.to_html(max_graph=3)
    assert drawn_jobs(tight, report) == {"Root", "Broken", "Mid"}
    assert "Left out: 8 jobs (6 passed, 1 failed, 1 blocked)." in Page(tight).by_id(
        "graph").text()


def test_a_passed_graph_over_the_limit_has_nothing_to_explain() -> None:
    outcomes = {"A": Outcome.PASSED, "B": Outcome.PASSED, "Root": Outcome.PASSED}
    report = graph_report(outcomes, {"A": (), "B": (), "Root": ("A", "B")})
    graph = Page(report.to_html(max_graph=2)).by_id("graph")
    assert graph.find("svg") == []
    assert graph.text() == (
        "GraphThe graph has 3 jobs, more than the 2 this page draws, and every job "
        "passed: nothing to explain. Draw the whole graph with dojobber run --graph "
        "run.svg or write_graph().")


def test_fail_fast_cleanups_and_observers_that_raised_are_in_the_summary() -> None:
    def broken_cleanup(self: Job) -> None:
        raise OSError("cleanup broke")

    class Loud(Observer):
        def try_started(self, job: str, number: int) -> None:
            raise ValueError("observer broke")

    messy = type("Messy", (Job,), {"Check": passing, "Cleanup": broken_cleanup})
    broken = type("Broken", (Job,), {"Check": raising("broken"), "Run": passing, "TRIES": 1})
    later = type("Later", (Job,), {"Check": passing})
    root = type("Root", (Job,), {"DEPS": (messy, broken, later), "Check": passing})
    dojob = DoJobber()
    dojob.configure(root, fail_fast=True, default_retry_delay=0, observers=[Loud()])
    with pytest.raises(OSError, match="cleanup broke"):
        dojob.checknrun()
    page = Page(dojob.report().to_html())
    assert [p.text() for p in page.by_id("summary").find("p", "alert")] == [
        "Fail-fast: the run stopped when Broken failed; 1 job was not tried because of it.",
        "Cleanup of Messy raised OSError: cleanup broke",
        "Observer test_html.test_fail_fast_cleanups_and_observers_that_raised_are_in_the_"
        "summary.<locals>.Loud raised ValueError: observer broke in try_started; "
        "it got no more events.",
    ]
    rows = page.timeline_rows()
    assert rows["Later"].find("span", "out")[0].text() == "not tried (fail-fast)"
    assert rows["Root"].find("span", "out")[0].text() == "blocked"


def test_settings_name_the_engine() -> None:
    root = type("Root", (Job,), {"Check": passing})
    engines = []
    with ThreadPoolExecutor(2) as pool:
        for options in ({}, {"workers": 4}, {"executor": pool},
                        {"executor": pool, "workers": 2}):
            dojob = DoJobber()
            dojob.configure(root, **options)
            dojob.checknrun()
            engines.append(dojob.report().settings["engine"])
    assert engines == ["sequential", "threads, 4 workers", "executor ThreadPoolExecutor",
                       "executor ThreadPoolExecutor, 2 tries at once"]


# The command line


def test_dojobber_run_html_writes_the_page(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "run", "--html", "out.html", "--retry-delay", "0",
         f"{TESTS / 'dojobber_example.py'}:WatchMovie", "--arg", "battery_state=dead"],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    page = Page((tmp_path / "out.html").read_text(encoding="utf-8"))
    assert len(page.timeline_rows()) == 18
    assert page.timeline_rows()["TurnOnTV"].find("span", "out")[0].text().startswith(
        "failed, 3 tries")


def test_dojobber_run_html_into_a_missing_folder_fails_before_the_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "run", "--html", "no/such/out.html",
         f"{TESTS / 'dojobber_example.py'}:WatchMovie"],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("dojobber: error: cannot write no/such/out.html: no such ")
    assert "jobs:" not in done.stderr


def test_dojobber_report_draws_the_page_of_a_saved_event_log(tmp_path: Path) -> None:
    target = f"{TESTS / 'dojobber_example.py'}:WatchMovie"
    ran = subprocess.run(
        [sys.executable, "-m", "dojobber", "run", "--events", "events.jsonl", "--retry-delay",
         "0", "--workers", "2", target, "--arg", "battery_state=dead"],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ran.returncode == 1, ran.stderr
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "report", "--html", "out.html", "events.jsonl"],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dojobber: 18 jobs: 3 passed, 6 passed_after_run, 3 failed")
    page = Page((tmp_path / "out.html").read_text(encoding="utf-8"))
    rows = page.timeline_rows()
    assert len(rows) == 18
    assert len(rows["TurnOnTV"].find("b", "bad")) == 3
    assert "The graph is not in this report (an event log has no DEPS)." in (
        page.by_id("graph").text())
    assert "RuntimeError: Remote batteries are dead." in page.by_id("failures").text()


def test_dojobber_report_refuses_what_is_not_an_event_log(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "report", "--html", "out.html", "notes.txt"],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith(
        "dojobber: error: notes.txt is not an event log of 'dojobber run --events': "
        "ValueError: line 1 is not JSON")
    assert not (tmp_path / "out.html").exists()
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "report", "-"], input='{"event": "run_started"}\n',
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == (
        "dojobber: error: - is not an event log of 'dojobber run --events': "
        "ValueError: line 1: run_started event: no 'time'\n")


def test_long_messages_are_cut_in_tracebacks_too() -> None:
    """20 failures with messages of a million characters: the page shows the
    first 2,000 of each, in the failures list and in the folded tracebacks."""
    from conftest import make_job

    def fail(job: Any) -> None:
        raise RuntimeError("x" * 1_000_000)

    jobs = tuple(make_job(f"F{k}", check=fail, TRIES=1) for k in range(20))
    dojob = DoJobber()
    dojob.configure(make_job("Root", deps=jobs))
    dojob.checknrun()
    page = dojob.report().to_html()
    assert len(page) < 20 * 20_000  # each failure's text cut, not 20 MB
    assert page.count("more characters)") >= 40  # in the list and in the tracebacks
    assert "x" * 2001 not in page
