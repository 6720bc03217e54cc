"""The run report's recorder: every try's times and errors, as the run goes."""

from __future__ import annotations

import threading
import time
from array import array
from itertools import repeat
from math import isnan
from math import nan as NAN
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from .events import REPLAYING, ObserverFailure, Unguarded
from .results import Outcome, Phase

if TYPE_CHECKING:
    from .reportparts import CleanupError, JobError, TryReport
    from .results import RunResult
    from .runreport import RunReport


def _described(error: BaseException | JobError) -> JobError:
    """``error`` as a JobError (errors read back from an event log already are)."""
    from .reportparts import JobError  # the report's classes load when first needed

    return error if isinstance(error, JobError) else JobError.from_exception(error)


class TriedJobs(Protocol):
    """What the recorder reads of a run's result (a RunResult, or the
    stand-in that eventlog.py fills from a log): the run's jobs (their
    indices, in run order) and per job, by index, its tries so far, its
    outcome and when its latest try started and ended."""

    order: Sequence[int]
    tries: list[int]
    outcome: list[Outcome]
    started: array[float]
    ended: array[float]
    stamp: Callable[[], float]


class ReportRecorder(Unguarded):
    """Times every try and its phases, so that a RunReport can tell each
    try's story and say where the run spent its time.

    ``clock`` defaults to ``time.perf_counter``, ``wall_clock`` (the run's
    start as a date) to ``time.time``. Bound to a run's result, it makes
    ``clock`` the result's ``stamp``.

    A try that passes at its first Check, the usual try, costs it nothing:
    the scheduler stamps when each job's latest try started and ended in
    the result, and such a try is always its job's last, with one phase,
    check, that is the whole try. Every other try is logged here when it
    ends, with its times, outcome, error and the number of phases it
    logged; those phases (all but a passing first Check) have a log of
    their own. A job's tries and phases are each in order in their logs,
    and the counts pair them up again. Only when a report is asked for
    (most runs never ask) are TryReports made.

    In a parallel run, a job never has two tries at once, so its per-job
    numbers are only touched by one thread at a time; an entry of a log is
    an integer key (its job and codes) and its times, in two arrays, added
    under a lock: the usual try takes none.
    """

    sees_passes = False

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
        self._result: TriedJobs | None = None
        self.run_started(())

    def bind(self, result: TriedJobs) -> None:
        self._result = result
        result.stamp = self._clock  # the scheduler's stamps and ours: one clock

    def run_started(self, jobs: Sequence[str]) -> None:
        self._run_start = self._clock()
        self.started_at = self._wall_clock()
        self.wall = 0.0
        self._names = list(jobs)
        # Job name -> its position, made when a try first needs logging: a
        # run in which every try passes at its first Check never does.
        self._position: dict[str, int] | None = None
        n = len(self._names)
        # Per job, while a try is under way: the phases it logged, and
        # when the last of them ended.
        self._phase_count = array("b", bytes(n))
        self._phase_end = array("d", bytes(8 * n))
        # Per logged try: its job and what _pack_try made of its outcome,
        # phase count and error, in one integer (see _key), and its start
        # and end (clock readings).
        self._try_keys = array("q")
        self._try_times = array("d")
        # Per logged phase: its job, its name and error (``code + 4 * error``)
        # in one integer, and its end.
        self._phase_keys = array("q")
        self._phase_ends = array("d")
        # And how long it took where it ran (NaN: from the end of the phase
        # before it, or its try's start): made only once a phase timed
        # elsewhere comes, so a run in this process keeps no more per phase
        # (the benchmark's peak memory per job on retry-heavy keeps it; the
        # figure is in docs/performance.rst).
        self._phase_seconds = array("d")
        # The errors those numbers point to, as text (an exception would keep
        # its traceback, frames and job): one JobError for failures alike,
        # which on graphs where many jobs fail the same way saves much memory.
        self._errors: list[JobError] = []
        self._error_numbers: dict[tuple[str, str], int] = {}
        self.cleanup_errors = []

    def phase_ended(
        self, job: str, phase: Phase, error: BaseException | JobError | None
    ) -> None:
        seconds = REPLAYING.seconds
        if seconds is not None:
            # Made elsewhere (an executor): as long as it took there.
            self.phase_took(job, phase, error, seconds, REPLAYING.ago)
        elif error is not None or phase != "check":
            self._log_phase(job, phase, error, self._clock(), None)
        # else: a first Check that passed ends its try, which the result has

    def phase_took(
        self,
        job: str,
        phase: Phase,
        error: BaseException | JobError | None,
        seconds: float,
        ago: float = 0.0,
    ) -> None:
        """A phase of ``job`` that took ``seconds`` where it ran ended ``ago``
        seconds before now (a try made on an executor, replayed; a phase
        read back from an event log). A first Check that passed is logged
        too: its try's time as this process saw it holds more than that."""
        self._log_phase(job, phase, error, self._clock() - ago, seconds)

    def _log_phase(
        self,
        job: str,
        phase: Phase,
        error: BaseException | JobError | None,
        end: float,
        seconds: float | None,
    ) -> None:
        """Log a phase that ended at ``end``, having taken ``seconds`` (None:
        since its try, or its try's previous phase, began)."""
        k = self._position_of(job)
        if k is None or self._phase_count[k] == MAX_PHASES:
            return  # not a job of this run, or more phases than a try has: bad events
        self._phase_end[k] = end
        self._phase_count[k] += 1
        number = 0 if error is None else self._error_number(error)
        with self._lock:  # an entry is in two or three arrays: no other thread in between
            took = self._phase_seconds
            if seconds is not None and not took:
                took.extend(repeat(NAN, len(self._phase_ends)))
            self._phase_keys.append(_key(k, PHASES.index(phase) + 4 * number))
            self._phase_ends.append(end)
            if took or seconds is not None:
                took.append(NAN if seconds is None else seconds)

    def try_ended(
        self, job: str, outcome: Outcome, error: BaseException | JobError | None
    ) -> None:
        if outcome is PASSED:
            return  # the result has it: see the class docstring
        k = self._position_of(job)
        result = self._result
        if k is None or result is None:
            return
        phases = self._phase_count[k]
        if phases:
            self._phase_count[k] = 0
        # The last phase it logged (a recheck, or a dry run's Check) decided
        # the try: it ended then.
        i = result.order[k]
        end = self._phase_end[k] if phases else result.ended[i]
        number = 0 if error is None else self._error_number(error)
        self._log_try(k, result.started[i], end, _pack_try(OUTCOMES.index(outcome), phases, number))

    def _log_try(self, k: int, start: float, end: float, packed: int) -> None:
        with self._lock:  # an entry is in two arrays: no other thread in between
            self._try_keys.append(_key(k, packed))
            self._try_times.extend((start, end))

    def _position_of(self, job: str) -> int | None:
        if self._position is None:
            self._position = {name: k for k, name in enumerate(self._names)}
        return self._position.get(job)

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
        self.finish(self._clock() - self._run_start, result.interrupted)

    def finish(self, now: float, interrupted: bool = False) -> None:
        """The run ended ``now`` seconds after it started; when it was
        ``interrupted`` (Ctrl-C), the tries it cut short count up to now."""
        result = self._result
        if interrupted and result is not None:
            logged = [0] * len(self._names)
            for key in self._try_keys:
                logged[key & _JOB] += 1
            for k, i in enumerate(result.order):
                if result.tries[i] > logged[k] + (result.outcome[i] is PASSED):
                    packed = _pack_try(NO_OUTCOME, self._phase_count[k], 0)
                    self._log_try(k, result.started[i], self._run_start + now, packed)
        # Only tries under way need these, and the run is over: not kept.
        self._position = None
        self._phase_count = array("b")
        self._phase_end = array("d")
        self.wall = now

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        if error is not None:
            from .reportparts import CleanupError

            self.cleanup_errors.append(CleanupError(job, _described(error)))

    def _all_tries(self) -> list[tuple[int, float, float, int]]:
        """Every try that ended (or that Ctrl-C cut short): its job, start
        and end (seconds from the run's start) and what ``_pack_try`` made
        of it; each job's in order."""
        zero, times = self._run_start, self._try_times
        tries = [
            (key & _JOB, times[2 * t] - zero, times[2 * t + 1] - zero, key >> _JOB_BITS)
            for t, key in enumerate(self._try_keys)
        ]
        result = self._result
        if result is not None:
            passed = _pack_try(OUTCOMES.index(PASSED), 0, 0)
            outcome, started, ended = result.outcome, result.started, result.ended
            for k, i in enumerate(result.order):
                if outcome[i] is PASSED:  # then its last try, never logged
                    tries.append((k, started[i] - zero, ended[i] - zero, passed))
        return tries

    @property
    def seconds(self) -> dict[str, float]:
        """job name -> seconds spent in its tries during the last run."""
        spent: dict[str, float] = {}
        names = self._names
        for k, start, end, _ in self._all_tries():
            spent[names[k]] = spent.get(names[k], 0.0) + end - start
        return spent

    @property
    def last_errors(self) -> dict[str, JobError]:
        """job name -> its latest failure, even if a later try passed."""
        found: dict[str, JobError] = {}
        for k, _, _, packed in self._all_tries():
            error = self._error(_unpack_try(packed)[2])
            if error is not None:
                found[self._names[k]] = error
        return found

    def history(self) -> dict[str, tuple[TryReport, ...]]:
        """job name -> its tries in the last run."""
        phases: dict[int, list[tuple[int, int, float, float]]] = {}
        zero = self._run_start
        took = self._phase_seconds or repeat(NAN, len(self._phase_ends))
        for key, end, seconds in zip(self._phase_keys, self._phase_ends, took, strict=True):
            error, code = divmod(key >> _JOB_BITS, 4)
            phases.setdefault(key & _JOB, []).append((code, error, end - zero, seconds))
        taken = dict.fromkeys(phases, 0)  # per job, the phases already paired with a try
        tries: dict[int, list[TryReport]] = {}
        passed = OUTCOMES.index(PASSED)
        for k, start, end, packed in self._all_tries():
            code, count, error = _unpack_try(packed)
            if code == passed and not count:
                # A try that passed at its first Check is its job's last, never
                # logged; a Check made elsewhere was (phase_took): it is left.
                own = phases[k][taken[k]:] if k in phases else []
            else:
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
        phases_logged: Sequence[tuple[int, int, float, float]],
        error: JobError | None,
    ) -> TryReport:
        from .reportparts import PhaseReport, TryReport

        outcome = None if code == NO_OUTCOME else OUTCOMES[code]
        seconds = end - start
        phases = []
        previous = start
        for phase, phase_error, phase_end, took in phases_logged:
            # Timed here, a phase began as the one before it (or its try)
            # ended; timed on another clock, it is kept within its try.
            begin = previous if isnan(took) else min(max(start, phase_end - took), phase_end)
            previous = phase_end
            phases.append(PhaseReport(
                PHASES[phase], begin, phase_end - begin, self._error(phase_error),
            ))
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
        from .runreport import RunReport

        return RunReport.from_result(
            result, self.seconds, self.history(),
            wall=self.wall, started_at=self.started_at,
            cleanup_errors=self.cleanup_errors, observer_failures=observer_failures,
            settings=settings,
        )


