"""The run report: every job's part in run order, and its summary, JSON and page."""

from __future__ import annotations

from dataclasses import dataclass, field
from traceback import format_exception
from typing import Any, Sequence, TypeVar

from .events import ObserverFailure
from .reportparts import (
    DRY_RUN_LABELS,
    NOT_CHECKED,
    RUN_LABELS,
    WOULD_RUN,
    CleanupError,
    JobError,
    JobReport,
    ObserverError,
    TryReport,
    duration,
)
from .results import Outcome, RunResult


@dataclass(frozen=True)
class RunReport:
    """The answer to "how did the run go?", one entry per job in run order.

    ``seconds`` is the run's wall time, retry waits included; ``started_at``
    the wall-clock time it started (``time.time()``); ``no_act`` is True
    for a dry run.
    """

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
    seconds: float = 0.0
    started_at: float = 0.0
    no_act: bool = False
    #: job name -> the names in its DEPS (for the picture of the graph);
    #: empty when the report was read back from an event log.
    deps: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    #: What the run was configured with: ``workers``, ``default_tries``...
    settings: dict[str, Any] = field(default_factory=dict, compare=False)
    #: Why the run history could not record this run; None when it did or
    #: when no history was asked for.
    history_error: str | None = None
    #: Where the run history that recorded this run is (None: no history);
    #: the page reads each job's past outcomes there.
    history_place: str | None = field(default=None, repr=False, compare=False)
    #: This run's id in that history; None when it was not recorded.
    history_run: int | None = field(default=None, compare=False)
    _by_name: dict[str, JobReport] = field(default_factory=dict, repr=False, compare=False)
    # The exception of each failed job's last try, for its traceback. The
    # run's result holds them anyway; the report only points at them.
    _failures: dict[str, BaseException] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update((job.name, job) for job in self.jobs)

    def __getitem__(self, name: str) -> JobReport:
        return self._by_name[name]

    @classmethod
    def from_result(
        cls,
        result: RunResult,
        seconds: dict[str, float],
        history: dict[str, tuple[TryReport, ...]] | None = None,
        *,
        wall: float = 0.0,
        started_at: float = 0.0,
        cleanup_errors: Sequence[CleanupError] = (),
        observer_failures: Sequence[ObserverFailure] = (),
        settings: dict[str, Any] | None = None,
    ) -> RunReport:
        """Combine a run's final state with the time measured for each job
        (``seconds``), each job's tries (``history``), the Cleanups that
        failed and the observers that were switched off."""
        names = result.plan.names
        history = history or {}
        no_act = result.no_act
        jobs = []
        for i in result.order:
            name = names[i]
            outcome = result.outcome[i]
            error = result.errors[i]
            failure = (JobError.from_exception(error)
                       if outcome is Outcome.FAILED and error is not None else None)
            # By position, in JobReport's order: a report per job, and
            # keywords would cost each a third more (benchmarks/bench_history.py
            # times the command, which reports).
            jobs.append(JobReport(name, outcome, result.tries[i], seconds.get(name, 0.0),
                                  failure, history.get(name, ()), no_act))
        deps = result.plan.deps
        failures = {
            names[i]: error for i in result.order
            if result.outcome[i] is Outcome.FAILED and (error := result.errors[i]) is not None
        }
        return cls(
            success=result.success,
            jobs=jobs,
            interrupted=result.interrupted,
            cleanup_errors=list(cleanup_errors),
            observer_errors=[ObserverError.from_failure(failure)
                             for failure in observer_failures],
            stopped_by=None if result.stopped_by is None else names[result.stopped_by],
            not_tried=[names[i] for i in result.not_tried_by_fail_fast()],
            seconds=wall,
            started_at=started_at,
            no_act=no_act,
            deps={names[i]: tuple(names[d] for d in deps[i]) for i in result.order},
            settings=dict(settings or {}),
            _failures=failures,
        )

    def traceback(self, name: str) -> str | None:
        """The traceback of the error that made job ``name`` fail (its last
        try), as Python prints it; None when the job did not fail or the
        report does not have it (one read back from an event log)."""
        error = self._failures.get(name)
        if error is None:
            return None
        return "".join(format_exception(type(error), error, error.__traceback__))

    def to_html(self, *, past_runs: int = 10, **limits: int) -> str:
        """This report as one self-contained HTML page: summary, graph,
        timeline of every try, failures, settings. See :func:`dojobber.html.page`
        for ``limits`` (``max_graph``, ``max_rows``, ``max_failures``).

        When a run history recorded the run, each job's row shows its
        outcomes in the last ``past_runs`` runs of this root on this host
        (this one included), read from the history; 0 leaves them out. A
        history that cannot be read never fails the page: it says why in
        one line instead."""
        from .html import check_limit, page  # lazily: most runs never draw a page

        check_limit("past_runs", past_runs)
        past = None
        if self.history_place is not None and past_runs:
            from .history.views import PastOutcomes, past_outcomes

            if self.history_run is None:
                past = PastOutcomes(error=self.history_error or "this run was not recorded")
            else:
                past = past_outcomes(self.history_place, self.history_run, past_runs)
        return page(self, past=past, **limits)

    def counts(self) -> dict[Outcome, int]:
        """How many jobs ended with each outcome: every outcome is a key,
        but INTERRUPTED only when some job was interrupted."""
        counts: dict[Outcome, int] = {
            outcome: 0 for outcome in Outcome if outcome is not Outcome.INTERRUPTED}
        for job in self.jobs:
            counts[job.outcome] = counts.get(job.outcome, 0) + 1
        return _interrupted_after_failed(counts, Outcome.INTERRUPTED, Outcome.FAILED)

    def label_counts(self) -> dict[str, int]:
        """How many jobs have each ``label``: every label of this kind of
        run (``RUN_LABELS`` or ``DRY_RUN_LABELS``) is a key, and
        ``interrupted`` when some job was interrupted."""
        counts = dict.fromkeys(DRY_RUN_LABELS if self.no_act else RUN_LABELS, 0)
        for job in self.jobs:
            label = job.label
            counts[label] = counts.get(label, 0) + 1
        return _interrupted_after_failed(
            counts, Outcome.INTERRUPTED.value, Outcome.FAILED.value)

    def to_dict(self) -> dict[str, Any]:
        """``{"success", "interrupted", "no_act", "started_at", "seconds",
        "jobs": [{"name", "outcome", "tries", "seconds", "error", "history"}],
        "cleanup_errors": [...], "observer_errors": [...],
        "fail_fast": None or {"stopped_by", "not_tried"}}``, and
        ``"history_error"`` when the run history could not record the run."""
        fail_fast = (
            None
            if self.stopped_by is None
            else {"stopped_by": self.stopped_by, "not_tried": list(self.not_tried)}
        )
        whole = {
            "success": self.success,
            "interrupted": self.interrupted,
            "no_act": self.no_act,
            "started_at": round(self.started_at, 6),
            "seconds": round(self.seconds, 6),
            "jobs": [job.to_dict() for job in self.jobs],
            "cleanup_errors": [error.to_dict() for error in self.cleanup_errors],
            "observer_errors": [error.to_dict() for error in self.observer_errors],
            "fail_fast": fail_fast,
        }
        if self.history_error is not None:  # only then: the usual report is unchanged
            whole["history_error"] = self.history_error
        return whole

    def to_json(self, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text."""
        import json  # on first use: most runs never write JSON

        return json.dumps(self.to_dict(), indent=indent)

    def summary(self, *, slowest: int = 3, max_listed: int = 20) -> list[str]:
        """A few lines a person reads at a glance: counts, failures, the
        jobs an interrupt cut short, blocked and slowest jobs, then each
        Cleanup that failed and each observer switched off.

        At most ``max_listed`` failed jobs (and jobs that would run),
        interrupted and blocked names are listed; the JSON form always has
        them all. A failed job's line ends with its Run's error when Run
        raised.
        """
        counts = self.label_counts()
        total = sum(job.seconds for job in self.jobs)
        head = ", ".join(f"{n} {label}" for label, n in counts.items())
        lines = [
            f"{len(self.jobs)} job{'' if len(self.jobs) == 1 else 's'}: {head} "
            f"(took {duration(self.seconds)}, {duration(total)} in jobs)"
        ]
        if self.interrupted:
            lines.append("interrupted before the run was over")
        if self.stopped_by is not None:
            lines.append(f"fail-fast: stopped when {self.stopped_by} failed")
            if self.not_tried:
                lines.append(f"not tried (fail-fast): {_listed(self.not_tried, max_listed)}")
        for label, word in ((WOULD_RUN, "would run"), (Outcome.FAILED.value, "failed")):
            ended = [job for job in self.jobs if job.label == label]
            lines += [f"{word}: {_failure(job)}" for job in ended[:max_listed]]
            if len(ended) > max_listed:
                lines.append(f"{word}: ... and {len(ended) - max_listed} more")
        cut = [job.name for job in self.jobs if job.outcome is Outcome.INTERRUPTED]
        if cut:
            lines.append(f"interrupted: {_listed(cut, max_listed)}")
        never = NOT_CHECKED if self.no_act else Outcome.BLOCKED.value
        not_tried = set(self.not_tried)
        blocked = [
            job.name for job in self.jobs if job.label == never and job.name not in not_tried
        ]
        if blocked:
            lines.append(f"{never.replace('_', ' ')}: {_listed(blocked, max_listed)}")
        ranked = sorted((job for job in self.jobs if job.tries), key=lambda j: -j.seconds)
        if ranked and slowest > 0:
            times = [f"{job.name} {duration(job.seconds)}" for job in ranked[:slowest]]
            lines.append("slowest: " + ", ".join(times))
        for cleanup in self.cleanup_errors:
            lines.append(f"cleanup failed: {cleanup.job}: {cleanup.error}")
        for observer in self.observer_errors:
            lines.append(
                f"observer switched off: {observer.observer} raised in "
                f"{observer.event}: {observer.error}"
            )
        if self.history_error is not None:
            lines.append(self.history_error)
        return lines


_Key = TypeVar("_Key", Outcome, str)


def _listed(names: list[str], most: int) -> str:
    """``A, B, ... and N more``: at most ``most`` of ``names``."""
    listed = ", ".join(names[:most])
    if len(names) > most:
        listed += f", ... and {len(names) - most} more"
    return listed


def _interrupted_after_failed(
    counts: dict[_Key, int], interrupted: _Key, failed: _Key
) -> dict[_Key, int]:
    """``counts`` with ``interrupted`` right after ``failed`` when it counts
    some job, and without it otherwise: a run no interrupt cut short reads
    as it always did."""
    cut = counts.pop(interrupted, 0)
    if not cut:
        return counts
    ordered: dict[_Key, int] = {}
    for key, count in counts.items():
        ordered[key] = count
        if key == failed:
            ordered[interrupted] = cut
    return ordered


def _failure(job: JobReport) -> str:
    """``NAME after N tries: ERROR (Run raised ERROR)``, for a summary line."""
    if job.label == WOULD_RUN:
        return f"{job.name}: {job.error}"
    tries = "1 try" if job.tries == 1 else f"{job.tries} tries"
    text = f"{job.name} after {tries}: {job.error}"
    run_error = job.run_error
    if run_error is not None and run_error != job.error:  # a RunonlyJob's are one
        text += f" (Run raised {run_error})"
    return text
