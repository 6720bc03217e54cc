"""The run report's recorder: every try's times and errors, as the run goes."""

from __future__ import annotations

import math
import threading
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
        #: The Cleanups that failed since the current/last run started.
        self.cleanup_errors: list[CleanupError] = []
        self._lock = threading.Lock()
        self.run_started(())

    def run_started(self, jobs: Sequence[str]) -> None:
        self._run_start = self._clock()
        self.started_at = self._wall_clock()
        self.wall = 0.0
        self._names = list(jobs)
        self._position = {name: k for k, name in enumerate(self._names)}
        self._open = array("q", [-1]) * len(self._names)  # job -> its try under way
        # Four numbers per try: its job, start, end (NaN while open), and
        # its outcome and error packed in one (see _pack; -1 while open).
        self._tries = array("d")
        # Three numbers per phase but a passing first Check: its try, its
        # name and error packed in one, its end.
        self._phases = array("d")
        # The errors those numbers point to, as text (an exception would keep
        # its traceback, frames and job): one JobError for failures alike,
        # which on graphs where many jobs fail the same way saves much memory.
        self._errors: list[JobError] = []
        self._error_numbers: dict[tuple[str, str], int] = {}
        self.cleanup_errors = []

    # Parallel runs call these from several threads at once. Each job's
    # entries are only touched by the thread running its try; what all
    # share is made safe by the GIL: one extend() of an array adds a whole
    # entry, a slice reads one, and only the numbering of tries needs a lock.

    def try_started(self, job: str, number: int) -> None:
        k = self._position.get(job)
        if k is None:
            return  # not a job of this run (a report rebuilt from bad events)
        start = self._clock() - self._run_start
        with self._lock:
            self._open[k] = len(self._tries) // 4
            self._tries.extend((k, start, math.nan, -1))

    def phase_ended(
        self, job: str, phase: Phase, error: BaseException | JobError | None
    ) -> None:
        if error is None and phase == "check":
            return  # it ends its try, whose end try_ended records
        k = self._position.get(job)
        if k is None or self._open[k] < 0:
            return
        packed = _pack(_PHASE_CODE[phase], None if error is None else self._error_number(error))
        self._phases.extend((self._open[k], packed, self._clock() - self._run_start))

    def try_ended(
        self, job: str, outcome: Outcome, error: BaseException | JobError | None
    ) -> None:
        k = self._position.get(job)
        if k is None:
            return
        t = self._open[k]
        if t >= 0:
            self._open[k] = -1
            last = self._phases[-3:]
            if last and last[0] == t and outcome is not Outcome.PASSED:
                # The phase just logged (a recheck, or a dry run's Check)
                # decided the try: it ended then.
                end = last[2]
            else:
                end = self._clock() - self._run_start
            self._tries[4 * t + 2] = end
            self._tries[4 * t + 3] = _pack(
                _OUTCOME_CODE[outcome], None if error is None else self._error_number(error)
            )

    def _error_number(self, error: BaseException | JobError) -> int:
        """1 + the index of ``error``'s text in ``_errors`` (0 means none)."""
        described = _described(error)
        key = (described.type, described.message)
        number = self._error_numbers.get(key)
        if number is None:
            with self._lock:
                self._errors.append(described)
                number = self._error_numbers[key] = len(self._errors)
        return number

    def _error(self, number: int) -> JobError | None:
        return self._errors[number - 1] if number else None

    def run_ended(self, result: RunResult) -> None:
        self.finish(self._clock() - self._run_start)

    def finish(self, now: float) -> None:
        """The run ended ``now`` seconds after it started."""
        # A try cut short by KeyboardInterrupt still counts up to now.
        for t in self._open:
            if t >= 0:
                self._tries[4 * t + 2] = now
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
        names, tries = self._names, self._tries
        for at in range(0, len(tries), 4):
            end = tries[at + 2]
            if end == end:  # not NaN: the try ended
                name = names[int(tries[at])]
                spent[name] = spent.get(name, 0.0) + end - tries[at + 1]
        return spent

    @property
    def last_errors(self) -> dict[str, JobError]:
        """job name -> its latest failure, even if a later try passed."""
        found: dict[str, JobError] = {}
        names, tries = self._names, self._tries
        for at in range(0, len(tries), 4):
            error = self._error(_unpack(tries[at + 3])[1])
            if error is not None:
                found[names[int(tries[at])]] = error
        return found

    def history(self) -> dict[str, tuple[TryReport, ...]]:
        """job name -> its tries so far in the current/last run."""
        phases: dict[int, list[tuple[int, int, float]]] = {}
        logged = self._phases
        for at in range(0, len(logged), 3):
            phases.setdefault(int(logged[at]), []).append(
                (*_unpack(logged[at + 1]), logged[at + 2]))
        tries: dict[str, list[TryReport]] = {}
        for t in range(len(self._tries) // 4):
            name = self._names[int(self._tries[4 * t])]
            done = tries.setdefault(name, [])
            done.append(self._try_report(t, len(done) + 1, phases.get(t, ())))
        return {name: tuple(reports) for name, reports in tries.items()}

    def _try_report(
        self, t: int, number: int, phases_logged: Sequence[tuple[int, int, float]]
    ) -> TryReport:
        from .report import PhaseReport, TryReport

        _, start, end, packed = self._tries[4 * t:4 * t + 4]
        code, error = _unpack(packed) if packed >= 0 else (-1, 0)
        outcome = OUTCOMES[code] if code >= 0 else None
        seconds = 0.0 if end != end else end - start
        phases = []
        begin = start
        for phase, phase_error, phase_end in phases_logged:
            phases.append(PhaseReport(
                PHASES[phase], begin, phase_end - begin, self._error(phase_error),
            ))
            begin = phase_end
        if outcome is Outcome.PASSED and not phases:
            phases.append(PhaseReport("check", start, seconds, None))
        return TryReport(number, outcome, start, seconds, tuple(phases), self._error(error))

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


def _pack(code: int, error: int | None) -> int:
    """An outcome's or phase's ``code`` (below 4) and ``error`` (the number
    of its error, 0 or None for none) as one number."""
    return code + 4 * (error or 0)


def _unpack(packed: float) -> tuple[int, int]:
    """``(code, error)`` from what ``_pack`` made."""
    error, code = divmod(int(packed), 4)
    return code, error
