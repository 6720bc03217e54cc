"""The run report's parts as plain values: errors as text, jobs, tries, phases, labels, times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errortext import describe, type_name
from .errortext import duration as duration  # the report's times; its users import it here
from .events import ObserverFailure
from .results import Outcome, Phase


@dataclass(frozen=True, slots=True)
class JobError:
    """The exception that made a job fail, as text.

    ``type`` is the exception class as a traceback names it: bare for
    builtins (``RuntimeError``), else ``module.QualName``.
    """

    type: str
    message: str

    @classmethod
    def from_exception(cls, error: BaseException) -> JobError:
        """Describe ``error``; a broken ``__str__`` does not stop the report."""
        return cls(_type_name(type(error)), describe(error))

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type

    def to_dict(self) -> dict[str, str]:
        """``{"type", "message"}``."""
        return {"type": self.type, "message": self.message}


@dataclass(frozen=True)
class CleanupError:
    """A job instance's ``Cleanup`` raised ``error``."""

    job: str
    error: JobError

    def to_dict(self) -> dict[str, Any]:
        """``{"job", "error": {"type", "message"}}``."""
        return {"job": self.job, "error": self.error.to_dict()}


@dataclass(frozen=True)
class ObserverError:
    """An observer's method ``event`` raised ``error``, so the observer
    (``module.ClassName``) got no more events in that run."""

    observer: str
    event: str
    error: JobError

    @classmethod
    def from_failure(cls, failure: ObserverFailure) -> ObserverError:
        """Describe a failure the event dispatch recorded."""
        return cls(
            type_name(type(failure.observer)),
            failure.event,
            JobError.from_exception(failure.error),
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"observer", "event", "error": {"type", "message"}}``."""
        return {"observer": self.observer, "event": self.event, "error": self.error.to_dict()}


#: What a dry run (``no_act``) calls a job whose Check failed: Run would run.
WOULD_RUN = "would_run"
#: What a dry run calls a job behind one that would run: it was not checked.
NOT_CHECKED = "not_checked"

#: The job labels of a normal run and of a dry run, in the summary's order.
#: A run that an interrupt cut short also has ``interrupted`` jobs, counted
#: after the failed ones.
RUN_LABELS = (Outcome.PASSED.value, Outcome.PASSED_AFTER_RUN.value, Outcome.FAILED.value,
              Outcome.BLOCKED.value)
DRY_RUN_LABELS = (Outcome.PASSED.value, WOULD_RUN, Outcome.FAILED.value, NOT_CHECKED)


@dataclass(frozen=True, slots=True)
class PhaseReport:
    """One Check, Run or recheck of a try.

    ``start`` is in seconds since the run started. A phase starts when the
    one before it ended: the first Check's time includes making the instance.
    A try made on an executor has its phases as long as the worker measured
    them, the last ending when its answer came back, the first starting
    after the time it waited and travelled. ``error`` is set when the phase
    raised.
    """

    phase: Phase
    start: float
    seconds: float
    error: JobError | None

    def to_dict(self) -> dict[str, Any]:
        """``{"phase", "start", "seconds", "error"}``."""
        return {
            "phase": self.phase,
            "start": round(self.start, 6),
            "seconds": round(self.seconds, 6),
            "error": _error_dict(self.error),
        }


@dataclass(frozen=True, slots=True)
class TryReport:
    """One try of a job: when it started (seconds since the run started),
    how long it took, how it ended, and its phases in order. A try that a
    Check or recheck decided ends when that phase ended.

    ``error`` is why the try failed: the recheck's exception, the first
    Check's in a dry run, or ``__init__``'s when the instance could not be
    made (then there are no phases). None when the try passed, or when
    it was cut short by an interrupt (``outcome`` is then None).
    """

    number: int
    outcome: Outcome | None
    start: float
    seconds: float
    phases: tuple[PhaseReport, ...]
    error: JobError | None

    def phase(self, name: Phase) -> PhaseReport | None:
        """The phase called ``name`` (check, run or recheck), if this try had it."""
        for phase in self.phases:
            if phase.phase == name:
                return phase
        return None

    def to_dict(self) -> dict[str, Any]:
        """``{"try", "outcome", "start", "seconds", "error", "phases"}``."""
        return {
            "try": self.number,
            "outcome": None if self.outcome is None else self.outcome.value,
            "start": round(self.start, 6),
            "seconds": round(self.seconds, 6),
            "error": _error_dict(self.error),
            "phases": [phase.to_dict() for phase in self.phases],
        }


@dataclass(frozen=True)
class JobReport:
    """How one job of the run ended.

    ``tries`` counts the tries started; ``seconds`` is the time spent inside
    them (instance creation, Check, Run, recheck), summed over tries, without
    the waits for RETRY_DELAY. ``error`` is set for failed jobs only: a
    blocked job was never tried, so it has no error of its own, and an
    interrupted one's last try was cut short before it could fail.
    ``history`` tells each try's story, oldest first. ``no_act`` is True in
    a dry run, where ``label`` tells a job that would run from a failure.
    """

    name: str
    outcome: Outcome
    tries: int
    seconds: float
    error: JobError | None
    history: tuple[TryReport, ...] = ()
    no_act: bool = False

    @property
    def label(self) -> str:
        """The outcome as the report shows it: ``outcome.value``, except in a
        dry run, where a failed Check is ``would_run`` and a job never tried
        ``not_checked``."""
        if self.no_act:
            if self.outcome is Outcome.BLOCKED:
                return NOT_CHECKED
            if self.outcome is Outcome.FAILED and self.history and self.history[-1].phases:
                return WOULD_RUN
        return self.outcome.value

    @property
    def run_error(self) -> JobError | None:
        """The error the Run of the last try raised, if it raised."""
        if not self.history:
            return None
        run = self.history[-1].phase("run")
        return None if run is None else run.error

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: ``outcome`` is the ``label``; ``error`` is
        ``{"type", "message"}`` or None; ``history`` lists the tries."""
        return {
            "name": self.name,
            "outcome": self.label,
            "tries": self.tries,
            "seconds": round(self.seconds, 6),
            "error": _error_dict(self.error),
            "history": [one.to_dict() for one in self.history],
        }


def _error_dict(error: JobError | None) -> dict[str, str] | None:
    return None if error is None else error.to_dict()


_TYPE_NAMES: dict[type, str] = {}


def _type_name(kind: type) -> str:
    # Cached: a graph of many jobs failing alike would otherwise hold one
    # copy of the same name per job.
    name = _TYPE_NAMES.get(kind)
    if name is None:
        name = _TYPE_NAMES[kind] = type_name(kind)
    return name

