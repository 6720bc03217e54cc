"""The observer that records each run in the history when it ends, never at the run's expense."""

from __future__ import annotations

import os
import socket
import warnings
from typing import TYPE_CHECKING, Any

from ..errors import HistoryWarning
from ..errortext import one_line
from ..events import Observer
from ..results import Outcome
from ..version import __version__
from .place import redacted, scrub
from .store import JobRow, RunRow, Store, with_retries

if TYPE_CHECKING:
    from typing import Sequence

    from ..recorder import ReportRecorder
    from ..results import RunResult

#: The job outcome stored for a job that fail-fast kept from being tried.
NOT_TRIED = "not_tried"
#: What a run's ``outcome`` column holds.
SUCCEEDED, FAILED, INTERRUPTED = "succeeded", "failed", "interrupted"


class HistoryRecorder(Observer):
    """Writes each run to the history at ``place`` when it ends: the run's
    when, where, root, settings, outcome, counts and wall time, and per job
    its outcome, tries, seconds and last error.

    ``recorder`` is the run's report recorder (the per-job times and
    errors); ``settings`` what the report says the run was configured with.
    ``DoJobber.configure(history=...)`` makes one. A history that cannot be
    written leaves the run as it was: ``error`` says why, once, also as a
    ``HistoryWarning``.
    """

    def __init__(self, place: str, recorder: ReportRecorder, settings: dict[str, Any]):
        self.place = place
        self.recorder = recorder
        self.settings = settings
        #: Why the last run could not be recorded; None when it was.
        self.error: str | None = None
        #: The id of the last run recorded.
        self.run_id: int | None = None
        self._directory = ""

    def run_started(self, jobs: Sequence[str]) -> None:
        # Now: jobs may change the working directory during the run.
        try:
            self._directory = os.getcwd()
        except OSError:
            self._directory = ""

    def run_ended(self, result: RunResult) -> None:
        self.error = None
        self.run_id = None
        store = Store(self.place)
        try:
            run, jobs = self.rows(result)

            def attempt() -> int:
                with Store(self.place).open_for_writing() as opened:
                    return opened.write(run, jobs)

            self.run_id = with_retries(attempt)
        except Exception as error:  # whatever the database says: the run goes on
            self.error = (f"run history not recorded in {store.shown}: "
                          f"{scrub(one_line(error), self.place)}")
            warnings.warn(self.error, HistoryWarning, stacklevel=2)

    def rows(self, result: RunResult) -> tuple[RunRow, list[JobRow]]:
        """The run's row and its jobs' rows, as the history stores them."""
        recorder = self.recorder
        names = result.plan.names
        seconds = recorder.seconds
        errors = recorder.last_errors
        not_tried = set(result.not_tried_by_fail_fast())
        counts = dict.fromkeys(
            ("passed", "passed_after_run", "failed", "blocked", NOT_TRIED, "interrupted"), 0)
        jobs = []
        outcomes, tries = result.outcome, result.tries
        for seq, i in enumerate(result.order):
            name = names[i]
            # By its value: whatever outcomes results.Outcome has, each is kept.
            outcome = NOT_TRIED if i in not_tried else _value(outcomes[i])
            counts[outcome] = counts.get(outcome, 0) + 1
            error = errors.get(name)
            # By position, in JobRow's order (seq, name, outcome, tries, seconds,
            # error): a row per job, and keywords would cost each about as much
            # again (benchmarks/bench_history.py).
            jobs.append(JobRow(seq, name, outcome, tries[i], round(seconds.get(name, 0.0), 6),
                               None if error is None else str(error)))
        verdict = (INTERRUPTED if result.interrupted
                   else SUCCEEDED if result.success else FAILED)
        import json

        run = RunRow(
            started_at=recorder.started_at, wall_seconds=round(recorder.wall, 6),
            host=socket.gethostname(), user_name=_user(), directory=self._directory,
            root=names[result.order[-1]] if len(result.order) else names[-1],
            outcome=verdict, no_act=int(result.no_act), jobs=len(jobs),
            passed=counts["passed"], passed_after_run=counts["passed_after_run"],
            failed=counts["failed"], blocked=counts["blocked"], not_tried=counts[NOT_TRIED],
            interrupted=counts["interrupted"],
            settings=json.dumps(_plain(self.settings), sort_keys=True),
            dojobber_version=__version__,
        )
        return run, jobs

    @property
    def shown(self) -> str:
        """The place as it may be shown (no password)."""
        return redacted(self.place)


def _value(outcome: Outcome | str) -> str:
    return outcome.value if isinstance(outcome, Outcome) else str(outcome)


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name and no passwd entry (some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else ""


def _plain(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as JSON can hold them: infinities as text."""
    import math

    return {
        key: str(value) if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in settings.items()
    }
