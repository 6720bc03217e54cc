"""DoJobber: run small idempotent Job classes in dependency order.

Write a Job per task (``Check`` verifies, ``Run`` fixes, ``DEPS`` names what
must pass first), then ``DoJobber().configure(Root)`` and ``checknrun()``.
"""

from typing import TYPE_CHECKING, Any

# First: in the dojobber command, a Ctrl-C or SIGTERM while it loads is noted
# for cli.main, not a traceback (stopping.py).
from .stopping import note_early_stops

note_early_stops()
del note_early_stops

from .dojobber import DoJobber
from .errors import (
    ConfigurationError,
    DependencyCycleError,
    DoJobberError,
    DoJobberWarning,
    DuplicateJobNameError,
    ExecutorError,
    InfiniteTriesError,
    JobTimeoutError,
    JobTypeError,
    NamelessJobError,
    NotConfiguredError,
    RenderError,
    RetrySettingError,
    RunDuringImportError,
    TransferError,
    UnknownJobError,
    WorkerLostError,
)
from .events import Observer
from .jobs import DummyJob, Job, RunonlyJob
from .results import Outcome
from .version import VERSION, __version__

if TYPE_CHECKING:
    from .eventlog import EventLog


__all__ = [
    "ConfigurationError",
    "DependencyCycleError",
    "DoJobber",
    "DoJobberError",
    "DoJobberWarning",
    "DummyJob",
    "EventLog",
    "DuplicateJobNameError",
    "ExecutorError",
    "InfiniteTriesError",
    "Job",
    "JobTimeoutError",
    "JobTypeError",
    "NamelessJobError",
    "NotConfiguredError",
    "Observer",
    "Outcome",
    "RenderError",
    "RetrySettingError",
    "RunDuringImportError",
    "RunonlyJob",
    "TransferError",
    "UnknownJobError",
    "VERSION",
    "WorkerLostError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # EventLog (and the report classes and JSON behind it) load on first
    # use: ``import dojobber`` stays light for the runs that never log events.
    if name == "EventLog":
        from .eventlog import EventLog

        return EventLog
    raise AttributeError(f"module 'dojobber' has no attribute {name!r}")
