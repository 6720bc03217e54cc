"""The run report: per job outcome, tries, seconds and last error, and its summary."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .errortext import describe, type_name
from .events import Observer, ObserverFailure, Outcome
from .scheduler import RunResult


@dataclass(frozen=True, slots=True)
class JobError:
    """The exception that made a job fail, as text.

    ``type`` is the exception class as a traceback names it: bare for
    builtins (``RuntimeError``), else ``module.QualName``.
    """

    type: str
    message: str

    @classmethod
    def from_exception(cls, error: BaseException) -> JobError:
        """Describe ``error``; a broken ``__str__`` does not stop the report."""
        return cls(_type_name(type(error)), describe(error))

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type

    def to_dict(self) -> dict[str, str]:
        """``{"type", "message"}``."""
        return {"type": self.type, "message": self.message}


@dataclass(frozen=True)
class CleanupError:
    """A job instance's ``Cleanup`` raised ``error``."""

    job: str
    error: JobError

    def to_dict(self) -> dict[str, Any]:
        """``{"job", "error": {"type", "message"}}``."""
        return {"job": self.job, "error": self.error.to_dict()}


@dataclass(frozen=True)
class ObserverError:
    """An observer's method ``event`` raised ``error``, so the observer
    (``module.ClassName``) got no more events in that run."""

    observer: str
    event: str
    error: JobError

    @classmethod
    def from_failure(cls, failure: ObserverFailure) -> ObserverError:
        """Describe a failure the event dispatch recorded."""
        return cls(
            type_name(type(failure.observer)),
            failure.event,
            JobError.from_exception(failure.error),
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"observer", "event", "error": {"type", "message"}}``."""
        return {"observer": self.observer, "event": self.event, "error": self.error.to_dict()}


@dataclass(frozen=True)
class JobReport:
    """How one job of the run ended.

    ``tries`` counts the tries started; ``seconds`` is the time spent inside
    them (instance creation, Check, Run, recheck), summed over tries, without
    the waits for RETRY_DELAY. ``error`` is set for failed jobs only: a
    blocked job was never tried, so it has no error of its own.
    """

    name: str
    outcome: Outcome
    tries: int
    seconds: float
    error: JobError | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: ``error`` is ``{"type", "message"}`` or None."""
        error = self.error
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "tries": self.tries,
            "seconds": round(self.seconds, 6),
            "error": None if error is None else error.to_dict(),
        }


