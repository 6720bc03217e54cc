"""The run report's recorder: every try's times and errors, as the run goes."""

from __future__ import annotations

import math
import time
from array import array
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .events import ObserverFailure, Outcome, Phase, Unguarded

if TYPE_CHECKING:
    from .report import CleanupError, JobError, RunReport, TryReport
    from .scheduler import RunResult


def _described(error: BaseException | JobError) -> JobError:
    """``error`` as a JobError (errors read back from an event log already are)."""
    from .report import JobError  # the report's classes load when first needed

    return error if isinstance(error, JobError) else JobError.from_exception(error)


class ReportRecorder(Unguarded):
    """Times every try and its phases, so that a RunReport can tell each
    try's story and say where the run spent its time.

    ``clock`` defaults to ``time.perf_counter``, ``wall_clock`` (the run's
    start as a date) to ``time.time``. No lock is needed in a parallel
    run: a job never has two tries at once, so each job's entries are
    only touched by one thread at a time, and appends are atomic.

    It watches every run, so it keeps plain numbers in flat arrays, one
    entry per try and per phase, and makes TryReports only when a report
    is asked for (most runs never ask). A try that passes at its first
    Check has no phase entry: its one phase, check, is the whole try.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.perf_counter,
        wall_clock: Callable[[], float] = time.time,
    ):
        self._clock = clock
        self._wall_clock = wall_clock
        self.started_at = 0.0
        #: The last run's wall time, once it ended.
        self.wall = 0.0
        #: job name -> its latest failure, even if a later try passed. Kept
        #: as text: the exception would keep its traceback, frames and job.
        self.last_errors: dict[str, JobError] = {}
        #: The Cleanups that failed since the current/last run started.
        self.cleanup_errors: list[CleanupError] = []
        self.run_started(())

    def run_started(self, jobs: Sequence[str]) -> None:
        self._run_start = self._clock()
        self.started_at = self._wall_clock()
        self.wall = 0.0
        self._names = list(jobs)
        self._position = {name: k for k, name in enumerate(self._names)}
        self._open = array("q", [-1]) * len(self._names)  # job -> its try under way
        # One entry per try: its job, start, end (NaN while open), outcome.
        self._try_job = array("q")
        self._try_start = array("d")
        self._try_end = array("d")
        self._try_outcome = array("b")  # index in OUTCOMES, -1 while open
        self._try_errors: dict[int, JobError] = {}
        # One entry per phase but a passing first Check: its try, name, end.
        self._phase_try = array("q")
        self._phase_name = array("b")  # index in PHASES
        self._phase_end = array("d")
        self._phase_errors: dict[int, JobError] = {}
        self.last_errors = {}
        self.cleanup_errors = []

    def try_started(self, job: str, number: int) -> None:
        k = self._position.get(job)
        if k is None:
            return  # not a job of this run (a report rebuilt from bad events)
        self._open[k] = len(self._try_job)
        self._try_job.append(k)
        self._try_start.append(self._clock() - self._run_start)
        self._try_end.append(math.nan)
        self._try_outcome.append(-1)

    def phase_ended(
        self, job: str, phase: Phase, error: BaseException | JobError | None
    ) -> None:
        if error is None and phase == "check":
            return  # it ends its try, whose end try_ended records
        k = self._position.get(job)
        if k is None or self._open[k] < 0:
            return
        if error is not None:
            self._phase_errors[len(self._phase_try)] = _described(error)
        self._phase_try.append(self._open[k])
        self._phase_name.append(_PHASE_CODE[phase])
        self._phase_end.append(self._clock() - self._run_start)

    def try_ended(
        self, job: str, outcome: Outcome, error: BaseException | JobError | None
    ) -> None:
        k = self._position.get(job)
        if k is None:
            return
        t = self._open[k]
        if t >= 0:
            self._open[k] = -1
            phase_try = self._phase_try
            if phase_try and phase_try[-1] == t and outcome is not Outcome.PASSED:
                # The phase just logged (a recheck, or a dry run's Check)
                # decided the try: it ended then.
                self._try_end[t] = self._phase_end[-1]
            else:
                self._try_end[t] = self._clock() - self._run_start
            self._try_outcome[t] = _OUTCOME_CODE[outcome]
        if error is not None:
            failure = _described(error)
            self.last_errors[job] = failure
            if t >= 0:
                self._try_errors[t] = failure

    def run_ended(self, result: RunResult) -> None:
        self.finish(self._clock() - self._run_start)

    def finish(self, now: float) -> None:
        """The run ended ``now`` seconds after it started."""
        # A try cut short by KeyboardInterrupt still counts up to now.
        for t in self._open:
            if t >= 0:
                self._try_end[t] = now
        # Only tries need these, and the run is over: not kept.
        self._position = {}
        self._open = array("q")
        self.wall = now

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        if error is not None:
            from .report import CleanupError

            self.cleanup_errors.append(CleanupError(job, _described(error)))

    @property
    def seconds(self) -> dict[str, float]:
        """job name -> seconds spent in its tries during the current/last run."""
        spent: dict[str, float] = {}
        names, starts, ends = self._names, self._try_start, self._try_end
        for t, k in enumerate(self._try_job):
            if ends[t] == ends[t]:  # not NaN: the try ended
                name = names[k]
                spent[name] = spent.get(name, 0.0) + ends[t] - starts[t]
        return spent

    def history(self) -> dict[str, tuple[TryReport, ...]]:
        """job name -> its tries so far in the current/last run."""
        phases: dict[int, list[int]] = {}
        for p, t in enumerate(self._phase_try):
            phases.setdefault(t, []).append(p)
        tries: dict[str, list[TryReport]] = {}
        for t, k in enumerate(self._try_job):
            name = self._names[k]
            done = tries.setdefault(name, [])
            done.append(self._try_report(t, len(done) + 1, phases.get(t, ())))
        return {name: tuple(reports) for name, reports in tries.items()}

    def _try_report(self, t: int, number: int, phase_entries: Sequence[int]) -> TryReport:
        from .report import PhaseReport, TryReport

        start, end = self._try_start[t], self._try_end[t]
        code = self._try_outcome[t]
        outcome = OUTCOMES[code] if code >= 0 else None
        seconds = 0.0 if end != end else end - start
        phases = []
        begin = start
        for p in phase_entries:
            phase_end = self._phase_end[p]
            phases.append(PhaseReport(
                PHASES[self._phase_name[p]], begin, phase_end - begin,
                self._phase_errors.get(p),
            ))
            begin = phase_end
        if outcome is Outcome.PASSED and not phases:
            phases.append(PhaseReport("check", start, seconds, None))
        return TryReport(number, outcome, start, seconds, tuple(phases), self._try_errors.get(t))

    def report(
        self,
        result: RunResult,
        observer_failures: Sequence[ObserverFailure] = (),
        settings: dict[str, Any] | None = None,
    ) -> RunReport:
        """The report of ``result``, the run this recorder just watched,
        listing ``observer_failures`` (the observers switched off), the run
        configured with ``settings``."""
        from .report import RunReport

        return RunReport.from_result(
            result, self.seconds, self.history(),
            wall=self.wall, started_at=self.started_at,
            cleanup_errors=self.cleanup_errors, observer_failures=observer_failures,
            settings=settings,
        )


OUTCOMES = tuple(Outcome)
PHASES: tuple[Phase, ...] = ("check", "run", "recheck")
_OUTCOME_CODE = {outcome: code for code, outcome in enumerate(OUTCOMES)}
_PHASE_CODE = {phase: code for code, phase in enumerate(PHASES)}