OUTCOMES = tuple(Outcome)
#: A module global rather than ``Outcome.PASSED``: try_ended compares every
#: try's outcome with it, and an Enum member is an attribute lookup through
#: the class (sh dev.sh bench --shapes retry-heavy, where each job has three
#: tries, keeps it).
PASSED = Outcome.PASSED
PHASES: tuple[Phase, ...] = ("check", "run", "recheck")
MAX_PHASES = len(PHASES)
#: The outcome code of a try cut short (by KeyboardInterrupt): it has none.
NO_OUTCOME = len(OUTCOMES)


#: A log's integer key holds a job's position in its low bits (a run of
#: more than 2**31 jobs would not fit in memory anyway) and the rest above.
_JOB_BITS = 31
_JOB = (1 << _JOB_BITS) - 1


def _key(k: int, rest: int) -> int:
    return k | rest << _JOB_BITS


def _pack_try(code: int, phases: int, error: int) -> int:
    """A try's outcome ``code`` (at most NO_OUTCOME, below 8), the number of
    ``phases`` it logged (at most 3) and ``error`` (the number of its error,
    0 for none) as one number."""
    return code + 8 * phases + 32 * error


def _unpack_try(packed: int) -> tuple[int, int, int]:
    """``(code, phases, error)`` from what ``_pack_try`` made."""
    return packed % 8, packed // 8 % 4, packed // 32
