"""One line per finished job, as it finishes: the story of a run in a CI log."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable, Mapping, TextIO

from .events import Observer
from .reportparts import WOULD_RUN, JobError, duration
from .results import Outcome, Phase
from .terminal import escape

if TYPE_CHECKING:
    from .results import RunResult


class JobLines(Observer):
    """Writes a line to ``stream`` when a job is done with::

        dojobber: Fetch passed_after_run (2 tries, 1.20s)
        dojobber: Mirror failed (3 tries, 2.41s): FileNotFoundError: alpha.txt
            not downloaded (Run raised URLError: Connection refused)

    (the second line is one line with the first).

    A job is done when a try passes, or when a failed try was its last:
    ``budgets`` (job name -> tries allowed, ``DoJobber.tries_allowed()``)
    says when that is; in a dry run (``no_act``) the first failure is final
    and shows as ``would_run`` when its Check failed. A job still failing
    when the run ends early gets its line then. Errors show their first
    line; names and messages are escaped. A job whose try an interrupt cut
    short gets its line (``interrupted``) when the run ends. Blocked jobs
    never finish, so they get no line (the summary lists them). Each line
    is flushed.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        budgets: Mapping[str, int] | None = None,
        no_act: bool = False,
        prefix: str = "dojobber: ",
        clock: Callable[[], float] = time.perf_counter,
    ):
        self._stream = stream
        self.budgets: Mapping[str, int] = budgets or {}
        self._no_act = no_act
        self._prefix = prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._tries: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._seconds: dict[str, float] = {}
        # Kept as text: an exception would keep its frames and job alive.
        self._run_error: dict[str, str] = {}
        self._check_failed: set[str] = set()
        self._pending: dict[str, str] = {}  # failed, tries left: its cause

    def run_started(self, jobs: object) -> None:
        self._tries, self._started, self._seconds = {}, {}, {}
        self._run_error, self._pending = {}, {}
        self._check_failed = set()

    def try_started(self, job: str, number: int) -> None:
        self._tries[job] = number
        self._started[job] = self._clock()
        self._run_error.pop(job, None)
        self._check_failed.discard(job)

    def phase_ended(self, job: str, phase: Phase, error: BaseException | None) -> None:
        if error is None:
            return
        if phase == "run":
            self._run_error[job] = _first_line(error)
        elif phase == "check":
            self._check_failed.add(job)

    def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
        started = self._started.pop(job, None)
        if started is not None:
            self._seconds[job] = self._seconds.get(job, 0.0) + self._clock() - started
        if outcome is not Outcome.FAILED:
            self._pending.pop(job, None)
            self._write(job, outcome.value, "")
            return
        cause = "" if error is None else _first_line(error)
        if self._no_act:
            would_run = job in self._check_failed
            self._write(job, WOULD_RUN if would_run else outcome.value, cause)
            return
        run_error = self._run_error.get(job)
        if run_error is not None and run_error != cause:  # a RunonlyJob's are one
            cause += f" (Run raised {run_error})"
        if self._tries[job] >= self.budgets.get(job, 1):
            self._pending.pop(job, None)
            self._write(job, outcome.value, cause)
        else:
            self._pending[job] = cause

    def run_ended(self, result: RunResult) -> None:
        if result.interrupted:
            self._cut_short(result)
        # Jobs still failing with tries left: the run stopped early.
        for job, cause in list(self._pending.items()):
            self._write(job, Outcome.FAILED.value, cause)
        self._pending = {}

    def _cut_short(self, result: RunResult) -> None:
        """A line for each job whose try the interrupt cut short: it ends here."""
        names, outcome = result.plan.names, result.outcome
        for i in result.order:
            if outcome[i] is Outcome.INTERRUPTED:
                job = names[i]
                self._pending.pop(job, None)
                started = self._started.pop(job, None)
                if started is not None:
                    self._seconds[job] = self._seconds.get(job, 0.0) + self._clock() - started
                self._write(job, Outcome.INTERRUPTED.value, "")

    def _write(self, job: str, label: str, cause: str) -> None:
        tries = self._tries.get(job, 0)
        text = (f"{self._prefix}{escape(job)} {label} "
                f"({tries} {'try' if tries == 1 else 'tries'}, "
                f"{duration(self._seconds.get(job, 0.0))})")
        if cause:
            text += ": " + cause
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()


def _first_line(error: BaseException) -> str:
    text = str(JobError.from_exception(error))
    return escape(text.splitlines()[0] if text else text)
