"""The event stream of a run: the Observer interface and its dispatch lists.

The scheduler reports what happens (a try starts, a phase ends, a cleanup
fails...) by calling these methods; observers turn that into output. An event
nobody overrides is never dispatched, so an unobserved run pays nothing.
An observer method that raises cannot change the run: see ``Dispatch``.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable, Sequence

from .errortext import type_name
from .results import Outcome, Phase

if TYPE_CHECKING:
    from .results import RunResult

log = logging.getLogger("DoJobber")

__all__ = ["Dispatch", "EVENTS", "Observer", "ObserverFailure", "Outcome", "Phase", "REPLAYING",
           "Replaying", "Unguarded"]


class Observer:
    """Base class for anything that watches a run. Override what you need.

    Methods are called from the thread that runs the job; in a parallel run
    they may be called from several threads, so keep them quick and guard
    shared state.

    An observer cannot change the run: if one of its methods raises
    (anything but KeyboardInterrupt), the error goes to the ``DoJobber``
    log and into the run report, and the observer gets no more events
    until the next run, except ``run_ended``, so that it can always stop
    what it started (a thread, a file).
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


class Unguarded(Observer):
    """An observer of DoJobber's own that only records what it is told, in
    memory (the run report's recorder). Dispatch calls it directly, without
    the guard that switches a raising observer off: it cannot fail but for
    MemoryError, and it watches every try of every run, where one more call
    per event shows on big graphs. It may also read the run's result as the
    scheduler fills it in (``bind``)."""

    #: False: it is not told of a first Check that passed (``phase_ended``)
    #: nor of the try it ends (``try_ended`` with PASSED), the usual try,
    #: whose story the result has (see RunResult.started).
    sees_passes = True

    def bind(self, result: RunResult) -> None:
        """A run starts: ``result`` is the RunResult it fills in."""


class Replaying(threading.local):
    """What an observer that times phases needs while a phase that ran
    elsewhere is reported late (a try made on an executor, replayed when
    its answer came): ``seconds``, how long the phase took where it ran,
    and ``ago``, how long before now it ended. ``seconds`` is None while
    events are reported as they happen. One per thread: each worker thread
    of a run replays its own tries."""

    seconds: float | None = None
    ago = 0.0


#: The replay under way in this thread (see Replaying).
REPLAYING = Replaying()


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


