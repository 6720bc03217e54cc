"""The event stream as JSON Lines, one object per event as it happens, and read back as a report."""

from __future__ import annotations

import math
import threading
import time
from array import array
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TextIO, overload

from .events import REPLAYING, Observer
from .recorder import ReportRecorder
from .reportparts import CleanupError, JobError, JobReport
from .results import Outcome, Phase
from .runreport import RunReport

if TYPE_CHECKING:
    from .results import RunResult


class EventLog(Observer):
    """Writes every event of a run to ``stream`` as one line of JSON, and
    flushes it, so a reader (``tail -f``, a CI log parser) sees it at once::

        {"event": "try_ended", "time": 1764313277.52, "elapsed": 0.0412,
         "job": "Fetch", "try": 1, "outcome": "failed",
         "error": {"type": "FileNotFoundError", "message": "alpha.txt not downloaded"}}

    Every object has ``event``, ``time`` (seconds since the epoch),
    ``elapsed`` (seconds since the run started, on a monotonic clock) and
    ``job`` (None for the run's own events). docs/reading-a-run.rst lists
    the events and their other keys; together they hold everything the
    run report says. Safe to share between the threads of a parallel run.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ):
        import json  # on first use: ``import dojobber`` stays light (test_import_cost)

        self._dumps = json.dumps
        self._stream = stream
        self._clock = clock
        self._wall_clock = wall_clock
        self._start = 0.0
        self._tries: dict[str, int] = {}
        #: Per job, when its try or the try's latest phase began.
        self._began: dict[str, float] = {}
        self._lock = threading.Lock()

    def run_started(self, jobs: Sequence[str]) -> None:
        self._start = self._clock()
        self._tries = {}
        self._began = {}
        self._emit("run_started", None, jobs=list(jobs))

    def try_started(self, job: str, number: int) -> None:
        self._tries[job] = number
        self._began[job] = self._clock()
        self._emit("try_started", job, **{"try": number})

    def not_created(self, job: str, error: BaseException) -> None:
        self._emit("not_created", job, error=_error(error))

    def phase_ended(self, job: str, phase: Phase, error: BaseException | None) -> None:
        seconds, ago = REPLAYING.seconds, REPLAYING.ago
        now = self._clock()
        if seconds is None:
            # As it happens: since its try, or the try's previous phase, began.
            seconds, ago = now - self._began.get(job, now), 0.0
            self._began[job] = now
        self._emit("phase_ended", job, ago, phase=phase, error=_error(error),
                   seconds=round(seconds, 6))

    def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
        self._emit("try_ended", job, outcome=outcome.value, error=_error(error),
                   **{"try": self._tries.get(job, 0)})

    def cleanup_started(self, job: str) -> None:
        self._emit("cleanup_started", job)

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        self._emit("cleanup_ended", job, error=_error(error))

    def run_ended(self, result: RunResult) -> None:
        names = result.plan.names
        self._emit(
            "run_ended", None,
            success=result.success,
            interrupted=result.interrupted,
            no_act=result.no_act,
            passes=result.passes,
            outcomes={names[i]: result.outcome[i].value for i in result.order},
        )

    def _emit(self, event: str, job: str | None, ago: float = 0.0, **fields: Any) -> None:
        """Write ``event``, which happened ``ago`` seconds before now."""
        record = {
            "event": event,
            "time": round(self._wall_clock() - ago, 6),
            "elapsed": round(max(0.0, self._clock() - self._start - ago), 6),
            "job": job,
        }
        record.update(fields)
        line = self._dumps(record) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()


def _error(error: BaseException | None) -> dict[str, str] | None:
    if error is None:
        return None
    described = JobError.from_exception(error)
    return {"type": described.type, "message": described.message}


def read_report(lines: Iterable[str]) -> RunReport:
    """The RunReport of the run an EventLog wrote, from its lines.

    The last run in ``lines`` is taken; events of earlier runs and blank
    lines are skipped. The Cleanups that failed are in it; the observers
    switched off (``observer_errors``) are not: no event says so. Raises
    ValueError naming the line when a line is not an event as EventLog
    writes it (see check_event), or when the lines hold no whole run.
    """
    import json

    runs: list[list[dict[str, Any]]] = []
    ended_at = 0  # the line of the current run's run_ended event, if it has one
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            problem = check_event(event)
        except ValueError as error:
            raise ValueError(f"line {number} is not JSON: {error}") from None
        except RecursionError:  # from the parser, or from showing a bad value
            raise ValueError(f"line {number}: nested too deeply") from None
        if problem:
            raise ValueError(f"line {number}: {problem}")
        kind = event["event"]
        if kind == "run_started":
            runs.append([])
            ended_at = 0
        elif ended_at and (kind == "run_ended" or kind in _TRY_EVENTS):
            # Only Cleanups come after a run's end (a try cut off by its
            # TIMEOUT reports nothing more): a log written twice over.
            raise ValueError(
                f"line {number}: {kind} event after the run ended on line {ended_at}")
        elif kind == "run_ended" and runs:
            ended_at = number
        if runs:
            runs[-1].append(event)
    ended = [run for run in runs if any(e.get("event") == "run_ended" for e in run)]
    if not ended:
        raise ValueError("no run_ended event: the event log holds no whole run")
    return _replay(ended[-1])


#: The latest ``time`` an event may have: the end of year 9999, the last a
#: date can show.
LATEST = 253402300800.0


def check_event(event: Any) -> str:
    """What is wrong with ``event`` (a line of an event log, parsed), or ""
    when it is an event as EventLog writes it. An event of a kind this
    version does not know needs only the keys every event has."""
    if not isinstance(event, dict):
        return f"not a JSON object but {type(event).__name__}"
    kind = event.get("event")
    if not isinstance(kind, str):
        return "no event name"
    problem = _check_fields(event, _COMMON) or _check_fields(event, _FIELDS.get(kind, {}))
    return f"{kind} event: {problem}" if problem else ""


def _check_fields(event: dict[str, Any], fields: dict[str, Callable[[Any], bool]]) -> str:
    for key, valid in fields.items():
        if key not in event:
            return f"no {key!r}"
        if not valid(event[key]):
            return f"bad {key!r}: {str(event[key])[:60]!r}"
    return ""


def _text(value: Any) -> bool:
    # Lone surrogates pass: a message may hold them (json.loads makes them of
    # \\ud800), and EventLog writes them so; what shows the text escapes them.
    return isinstance(value, str)


def _seconds(value: Any) -> bool:
    number = type(value) in (int, float)
    return number and math.isfinite(value) and 0 <= value <= LATEST


def _job(value: Any) -> bool:
    return value is None or _text(value)


def _error_field(value: Any) -> bool:
    return value is None or (
        isinstance(value, dict) and _text(value.get("type")) and _text(value.get("message"))
    )


def _outcome(value: Any) -> bool:
    return isinstance(value, str) and value in _OUTCOMES


def _flag(value: Any) -> bool:
    return type(value) is bool


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


_OUTCOMES = frozenset(outcome.value for outcome in Outcome)
_COMMON: dict[str, Callable[[Any], bool]] = {
    "time": _seconds, "elapsed": _seconds, "job": _job}
_FIELDS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "run_started": {"jobs": lambda v: isinstance(v, list) and all(_text(j) for j in v)},
    "try_started": {"job": _text, "try": _count},
    "not_created": {"job": _text, "error": _error_field},
    "phase_ended": {"job": _text, "phase": lambda v: isinstance(v, str)
                    and v in ("check", "run", "recheck"),
                    "error": _error_field},
    "try_ended": {"job": _text, "outcome": _outcome, "error": _error_field},
    "cleanup_started": {"job": _text},
    "cleanup_ended": {"job": _text, "error": _error_field},
    "run_ended": {"success": _flag, "interrupted": _flag, "no_act": _flag,
                  "outcomes": lambda v: isinstance(v, dict) and all(
                      _text(k) and _outcome(o) for k, o in v.items())},
}


#: The events of a try: none comes after its run's run_ended.
_TRY_EVENTS = frozenset({"try_started", "not_created", "phase_ended", "try_ended"})


class Replayed:
    """What a run's scheduler would have filled in for the report's
    recorder (``recorder.TriedJobs``), filled in from a log instead."""

    def __init__(self, jobs: int):
        self.order: Sequence[int] = range(jobs)
        self.tries = [0] * jobs
        self.outcome = [Outcome.BLOCKED] * jobs
        self.started = array("d", bytes(8 * jobs))
        self.ended = array("d", bytes(8 * jobs))
        self.stamp: Callable[[], float] = time.perf_counter


def _replay(events: list[dict[str, Any]]) -> RunReport:
    elapsed = [0.0]
    recorder = ReportRecorder(clock=lambda: elapsed[0])
    first, names = events[0], events[0]["jobs"]
    position = {name: k for k, name in enumerate(names)}
    tried = Replayed(len(names))
    recorder.bind(tried)
    recorder.run_started(names)
    recorder.started_at = first["time"]
    end: dict[str, Any] = {}
    for event in events[1:]:
        now = elapsed[0] = event["elapsed"]
        kind, job = event["event"], event["job"]
        k = position.get(job, -1)  # -1: not a job of this run (bad events)
        if kind == "try_started" and k >= 0:
            tried.tries[k] += 1
            tried.started[k] = now
        elif kind == "phase_ended":
            seconds = event.get("seconds")
            if seconds is not None and _seconds(seconds):  # optional: timed by the log's reader
                recorder.phase_took(job, event["phase"], _job_error(event["error"]), float(seconds))
            else:
                recorder.phase_ended(job, event["phase"], _job_error(event["error"]))
        elif kind == "try_ended" and k >= 0:
            outcome = tried.outcome[k] = Outcome(event["outcome"])
            tried.ended[k] = now
            recorder.try_ended(job, outcome, _job_error(event["error"]))
        elif kind == "run_ended":
            recorder.finish(now, bool(event.get("interrupted")))
            end = event
        elif kind == "cleanup_ended" and event["error"] is not None:
            recorder.cleanup_errors.append(CleanupError(job, _job_error(event["error"])))
    missing = [name for name in names if name not in end["outcomes"]]
    if missing:
        raise ValueError(f"the run_ended event has no outcome for job {missing[0]!r}")
    history = recorder.history()
    jobs = []
    for name in names:
        outcome = Outcome(end["outcomes"][name])
        tries = history.get(name, ())
        error = tries[-1].error if tries and outcome is Outcome.FAILED else None
        jobs.append(JobReport(name=name, outcome=outcome, tries=len(tries),
                              seconds=recorder.seconds.get(name, 0.0), error=error,
                              history=tries, no_act=end["no_act"]))
    return RunReport(
        success=end["success"], jobs=jobs, interrupted=end["interrupted"],
        cleanup_errors=recorder.cleanup_errors, seconds=recorder.wall,
        started_at=recorder.started_at, no_act=end["no_act"],
    )


@overload
def _job_error(data: dict[str, str]) -> JobError: ...
@overload
def _job_error(data: None) -> None: ...
def _job_error(data: dict[str, str] | None) -> JobError | None:
    return None if data is None else JobError(data["type"], data["message"])
