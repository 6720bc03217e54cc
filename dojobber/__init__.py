"""DoJobber: run small idempotent Job classes in dependency order.

Write a Job per task (``Check`` verifies, ``Run`` fixes, ``DEPS`` names what
must pass first), then ``DoJobber().configure(Root)`` and ``checknrun()``.
"""

from .dojobber import DoJobber
from .errors import (
    ConfigurationError,
    DependencyCycleError,
    DoJobberError,
    DoJobberWarning,
    DuplicateJobNameError,
    ExecutorError,
    JobTimeoutError,
    JobTypeError,
    RenderError,
    TransferError,
    WorkerLostError,
)
from .eventlog import EventLog
from .events import Observer, Outcome
from .jobs import DummyJob, Job, RunonlyJob

__version__ = "1.0.0"
VERSION = tuple(int(part) for part in __version__.split("."))

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
    "Job",
    "JobTimeoutError",
    "JobTypeError",
    "Observer",
    "Outcome",
    "RenderError",
    "RunonlyJob",
    "TransferError",
    "VERSION",
    "WorkerLostError",
    "__version__",
]
