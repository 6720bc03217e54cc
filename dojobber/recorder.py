"""The run report's recorder: every try's times and errors, as the run goes."""

from __future__ import annotations

import threading
import time
from array import array
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

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
    start as a date) to ``time.time``.

    It watches every run, so it keeps plain numbers in flat arrays and
    makes TryReports only when a report is asked for (most runs never
    ask). Each job's latest try has its own slots: its start, its end, and
    its outcome, phase count and error packed in one number (see
    ``_pack_try``); an earlier try goes to a log when the next one starts.
    Most jobs have one try, which then costs three stores. A try that
    passes at its first Check logs no phase: its one phase, check, is the
    whole try; other phases go to a log of their own.

    No lock in a parallel run: a job never has two tries at once, so its
    slots are only touched by one thread at a time, and a whole entry is
    added to a log by one ``array.extend``, which the GIL keeps whole. A
    job's phases are in order in their log, and its tries know how many
    they logged: that pairs them up again.
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
        n = len(self._names)
        # Each job's latest try, as clock readings: its start, and its end
        # (while it is under way: the end of the last phase it logged).
        self._start = array("d", bytes(8 * n))
        self._end = array("d", bytes(8 * n))
        # What _pack_try makes of it, NOT_TRIED or UNDER_WAY.
        self._packed = array("d", [NOT_TRIED]) * n
        self._phase_count = array("b", bytes(n))  # phases the latest try logged
        # Four numbers per try that a later try of its job replaced: its
        # job, start, end and what _pack_try made of it.
        self._earlier = array("d")
        # Three numbers per phase but a passing first Check: its job, its
        # name and error packed in one (``code + 4 * error``), its end.
        self._phases = array("d")
        # The errors those numbers point to, as text (an exception would keep
        # its traceback, frames and job): one JobError for failures alike,
        # which on graphs where many jobs fail the same way saves much memory.
        self._errors: list[JobError] = []
        self._error_numbers: dict[tuple[str, str], int] = {}
        self.cleanup_errors = []

    def try_started(self, job: str, number: int) -> None:
        k = self._position.get(job)
        if k is None:
            return  # not a job of this run (a log with bad events)
        if self._packed[k] >= 0:  # its previous try ended: log it
            self._earlier.extend((k, self._start[k], self._end[k], self._packed[k]))
        self._start[k] = self._clock()
        self._packed[k] = UNDER_WAY

    def phase_ended(
        self, job: str, phase: Phase, error: BaseException | JobError | None
    ) -> None:
        if error is None and phase == "check":
            return  # it ends its try, whose end try_ended records
        k = self._position.get(job)
        if k is None or self._packed[k] != UNDER_WAY or self._phase_count[k] == MAX_PHASES:
            return  # no try under way, or more phases than a try has: bad events
        end = self._end[k] = self._clock()
        self._phase_count[k] += 1
        number = 0 if error is None else self._error_number(error)
        self._phases.extend((k, PHASES.index(phase) + 4 * number, end))

    def try_ended(
        self, job: str, outcome: Outcome, error: BaseException | JobError | None
    ) -> None:
        k = self._position.get(job)
        if k is None or self._packed[k] != UNDER_WAY:
            return
        phases = self._phase_count[k]
        if phases:
            self._phase_count[k] = 0
        # Unless it passed at its first Check, the last phase it logged (a
        # recheck, or a dry run's Check) decided the try: it ended then.
        if not phases or outcome is PASSED:
            self._end[k] = self._clock()
        number = 0 if error is None else self._error_number(error)
        # OUTCOMES.index rather than a dict: an Enum's hash is Python code.
        self._packed[k] = OUTCOMES.index(outcome) + 8 * phases + 32 * number  # _pack_try

    def _error_number(self, error: BaseException | JobError) -> int:
        """1 + the index of ``error``'s text in ``_errors`` (0 means none)."""
        described = _described(error)
        key = (described.type, described.message)
        number = self._error_numbers.get(key)
        if number is None:
            with self._lock:
                number = self._error_numbers.get(key)
                if number is None:
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
        if UNDER_WAY in self._packed:
            for k, packed in enumerate(self._packed):
                if packed == UNDER_WAY:
                    self._end[k] = self._run_start + now
                    self._packed[k] = _pack_try(NO_OUTCOME, self._phase_count[k], 0)
        # Only tries under way need these, and the run is over: not kept.
        self._position = {}
        self._phase_count = array("b")
        self.wall = now

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        if error is not None:
            from .report import CleanupError

            self.cleanup_errors.append(CleanupError(job, _described(error)))

    def _tries(self) -> Iterator[tuple[int, float, float, int]]:
        """Every try that ended: its job, start and end (seconds from the
        run's start) and what ``_pack_try`` made of it, each job's in order."""
        zero, earlier = self._run_start, self._earlier
        for at in range(0, len(earlier), 4):
            k, start, end, packed = earlier[at:at + 4]
            yield int(k), start - zero, end - zero, int(packed)
        for k, packed in enumerate(self._packed):
            if packed >= 0:
                yield k, self._start[k] - zero, self._end[k] - zero, int(packed)

    @property
    def seconds(self) -> dict[str, float]:
        """job name -> seconds spent in its tries during the current/last run
        (a try still under way is not counted)."""
        spent: dict[str, float] = {}
        names = self._names
        for k, start, end, _ in self._tries():
            spent[names[k]] = spent.get(names[k], 0.0) + end - start
        return spent

    @property
    def last_errors(self) -> dict[str, JobError]:
        """job name -> its latest failure, even if a later try passed."""
        found: dict[str, JobError] = {}
        for k, _, _, packed in self._tries():
            error = self._error(_unpack_try(packed)[2])
            if error is not None:
                found[self._names[k]] = error
        return found

    def history(self) -> dict[str, tuple[TryReport, ...]]:
        """job name -> its tries so far in the current/last run (a try
        under way is not listed before the run ends)."""
        phases: dict[int, list[tuple[int, int, float]]] = {}
        logged, zero = self._phases, self._run_start
        for at in range(0, len(logged), 3):
            error, code = divmod(int(logged[at + 1]), 4)
            phases.setdefault(int(logged[at]), []).append(
                (code, error, logged[at + 2] - zero))
        taken = dict.fromkeys(phases, 0)  # per job, the phases already paired with a try
        tries: dict[int, list[TryReport]] = {}
        for k, start, end, packed in self._tries():
            code, count, error = _unpack_try(packed)
            own = phases[k][taken[k]:taken[k] + count] if count else []
            if count:
                taken[k] += count
            done = tries.setdefault(k, [])
            done.append(self._try_report(
                len(done) + 1, start, end, code, own, self._error(error)))
        return {self._names[k]: tuple(tries[k]) for k in sorted(tries)}

    def _try_report(
        self,
        number: int,
        start: float,
        end: float,
        code: int,
        phases_logged: Sequence[tuple[int, int, float]],
        error: JobError | None,
    ) -> TryReport:
        from .report import PhaseReport, TryReport

        outcome = None if code == NO_OUTCOME else OUTCOMES[code]
        seconds = end - start
        phases = []
        begin = start
        for phase, phase_error, phase_end in phases_logged:
            phases.append(PhaseReport(
                PHASES[phase], begin, phase_end - begin, self._error(phase_error),
            ))
            begin = phase_end
        if outcome is Outcome.PASSED and not phases:
            phases.append(PhaseReport("check", start, seconds, None))
        return TryReport(number, outcome, start, seconds, tuple(phases), error)

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
PASSED = Outcome.PASSED  # a global: looking it up on the Enum costs more
PHASES: tuple[Phase, ...] = ("check", "run", "recheck")
MAX_PHASES = len(PHASES)
#: The outcome code of a try cut short (by KeyboardInterrupt): it has none.
NO_OUTCOME = len(OUTCOMES)
#: A job's ``_packed`` slot before its first try, and while a try is under way.
NOT_TRIED = -2.0
UNDER_WAY = -1.0


def _pack_try(code: int, phases: int, error: int) -> int:
    """A try's outcome ``code`` (at most NO_OUTCOME, below 8), the number of
    ``phases`` it logged (at most 3) and ``error`` (the number of its error,
    0 for none) as one number."""
    return code + 8 * phases + 32 * error


def _unpack_try(packed: int) -> tuple[int, int, int]:
    """``(code, phases, error)`` from what ``_pack_try`` made."""
    return packed % 8, packed // 8 % 4, packed // 32
