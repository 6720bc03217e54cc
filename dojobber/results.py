"""The values a run produces, read by every layer: Outcome, Phase and RunResult.

Data only: this module imports nothing of the engines, so observers, the
report and the event log read a run without importing what made it.
"""

from __future__ import annotations

import time
from array import array
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

if TYPE_CHECKING:
    from .plan import Plan

Phase = Literal["check", "run", "recheck"]


class Outcome(str, Enum):
    """How a job's run ended."""

    PASSED = "passed"  #: its first Check passed
    PASSED_AFTER_RUN = "passed_after_run"  #: Check passed after Run
    FAILED = "failed"  #: tried, and its last try failed
    #: its last try was cut short (Ctrl-C, SIGTERM): it has no outcome of its own
    INTERRUPTED = "interrupted"
    BLOCKED = "blocked"  #: never tried: a dependency did not pass

    def __str__(self) -> str:
        return self.value


class RunResult:
    """Everything one run decided, as lists indexed like the Plan.

    Only the indices in ``order`` (the jobs the run reached) are meaningful.
    ``status`` is True (passed), False (failed) or None (never tried);
    ``passed`` lists the jobs that passed, in the order they passed.
    """

    def __init__(self, plan: Plan, order: Sequence[int], no_act: bool = False):
        n = len(plan)
        self.plan = plan
        self.order = order
        self.status: list[bool | None] = [None] * n
        self.outcome: list[Outcome] = [Outcome.BLOCKED] * n
        self.results: list[Any] = [None] * n
        self.errors: list[BaseException | None] = [None] * n
        self.tries: list[int] = [0] * n
        #: When each job's latest try started and ended, as readings of
        #: ``stamp``: the run report's times. Stamped by the scheduler, in
        #: machine floats: a try that passes at its first Check then needs
        #: nothing more from the report's recorder.
        self.started = array("d", bytes(8 * n))
        self.ended = array("d", bytes(8 * n))
        #: The clock of those times (the report's recorder sets its own).
        self.stamp: Callable[[], float] = time.perf_counter
        # Machine integers: a list would keep an int object per job.
        self.passed = array("Q")
        self.passes = 0
        self.interrupted = False
        #: With ``fail_fast``: the job whose failure (with no tries left)
        #: stopped the run; None when the run went to its end.
        self.stopped_by: int | None = None
        #: Whether the run only Checked: a failure is then final at once.
        self.no_act = no_act
        #: The jobs that passed by a Check that returned False, in the order
        #: they passed (a likely mistake: a Check fails only by raising).
        self.false_checks: list[int] = []
        #: Per job, the number of its latest try that failed (0: none): a
        #: try later than that one and not passed is under way (see
        #: ``cut_short``). Machine integers rather than a dict of the jobs
        #: that failed a try: the benchmark's peak memory per job on
        #: retry-heavy keeps it (figure in docs/performance.rst).
        self.failed_try = array("I", bytes(4 * n))

    @property
    def success(self) -> bool:
        """True when every job the run reached passed."""
        status = self.status
        return all(status[i] is True for i in self.order)

    def cut_short(self) -> list[int]:
        """The jobs whose latest try started and has no outcome yet, in run
        order: after an interrupt, the tries it cut short.

        ``tries`` counts a try when it starts; a try's outcome, once
        recorded, passes the job for good (``status`` True) or is a
        failure ``failed_try`` holds the number of.
        """
        status, tries, failed_try = self.status, self.tries, self.failed_try
        return [
            i for i in self.order
            if tries[i] and status[i] is not True and failed_try[i] != tries[i]
        ]

    def mark_interrupted(self) -> None:
        """An interrupt stopped the run: it is ``interrupted``, and each job
        whose try it cut short has the INTERRUPTED outcome. Their ``status``
        stays what it was (None, or False after a failed try), as 0.6.2's
        ``nodestatus`` had it."""
        self.interrupted = True
        outcome = self.outcome
        for i in self.cut_short():
            outcome[i] = Outcome.INTERRUPTED

    def not_tried_by_fail_fast(self) -> list[int]:
        """The jobs that were never tried because fail-fast stopped the run.

        A job not tried is blocked, and not listed, when one of its
        dependencies failed with no tries left, was interrupted or is
        blocked itself: that would have kept it from running anyway. The
        others (all their dependencies passed, or were still to be tried or
        retried) are listed, in run order. Empty unless ``stopped_by`` is set.
        """
        if self.stopped_by is None:
            return []
        deps, budgets = self.plan.deps, self.plan.tries
        status, tries = self.status, self.tries
        settled = [True] * len(status)  # failed for good, or blocked by one
        listed = []
        outcome = self.outcome
        for i in self.order:  # dependencies first
            if outcome[i] is Outcome.INTERRUPTED:
                continue  # not tried to its end: its dependents are blocked by it
            if status[i] is None:
                settled[i] = any(settled[dep] for dep in deps[i] if status[dep] is not True)
                if not settled[i]:
                    listed.append(i)
            elif status[i] is False:
                settled[i] = self.no_act or tries[i] >= budgets[i]
        return listed