@dataclass(frozen=True)
class RunReport:
    """The answer to "how did the run go?", one entry per job in run order."""

    success: bool
    jobs: list[JobReport]
    #: True when KeyboardInterrupt stopped the run before it was over.
    interrupted: bool = False
    #: The Cleanups that raised, in the order they ran.
    cleanup_errors: list[CleanupError] = field(default_factory=list)
    #: The observers switched off because one of their methods raised.
    observer_errors: list[ObserverError] = field(default_factory=list)
    #: With fail_fast: the job whose failure (no tries left) stopped the run.
    stopped_by: str | None = None
    #: With fail_fast: the jobs never tried because the run stopped early
    #: (not those a failed dependency blocked anyway), in run order.
    not_tried: list[str] = field(default_factory=list)
    _by_name: dict[str, JobReport] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update((job.name, job) for job in self.jobs)

    def __getitem__(self, name: str) -> JobReport:
        return self._by_name[name]

    @classmethod
    def from_result(
        cls,
        result: RunResult,
        seconds: dict[str, float],
        cleanup_errors: Sequence[CleanupError] = (),
        observer_failures: Sequence[ObserverFailure] = (),
    ) -> RunReport:
        """Combine a run's final state with the time measured for each job,
        the Cleanups that failed and the observers that were switched off."""
        names = result.plan.names
        jobs = []
        for i in result.order:
            name = names[i]
            outcome = result.outcome[i]
            error = result.errors[i]
            jobs.append(
                JobReport(
                    name,
                    outcome,
                    result.tries[i],
                    seconds.get(name, 0.0),
                    JobError.from_exception(error)
                    if outcome is Outcome.FAILED and error is not None
                    else None,
                )
            )
        return cls(
            result.success,
            jobs,
            result.interrupted,
            list(cleanup_errors),
            [ObserverError.from_failure(failure) for failure in observer_failures],
            None if result.stopped_by is None else names[result.stopped_by],
            [names[i] for i in result.not_tried_by_fail_fast()],
        )

    def counts(self) -> dict[Outcome, int]:
        """How many jobs ended with each outcome (every outcome is a key)."""
        counts = dict.fromkeys(Outcome, 0)
        for job in self.jobs:
            counts[job.outcome] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """``{"success": bool, "jobs": [{"name", "outcome", "tries", "seconds",
        "error"}], "cleanup_errors": [...], "observer_errors": [...],
        "fail_fast": None or {"stopped_by", "not_tried"}}``."""
        fail_fast = (
            None
            if self.stopped_by is None
            else {"stopped_by": self.stopped_by, "not_tried": list(self.not_tried)}
        )
        return {
            "success": self.success,
            "jobs": [job.to_dict() for job in self.jobs],
            "cleanup_errors": [error.to_dict() for error in self.cleanup_errors],
            "observer_errors": [error.to_dict() for error in self.observer_errors],
            "fail_fast": fail_fast,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text."""
        import json  # on first use: most runs never write JSON

        return json.dumps(self.to_dict(), indent=indent)

    def summary(self, *, slowest: int = 3, max_listed: int = 20) -> list[str]:
        """A few lines a person reads at a glance: counts, failures, slowest
        jobs, then each Cleanup that failed and each observer switched off.

        At most ``max_listed`` failed jobs and blocked names are listed; the
        JSON form always has them all.
        """
        counts = self.counts()
        total = sum(job.seconds for job in self.jobs)
        head = ", ".join(f"{n} {outcome.value}" for outcome, n in counts.items())
        lines = [f"{len(self.jobs)} jobs: {head} ({_duration(total)} in jobs)"]
        if self.interrupted:
            lines.append("interrupted before the run was over")
        if self.stopped_by is not None:
            lines.append(f"fail-fast: stopped when {self.stopped_by} failed")
            if self.not_tried:
                listed = ", ".join(self.not_tried[:max_listed])
                if len(self.not_tried) > max_listed:
                    listed += f", ... and {len(self.not_tried) - max_listed} more"
                lines.append(f"not tried (fail-fast): {listed}")
        failed = [job for job in self.jobs if job.outcome is Outcome.FAILED]
        for job in failed[:max_listed]:
            tries = "1 try" if job.tries == 1 else f"{job.tries} tries"
            lines.append(f"failed: {job.name} after {tries}: {job.error}")
        if len(failed) > max_listed:
            lines.append(f"failed: ... and {len(failed) - max_listed} more")
        not_tried = set(self.not_tried)
        blocked = [
            job.name
            for job in self.jobs
            if job.outcome is Outcome.BLOCKED and job.name not in not_tried
        ]
        if blocked:
            listed = ", ".join(blocked[:max_listed])
            if len(blocked) > max_listed:
                listed += f", ... and {len(blocked) - max_listed} more"
            lines.append(f"blocked: {listed}")
        ranked = sorted((job for job in self.jobs if job.tries), key=lambda j: -j.seconds)
        if ranked and slowest > 0:
            times = [f"{job.name} {_duration(job.seconds)}" for job in ranked[:slowest]]
            lines.append("slowest: " + ", ".join(times))
        for cleanup in self.cleanup_errors:
            lines.append(f"cleanup failed: {cleanup.job}: {cleanup.error}")
        for observer in self.observer_errors:
            lines.append(
                f"observer switched off: {observer.observer} raised in "
                f"{observer.event}: {observer.error}"
            )
        return lines


class ReportRecorder(Observer):
    """Times every try, so that a RunReport can say where the run spent its time.

    ``clock`` defaults to ``time.perf_counter``. No lock is needed in a
    parallel run: a job never has two tries at once, so each job's entries
    are only touched by one thread at a time, and single dict operations
    are atomic.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self._clock = clock
        self._started: dict[str, float] = {}
        #: job name -> seconds spent in its tries during the current/last run.
        self.seconds: dict[str, float] = {}
        #: job name -> its latest failure, even if a later try passed. Kept
        #: as text: the exception would keep its traceback, frames and job.
        self.last_errors: dict[str, JobError] = {}
        #: The Cleanups that failed since the current/last run started.
        self.cleanup_errors: list[CleanupError] = []

    def run_started(self, jobs: Sequence[str]) -> None:
        self._started = {}
        self.seconds = {}
        self.last_errors = {}
        self.cleanup_errors = []

    def try_started(self, job: str, number: int) -> None:
        self._started[job] = self._clock()

    def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
        started = self._started.pop(job, None)
        if started is not None:
            self.seconds[job] = self.seconds.get(job, 0.0) + self._clock() - started
        if error is not None:
            self.last_errors[job] = JobError.from_exception(error)

    def run_ended(self, result: RunResult) -> None:
        # A try cut short by KeyboardInterrupt still counts up to now.
        now = self._clock()
        for job, started in self._started.items():
            self.seconds[job] = self.seconds.get(job, 0.0) + now - started
        self._started = {}

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        if error is not None:
            self.cleanup_errors.append(CleanupError(job, JobError.from_exception(error)))

    def report(
        self, result: RunResult, observer_failures: Sequence[ObserverFailure] = ()
    ) -> RunReport:
        """The report of ``result``, the run this recorder just watched,
        listing ``observer_failures`` (the observers switched off)."""
        return RunReport.from_result(
            result, dict(self.seconds), self.cleanup_errors, observer_failures
        )


_TYPE_NAMES: dict[type, str] = {}


def _type_name(kind: type) -> str:
    # Cached: a graph of many jobs failing alike would otherwise hold one
    # copy of the same name per job.
    name = _TYPE_NAMES.get(kind)
    if name is None:
        name = _TYPE_NAMES[kind] = type_name(kind)
    return name


def _duration(seconds: float) -> str:
    """Seconds as a person reads them: ``2.41s``, ``12.3ms``."""
    return f"{seconds:.2f}s" if seconds >= 0.1 else f"{seconds * 1000:.1f}ms"
