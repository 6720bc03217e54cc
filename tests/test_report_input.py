"""``dojobber report`` on event logs that are not what ``run --events`` wrote:
one line naming the line and exit status 2, never a traceback (issue 25)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import make_job
from dojobber import DoJobber, EventLog
from dojobber.eventlog import read_report


def a_real_log() -> list[dict[str, Any]]:
    """The events of a small run with a pass, a failure and a blocked job."""

    def fails(job: Any) -> None:
        raise RuntimeError("broken")

    broken = make_job("Broken", check=fails, TRIES=1)
    root = make_job("Root", deps=(make_job("Fine"), broken))
    stream = io.StringIO()
    dojob = DoJobber()
    dojob.configure(root, observers=[EventLog(stream)])
    dojob.checknrun()
    return [json.loads(line) for line in stream.getvalue().splitlines()]


EVENTS = a_real_log()


def text(events: list[Any]) -> str:
    return "".join(json.dumps(event) + "\n" for event in events)


def report(tmp_path: Path, log: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "events.jsonl").write_text(log, encoding="utf-8", errors="surrogatepass")
    return subprocess.run([sys.executable, "-m", "dojobber", "report", "events.jsonl"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)


def changed(index: int, key: str, value: Any) -> list[Any]:
    events = [dict(event) for event in EVENTS]
    events[index][key] = value
    return events


def test_the_real_log_reads() -> None:
    assert read_report(text(EVENTS).splitlines()).summary()[0].startswith("3 jobs: 1 passed")


LAST = len(EVENTS) - 1
BAD = [
    pytest.param([[1, 2]] + EVENTS, "line 1: not a JSON object but list", id="list"),
    pytest.param(EVENTS[:1] + [7] + EVENTS[1:], "line 2: not a JSON object but int", id="number"),
    pytest.param(EVENTS[:1] + [None] + EVENTS[1:], "line 2: not a JSON object but NoneType",
                 id="null"),
    pytest.param(changed(1, "elapsed", float("nan")), "line 2: try_started event: bad 'elapsed': 'nan'",
                 id="nan"),
    pytest.param(changed(1, "elapsed", float("inf")), "line 2: try_started event: bad 'elapsed': 'inf'",
                 id="infinity"),
    pytest.param(changed(1, "elapsed", -1), "line 2: try_started event: bad 'elapsed': '-1'",
                 id="negative"),
    pytest.param(changed(0, "time", 1e300), "line 1: run_started event: bad 'time': '1e+300'",
                 id="far-future"),
    pytest.param(changed(0, "time", "yesterday"),
                 "line 1: run_started event: bad 'time': 'yesterday'", id="time-string"),
    pytest.param(changed(LAST, "outcomes", {"Root": "fine"}),
                 f"line {LAST + 1}: run_ended event: bad 'outcomes': " + repr("{'Root': 'fine'}"),
                 id="outcome"),
    # Issue 33: a log whose events after run_started were written twice.
    pytest.param(EVENTS + EVENTS[1:],
                 f"line {LAST + 2}: try_started event after the run ended on line {LAST + 1}",
                 id="events-twice"),
    pytest.param(EVENTS + EVENTS[1:LAST],
                 f"line {LAST + 2}: try_started event after the run ended on line {LAST + 1}",
                 id="tries-twice"),
    pytest.param(EVENTS + EVENTS[LAST:],
                 f"line {LAST + 2}: run_ended event after the run ended on line {LAST + 1}",
                 id="run-ended-twice"),
]


@pytest.mark.parametrize(("events", "says"), BAD)
def test_a_malformed_log_is_one_line_and_exit_2(
    tmp_path: Path, events: list[Any], says: str
) -> None:
    done = report(tmp_path, text(events))
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "dojobber: error: events.jsonl is not an event log of 'dojobber run --events': "
        f"ValueError: {says}\n")


@pytest.mark.parametrize("line", [
    pytest.param("[" * 100_000 + "]" * 100_000, id="array"),
    pytest.param('{"a": ' * 100_000 + "1" + "}" * 100_000, id="object"),
])
def test_a_deeply_nested_line_is_one_line_and_exit_2(tmp_path: Path, line: str) -> None:
    """Issue 33: JSON nested deeper than the parser goes was a RecursionError."""
    done = report(tmp_path, text(EVENTS[:1]) + line + "\n" + text(EVENTS[1:]))
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "dojobber: error: events.jsonl is not an event log of 'dojobber run --events': "
        "ValueError: line 2: nested too deeply\n")


def test_a_lone_surrogate_in_a_message(tmp_path: Path) -> None:
    """As EventLog writes a job's message that holds one: the summary and
    the page show it escaped."""
    events = [dict(event) for event in EVENTS]
    for event in events:
        if event.get("error"):
            event["error"] = {"type": "RuntimeError", "message": "bad \ud800 text"}
    (tmp_path / "events.jsonl").write_text(text(events), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "dojobber", "report", "--html", "out.html", "events.jsonl"],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "dojobber: failed: Broken after 1 try: RuntimeError: bad \\ud800 text" in (
        done.stdout.splitlines())
    assert "bad \\ud800 text" in (tmp_path / "out.html").read_text(encoding="utf-8")


def test_a_run_ended_without_every_jobs_outcome(tmp_path: Path) -> None:
    events = changed(LAST, "outcomes", {"Root": "blocked"})
    done = report(tmp_path, text(events))
    assert done.returncode == 2
    assert done.stderr.endswith(
        "ValueError: the run_ended event has no outcome for job 'Fine'\n")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, LAST), key=st.sampled_from(
    ["event", "time", "elapsed", "job", "jobs", "try", "phase", "error", "outcome",
     "success", "interrupted", "no_act", "outcomes"]), value=JSON)
def test_any_changed_value_reads_or_is_refused_by_line(index: int, key: str, value: Any) -> None:
    """Whatever one key of one event holds, the log reads as a report (whose
    summary and page can be made) or is refused with a ValueError."""
    log = text(changed(index, key, value))
    try:
        parsed = read_report(log.splitlines())
    except ValueError:
        return
    parsed.summary()
    parsed.to_html()
