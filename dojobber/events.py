"""The event stream of a run: the Observer interface and its dispatch lists.

The scheduler reports what happens (a try starts, a phase ends, a cleanup
fails...) by calling these methods; observers turn that into output. An event
nobody overrides is never dispatched, so an unobserved run pays nothing.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

if TYPE_CHECKING:
    from .scheduler import RunResult

Phase = Literal["check", "run", "recheck"]


class Outcome(str, Enum):
    """How a job's run ended."""

    PASSED = "passed"  #: its first Check passed
    PASSED_AFTER_RUN = "passed_after_run"  #: Check passed after Run
    FAILED = "failed"  #: tried, and its last try failed
    BLOCKED = "blocked"  #: never tried: a dependency did not pass

    def __str__(self) -> str:
        return self.value


class Observer:
    """Base class for anything that watches a run. Override what you need.

    Methods are called from the thread that runs the job; in a parallel run
    they may be called from several threads, so keep them quick and guard
    shared state.
    """

    def run_started(self, jobs: Sequence[str]) -> None:
        """A run begins; ``jobs`` are the names it reaches, in run order."""

    def try_started(self, job: str, number: int) -> None:
        """Try ``number`` (1-based) of ``job`` begins."""

    def not_created(self, job: str, error: BaseException) -> None:
        """The job's ``__init__`` raised ``error``; the try failed."""

    def phase_ended(self, job: str, phase: Phase, error: BaseException | None) -> None:
        """Check, Run or the recheck ended; ``error`` is None when it passed."""

    def try_ended(self, job: str, outcome: Outcome, error: BaseException | None) -> None:
        """A try ended with ``outcome`` (PASSED, PASSED_AFTER_RUN or FAILED)."""

    def cleanup_started(self, job: str) -> None:
        """A job instance's Cleanup is about to run."""

    def cleanup_ended(self, job: str, error: BaseException | None) -> None:
        """A Cleanup ended; ``error`` is None when it returned."""

    def run_ended(self, result: RunResult) -> None:
        """The run is over (also after KeyboardInterrupt); ``result`` is final."""


EVENTS = (
    "run_started",
    "try_started",
    "not_created",
    "phase_ended",
    "try_ended",
    "cleanup_started",
    "cleanup_ended",
    "run_ended",
)


class Dispatch:
    """For each event, the list of observer methods that want it."""

    run_started: list[Callable[..., None]]
    try_started: list[Callable[..., None]]
    not_created: list[Callable[..., None]]
    phase_ended: list[Callable[..., None]]
    try_ended: list[Callable[..., None]]
    cleanup_started: list[Callable[..., None]]
    cleanup_ended: list[Callable[..., None]]
    run_ended: list[Callable[..., None]]

    def __init__(self, observers: Sequence[Observer]):
        for event in EVENTS:
            base = getattr(Observer, event)
            wanted: list[Any] = [
                getattr(o, event) for o in observers
                if getattr(type(o), event, base) is not base
            ]
            setattr(self, event, wanted)