class ObserverFailure:
    """An observer's method ``event`` raised ``error``; it was switched off.

    (A plain class rather than a dataclass: ``import dojobber`` loads this
    module, and tests/test_import_cost.py and the start-up line of
    ``sh dev.sh bench`` keep dataclasses out of it.)
    """

    __slots__ = ("observer", "event", "error")

    def __init__(self, observer: Observer, event: str, error: BaseException):
        self.observer = observer
        self.event = event
        self.error = error

    def __repr__(self) -> str:
        return (f"ObserverFailure(observer={self.observer!r}, event={self.event!r}, "
                f"error={self.error!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObserverFailure):
            return NotImplemented
        return (self.observer, self.event, self.error) == (
            other.observer, other.event, other.error)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaced


class Dispatch:
    """For each event, the methods of the observers that want it, each
    wrapped so that an error in it switches its observer off instead of
    reaching the scheduler. ``failures`` lists the observers switched off
    since the last ``start_run()``.
    """

    run_started: list[Callable[..., None]]
    try_started: list[Callable[..., None]]
    not_created: list[Callable[..., None]]
    phase_ended: list[Callable[..., None]]
    try_ended: list[Callable[..., None]]
    #: ``phase_ended`` for a first Check that passed, ``try_ended`` for the
    #: try it ends: the same, without the observers that skip those.
    check_passed: list[Callable[..., None]]
    try_passed: list[Callable[..., None]]
    cleanup_started: list[Callable[..., None]]
    cleanup_ended: list[Callable[..., None]]

    def __init__(self, observers: Sequence[Observer]):
        self._observers = list(observers)
        self._lock = threading.Lock()
        self.failures: list[ObserverFailure] = []
        #: Per observer, a one-item list: True once switched off. Checked by
        #: each call, because a parallel run may still be going through an
        #: event's old list when the observer is switched off.
        self._off = [[False] for _ in self._observers]
        self._wire()

    def start_run(self, result: RunResult | None = None) -> None:
        """Switch every observer back on for a new run, which fills in
        ``result`` (given to DoJobber's own observers, see Unguarded)."""
        with self._lock:
            self.failures = []
            # The lists stay as they are unless an observer was switched off.
            if any(off[0] for off in self._off):
                for off in self._off:
                    off[0] = False
                self._wire()
        if result is not None:
            for observer in self._observers:
                if isinstance(observer, Unguarded):
                    observer.bind(result)

    def end_run(self, result: RunResult) -> None:
        """Give ``result`` to every ``run_ended``, switched-off observers too.

        A KeyboardInterrupt from one is raised only after all were called.
        """
        interrupt: KeyboardInterrupt | None = None
        for k, observer in enumerate(self._observers):
            if not _overrides(observer, "run_ended"):
                continue
            try:
                observer.run_ended(result)
            except KeyboardInterrupt as error:
                interrupt = interrupt or error
            except BaseException as error:
                self._switch_off(k, "run_ended", error)
        if interrupt is not None:
            try:
                raise interrupt
            finally:
                interrupt = None  # no frame <-> traceback cycle

    def _wire(self) -> None:
        """Make each event's list from the observers still switched on
        (run_ended has none: end_run calls every observer)."""
        listening = self._listening
        self.run_started = listening("run_started")
        self.try_started = listening("try_started")
        self.not_created = listening("not_created")
        self.phase_ended = listening("phase_ended")
        self.try_ended = listening("try_ended")
        self.cleanup_started = listening("cleanup_started")
        self.cleanup_ended = listening("cleanup_ended")
        self.check_passed = listening("phase_ended", passes=True)
        self.try_passed = listening("try_ended", passes=True)

    def _listening(self, event: str, passes: bool = False) -> list[Callable[..., None]]:
        """The methods to call for ``event``; ``passes``: for a pass (see
        Unguarded.sees_passes)."""
        return [
            getattr(observer, event)
            if isinstance(observer, Unguarded)
            else self._guard(k, event)
            for k, observer in enumerate(self._observers)
            if not self._off[k][0] and _overrides(observer, event)
            and not (passes and isinstance(observer, Unguarded) and not observer.sees_passes)
        ]

    def _guard(self, k: int, event: str) -> Callable[..., None]:
        method = getattr(self._observers[k], event)
        off = self._off[k]
        switch_off = self._switch_off

        def notify(*args: object) -> None:
            if off[0]:
                return
            try:
                method(*args)
            except KeyboardInterrupt:
                raise
            except BaseException as error:
                switch_off(k, event, error)

        return notify

    def _switch_off(self, k: int, event: str, error: BaseException) -> None:
        observer = self._observers[k]
        with self._lock:
            if self._off[k][0]:
                return  # already reported in this run
            self._off[k][0] = True
            self.failures.append(ObserverFailure(observer, event, error))
            self._wire()
        log.error(
            "Observer %s raised in %s; it is switched off for the rest of the run",
            type_name(type(observer)),
            event,
            exc_info=error,
        )


def _overrides(observer: Observer, event: str) -> bool:
    kind = type(observer)
    events = _OVERRIDDEN.get(kind)
    if events is None:
        events = _OVERRIDDEN[kind] = frozenset(
            name for name in EVENTS
            if getattr(kind, name, None) is not getattr(Observer, name)
        )
    return event in events


#: Observer class -> the events it overrides (each configure() asks).
_OVERRIDDEN: dict[type, frozenset[str]] = {}

